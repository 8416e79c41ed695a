//! Unit tests of the configuration reader.

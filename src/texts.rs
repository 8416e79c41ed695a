//! User-visible texts that are not tied to a single layer's error type.

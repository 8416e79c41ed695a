//! User-visible texts of the configuration layer (Exim 4.96's wording).
//!
//! Texts that take arguments are built where the arguments are known, with
//! the wording kept close to this file's constants so they can be compared
//! with Exim's readconf.c messages.

/// Appended to "extra characters follow ..." when the extra text is a `#`.
pub const COMMENT_ONLY_AT_LINE_START: &str = " (# is comment only at line start)";

pub const UNEXPECTED_BOM: &str = "found unexpected BOM (Byte Order Mark)";
pub const ENDIF_MISSING: &str = "Unexpected end of configuration file: .endif missing";
pub const MALFORMED_MACRO: &str = "malformed macro definition";
pub const UNRECOGNIZED_LINE: &str = "unrecognized configuration line";
pub const NEGATION_NON_BOOLEAN: &str = "negation prefix applied to a non-boolean option";

pub fn main_option_unknown(name: &str) -> String {
    format!("main option \"{name}\" unknown")
}

pub fn driver_option_unknown(name: &str) -> String {
    format!("option \"{name}\" unknown")
}

pub fn macro_name_too_long(max: usize) -> String {
    format!("macro name too long (maximum is {max} characters)")
}

/// The heading line of Exim's configuration error report.
pub fn error_heading(line: usize, file: &str) -> String {
    format!("Exim configuration error in line {line} of {file}:")
}

/// The first line of `-bV` output.
pub const VERSION_LINE: &str = "Exim version 4.96 #0 built 01-Jan-2026 00:00:00";
pub const COPYRIGHT_LINES: &str = "Copyright (c) University of Cambridge, 1995 - 2018\n\
(c) The Exim Maintainers and contributors in ACKNOWLEDGMENTS file, 2007 - 2022\n\
rexim: an Exim-compatible mail server core in Rust";

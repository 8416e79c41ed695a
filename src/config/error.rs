//! The configuration layer's error type.

use std::fmt;

use super::texts;

/// Why a configuration could not be read. `Display` is Exim's text:
/// `Exim configuration error in line N of FILE:\n  MESSAGE` (or just the
/// message for errors that are not tied to a line).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// File and line the error is reported at (None: not tied to a line).
    pub file: Option<String>,
    pub line: usize,
    pub message: String,
    /// Beyond Exim: the logical line and the byte column of the problem,
    /// for the caret display (`caret()`).
    pub source_line: Option<String>,
    pub column: Option<usize>,
    /// Not a configuration error heading (e.g. a missing file).
    pub bare: bool,
    /// Exim logs this one with LOG_PANIC rather than LOG_PANIC_DIE.
    pub panic_only: bool,
    /// log_file_path as far as it had been read, for the panic log.
    pub log_file_path: Option<String>,
    /// log_timezone as far as it had been read (timestamps get the zone).
    pub log_timezone: bool,
    /// A driver init error: "NAME router" for Exim's "error for ...:" heading.
    pub driver: Option<String>,
}

impl ConfigError {
    /// An error at a line of a file.
    pub fn at(file: &str, line: usize, message: impl Into<String>) -> ConfigError {
        ConfigError { file: Some(file.to_string()), line, message: message.into(), source_line: None, column: None, bare: false, panic_only: false, log_file_path: None, log_timezone: false, driver: None }
    }

    /// A configuration error that is not tied to a line.
    pub fn general(message: impl Into<String>) -> ConfigError {
        ConfigError { file: None, line: 0, message: message.into(), source_line: None, column: None, bare: false, panic_only: false, log_file_path: None, log_timezone: false, driver: None }
    }

    /// An error found by a driver's init function ("NAME router").
    pub fn for_driver(driver: String, message: impl Into<String>) -> ConfigError {
        ConfigError { driver: Some(driver), ..ConfigError::general(message) }
    }

    /// An error that is not a configuration error (missing file and so on).
    pub fn plain(message: impl Into<String>) -> ConfigError {
        ConfigError { bare: true, ..ConfigError::general(message) }
    }

    pub fn with_source(mut self, source_line: &str, column: usize) -> ConfigError {
        self.source_line = Some(source_line.to_string());
        self.column = Some(column);
        self
    }

    /// Beyond Exim: the offending line with a caret under the column, for
    /// humans (printed only to a terminal, so recorded outputs stay Exim's).
    pub fn caret(&self) -> Option<String> {
        let line = self.source_line.as_ref()?;
        let col = self.column.unwrap_or(0).min(line.len());
        let pad: String = line[..col].chars().map(|c| if c == '\t' { '\t' } else { ' ' }).collect();
        Some(format!("  {line}\n  {pad}^"))
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.file {
            Some(file) => write!(f, "{}\n  {}", texts::error_heading(self.line, file), self.message),
            None if self.bare => write!(f, "{}", self.message),
            None if self.driver.is_some() => {
                write!(f, "Exim configuration error for {}:\n  {}", self.driver.as_deref().unwrap_or(""), self.message)
            }
            None => write!(f, "Exim configuration error:\n  {}", self.message),
        }
    }
}

impl std::error::Error for ConfigError {}

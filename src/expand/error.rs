/// Why an expansion did not produce a string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExpandError {
    /// An error; the text is Exim's, as `-be` prints it after "Failed: ".
    Failed(String),
    /// A forced failure (`fail` in `${if}`, `${lookup}`...), with its text.
    ForcedFail(String),
}

impl ExpandError {
    pub fn message(&self) -> &str {
        match self {
            ExpandError::Failed(m) | ExpandError::ForcedFail(m) => m,
        }
    }

    pub fn is_forced(&self) -> bool {
        matches!(self, ExpandError::ForcedFail(_))
    }

    /// Errors from a subcondition name the condition they are in.
    pub fn inside_condition(self, what: &str) -> Self {
        match self {
            ExpandError::Failed(m) => ExpandError::Failed(format!("{m} inside \"{what}\" condition")),
            forced => forced,
        }
    }

    /// Exim adds the name of a list-processing item to errors from within.
    pub fn inside(self, item: &str) -> Self {
        match self {
            ExpandError::Failed(m) => ExpandError::Failed(format!("{m} inside \"{item}\" item")),
            forced => forced,
        }
    }
}

impl std::fmt::Display for ExpandError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.message())
    }
}

impl std::error::Error for ExpandError {}

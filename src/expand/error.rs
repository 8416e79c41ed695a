/// Why an expansion did not produce a string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExpandError {
    /// An error; the text is Exim's, as `-be` prints it after "Failed: ".
    Failed(String),
    /// A forced failure (`fail` in `${if}` or `${lookup}`).
    ForcedFail,
}

//! The pest parser for the syntax of a logical configuration line
//! (grammar/config.pest).

#[derive(pest_derive::Parser)]
#[grammar = "../grammar/config.pest"]
pub struct LineParser;

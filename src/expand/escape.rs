//! Backslash escapes in expansion strings (Exim's string_interpret_escape).

/// Interpret the text after a backslash: `n`, `t`, octal `123`, hex `x41`...
/// Any other character stands for itself.
pub fn interpret_escape(after: &str) -> String {
    let mut chars = after.chars();
    let Some(c) = chars.next() else {
        return "\\".to_string();
    };
    let byte = match c {
        '0'..='7' => u32::from_str_radix(after, 8).unwrap_or(0),
        'x' if after.len() > 1 => u32::from_str_radix(&after[1..], 16).unwrap_or(0),
        'b' => 0x08,
        'f' => 0x0c,
        'n' => u32::from(b'\n'),
        'r' => u32::from(b'\r'),
        't' => u32::from(b'\t'),
        'v' => 0x0b,
        other => return other.to_string(),
    };
    // A byte above 0x7f is a byte, not the Latin-1 character.
    let byte = (byte & 0xff) as u8;
    if byte == 0 {
        crate::bytes::note_nul();
    }
    crate::bytes::byte_char(byte).to_string()
}

#[cfg(test)]
mod tests {
    use super::interpret_escape;

    #[test]
    fn escapes() {
        assert_eq!(interpret_escape("n"), "\n");
        assert_eq!(interpret_escape("101"), "A");
        assert_eq!(interpret_escape("x41"), "A");
        assert_eq!(interpret_escape("x"), "x");
        assert_eq!(interpret_escape("q"), "q");
        assert_eq!(interpret_escape("$"), "$");
        assert_eq!(&*crate::bytes::to_bytes(&interpret_escape("xff")), b"\xff");
        assert_eq!(&*crate::bytes::to_bytes(&interpret_escape("344")), b"\xe4");
    }
}

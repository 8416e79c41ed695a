//! Reading a message's data: DATA (dot-stuffed, ended by a line with a
//! single dot) and BDAT chunks (counted, no stuffing), both turned into
//! header lines and an LF-ended body as the spool keeps them.

/// Accumulates one message.
#[derive(Debug, Default)]
pub struct MessageData {
    /// Header lines, each with its continuation lines and final "\n".
    pub headers: Vec<String>,
    pub body: Vec<u8>,
    pub in_body: bool,
    pub body_linecount: u64,
    pub max_linelength: usize,
    /// Bytes as received, for the size limit (LF-ended lines).
    pub size: u64,
    /// Lines received (headers, separator and body).
    pub lines: u64,
    pub too_big: bool,
    pub has_nul: bool,
    /// The body began with a line that is not a header, with no blank
    /// line before it: Exim counts one it puts there.
    pub body_unseparated: bool,
    /// Under CHUNKING: the first line was a header ended by a bare LF.
    pub bare_lf_first: bool,
    /// ... and the line after it is complete: Exim gives up before the
    /// next byte, with this many header lines read.
    pub bare_lf_headers: Option<usize>,
    /// Header lines that rewriting replaced: where, and their old text.
    pub rewritten: Vec<(usize, String)>,
    /// The lines added at the end of the header lines, with their -H
    /// types: Exim's own for local input, X-rewrote- notes (deleted), and
    /// those the ACLs before DATA added.
    pub early: Vec<(char, String)>,
}

/// A header line starts with a field name and a colon. Exim takes bytes
/// above 127 into the name too (`verify = header_names_ascii` finds them).
fn is_header_start(line: &[u8]) -> bool {
    let name_len = line.iter().take_while(|c| **c >= 33 && **c != 127 && **c != b':').count();
    if name_len == 0 {
        return false;
    }
    let rest = &line[name_len..];
    let rest = &rest[rest.iter().take_while(|c| **c == b' ' || **c == b'\t').count()..];
    rest.first() == Some(&b':')
}

impl MessageData {
    /// One line of message content without its line end.
    pub fn add_line(&mut self, line: &[u8], limit: u64) {
        self.max_linelength = self.max_linelength.max(line.len());
        self.size += line.len() as u64 + 1;
        self.lines += 1;
        if limit > 0 && self.size > limit {
            self.too_big = true;
        }
        if self.too_big {
            return;
        }
        if line.contains(&0) {
            self.has_nul = true;
        }
        if !self.in_body {
            if line.is_empty() {
                self.end_headers();
                return;
            }
            if (line[0] == b' ' || line[0] == b'\t') && !self.headers.is_empty() {
                let last = self.headers.last_mut().expect("checked non-empty");
                last.push_str(&crate::bytes::from_bytes(line));
                last.push('\n');
                return;
            }
            if is_header_start(line) {
                self.drop_blank_continuations();
                // Bytes that are not UTF-8 are kept (crate::bytes).
                let mut h = crate::bytes::from_bytes(line).into_owned();
                h.push('\n');
                self.headers.push(h);
                return;
            }
            // Not a header: the body starts here, with no blank line.
            self.end_headers();
            self.body_unseparated = true;
        }
        self.body.extend_from_slice(line);
        self.body.push(b'\n');
        self.body_linecount += 1;
    }

    /// The header section is over (a blank line, a line that is not a
    /// header, or the end of the message).
    pub fn end_headers(&mut self) {
        self.drop_blank_continuations();
        self.in_body = true;
    }

    /// As Exim, continuation lines of white space only at the end of a
    /// header are dropped (those between other lines stay).
    fn drop_blank_continuations(&mut self) {
        let Some(h) = self.headers.last_mut() else { return };
        while let Some(body) = h.strip_suffix('\n') {
            let Some(nl) = body.rfind('\n') else { break };
            if !body[nl + 1..].bytes().all(|b| b == b' ' || b == b'\t' || b == b'\r') {
                break;
            }
            h.truncate(nl + 1);
        }
    }

    /// A header's value by name (first occurrence), unfolded.
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers.iter().find_map(|h| {
            let (n, v) = h.split_once(':')?;
            n.trim_end().eq_ignore_ascii_case(name).then(|| v.trim().replace("\n", ""))
        })
    }
}

/// Exim's one-letter type flag for a header line in the -H file.
pub fn header_flag(line: &str) -> char {
    let name = line.split(':').next().unwrap_or("").trim_end().to_ascii_lowercase();
    // The Resent- forms of these are typed as the plain ones.
    let name = match name.strip_prefix("resent-") {
        Some(rest @ ("bcc" | "cc" | "from" | "message-id" | "sender" | "to")) => rest,
        _ => name.as_str(),
    };
    match name {
        "bcc" => 'B',
        "cc" => 'C',
        "from" => 'F',
        "message-id" => 'I',
        "received" => 'P',
        "reply-to" => 'R',
        "sender" => 'S',
        "to" => 'T',
        _ => ' ',
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_and_body() {
        let mut m = MessageData::default();
        for l in [&b"Subject: hi"[..], b"\tthere", b"X-A : b", b"", b"body", b""] {
            m.add_line(l, 0);
        }
        assert_eq!(m.headers, vec!["Subject: hi\n\tthere\n", "X-A : b\n"]);
        assert_eq!(m.body, b"body\n\n");
        assert_eq!(m.body_linecount, 2);
        assert_eq!(m.header("subject").as_deref(), Some("hi\tthere"));
        let mut m = MessageData::default();
        m.add_line(b"no header here", 0);
        assert!(m.headers.is_empty());
        assert_eq!(m.body, b"no header here\n");
        assert_eq!(header_flag("Message-ID: <x>"), 'I');
    }
}

//! Rewriting the addresses of one header line (Exim's
//! rewrite_one_header()): each address is qualified when the client may
//! send unqualified ones (else left alone), then run through the rules.

use super::{flags::*, rewrite_one, RewriteEnv, Rules};
use crate::parse::{find_address_end, Parser};

/// The rewriting flag for a header of this -H type letter.
pub fn flag_for(htype: char) -> Option<u32> {
    Some(match htype {
        'S' => SENDER,
        'F' => FROM,
        'T' => TO,
        'C' => CC,
        'B' => BCC,
        'R' => REPLY_TO,
        _ => return None,
    })
}

/// How the addresses of a message's header lines are treated.
pub struct HeaderPolicy<'a> {
    pub rules: &'a Rules,
    pub allow_unqualified_sender: bool,
    pub allow_unqualified_recipient: bool,
    pub qualify_domain: &'a str,
    pub qualify_recipient: &'a str,
    pub allow_domain_literals: bool,
}

/// The header line with its addresses rewritten; None when none changed.
pub fn rewrite_header(text: &str, flag: u32, policy: &HeaderPolicy, env: &mut dyn RewriteEnv) -> Option<String> {
    let colon = text.find(':')? + 1;
    let mut cur = text.to_string();
    let mut s = skip_space(cur.as_bytes(), colon);
    let mut last_newline = 0;
    let mut changed_any = false;
    // Group syntax ("name: a, b;") spans addresses.
    let (mut allow_group, mut found_group) = (true, false);
    let is_recipient = flag & (SENDER | FROM | REPLY_TO) == 0;
    while s < cur.len() {
        let b = cur.as_bytes();
        let ss = s + find_address_end(&b[s..], false);
        let item = cur[s..ss].to_string();
        let sprev = s;
        s = skip_space(b, ss + usize::from(ss < b.len()));
        let mut parser = Parser::new(policy.allow_domain_literals);
        (parser.allow_group, parser.found_group) = (allow_group, found_group);
        let extracted = parser.extract_address(item.as_bytes(), false);
        (allow_group, found_group) = (parser.allow_group, parser.found_group);
        let ex = match extracted {
            Ok(ex) => ex,
            Err(e) => {
                if !policy.rules.is_empty() && e != "empty address" {
                    env.log_main(&format!("rewrite: {e}"));
                }
                continue;
            }
        };
        let address = crate::bytes::utf8_buffer(ex.address);
        let (mut start, mut end) = (ex.start, ex.end);
        let mut new = address.clone();
        if ex.domain == 0 && !address.is_empty() {
            // Unqualified addresses are left alone (not even rewritten)
            // from a client that may not send them.
            let allowed = if is_recipient { policy.allow_unqualified_recipient } else { policy.allow_unqualified_sender };
            if !allowed {
                continue;
            }
            let domain = if is_recipient { policy.qualify_recipient } else { policy.qualify_domain };
            new = format!("{address}@{domain}");
        }
        if policy.rules.exist & flag != 0 {
            let r = rewrite_one(policy.rules, &new, flag, env);
            if r.whole {
                (start, end) = (0, item.len());
            }
            new = r.address;
        }
        if new == address && (start, end) == (ex.start, ex.end) {
            continue;
        }
        changed_any = true;
        let (old_len, new_len) = (end - start, new.len());
        let mut next = String::with_capacity(cur.len() + new_len + 4);
        next.push_str(&cur[..sprev + start]);
        next.push_str(&new);
        next.push_str(&cur[sprev + end..s]);
        // A line that grew long gets a break after the address (Exim
        // does not look for the breaks already in it).
        let at_break = cur.as_bytes().get(s.wrapping_sub(1)) == Some(&b'\n');
        if s < cur.len() && !at_break && new_len > old_len && next.len() - last_newline > 40 {
            next.push_str("\n\t");
            last_newline = next.len();
        }
        let resume = next.len();
        next.push_str(&cur[s..]);
        cur = next;
        s = resume;
    }
    changed_any.then_some(cur)
}

fn skip_space(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && b[i].is_ascii_whitespace() {
        i += 1;
    }
    i
}

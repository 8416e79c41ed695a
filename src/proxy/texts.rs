//! User-visible texts of the PROXY layer.

use super::error::ErrorKind;

/// The reply to every command but QUIT after a failed negotiation.
pub const REFUSED: &str = "503 Command refused, required Proxy negotiation failed";

/// Exim's debug line (-d+receive) for each failure; ours where Exim has none.
pub fn error_text(kind: &ErrorKind) -> String {
    use ErrorKind::*;
    match kind {
        NotProxy => "Invalid proxy protocol version negotiation".into(),
        V1BadLineEnd => "Partial or invalid PROXY header".into(),
        V1TooLong => "PROXYv1 header longer than its limit".into(),
        V1NoSpaceAfterProxy => "Missing space after PROXY command".into(),
        V1BadProtocol => "Invalid TCP type".into(),
        V1NoSpaceAfterProtocol => "Missing space after TCP4/6 command".into(),
        V1NoSource(t) => format!("Did not find proxied src {t}"),
        V1BadSource(t) => format!("Proxied src arg is not an {t} address"),
        V1NoDestination(t) => format!("Did not find proxy dest {t}"),
        V1BadDestination(t) => format!("Proxy dest arg is not an {t} address"),
        V1NoSourcePort => "Did not find proxied src port".into(),
        V1BadSourcePort(p) => format!("Proxied src port '{p}' not an integer"),
        V1BadDestinationPort(p) => format!("Proxy dest port '{p}' not an integer"),
        V1ScopedAddress => "Proxied address has a scope id".into(),
        V1NotStrict(why) => format!("PROXYv1 header not strictly formed: {why}"),
        V2BadVersion(v) => format!("Invalid Proxy Protocol version: {v}"),
        V2TooLarge(_) => "PROXYv2 header size unreasonably large; security attack?".into(),
        V2BadCommand(c) => format!("Unsupported PROXYv2 command: 0x{c:x}"),
        V2BadFamily(f) => format!("Unsupported PROXYv2 connection type: 0x{f:02x}"),
        V2ShortAddresses { family, len } => format!("PROXYv2 {family} payload too short ({len})"),
        V2BadTlv(why) => format!("PROXYv2 TLV error: {why}"),
        V2BadCrc { sent, computed } => {
            format!("PROXYv2 CRC32C mismatch: header says {sent:08x}, computed {computed:08x}")
        }
        Timeout => "Timeout while reading proxy header".into(),
        Eof => "Connection closed while reading proxy header".into(),
        Io(e) => format!("Error reading proxy header: {e}"),
    }
}

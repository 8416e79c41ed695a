//! What the SMTP session does with a PROXY negotiation, as Exim 4.96:
//! the variables it sets, the replies after a failure, the PRX= log field.
//! docs/proxy.md gives the calling sequence.

use std::time::Duration;

use super::error::ProxyError;
use super::header::{Command, Header};
use super::texts::REFUSED;
use super::tlv::Tlvs;

/// The main options of this layer. `hosts_proxy` (alias
/// `proxy_required_hosts`) is a host list the session matches itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyOptions {
    /// proxy_protocol_timeout, default 3s.
    pub proxy_protocol_timeout: Duration,
    /// smtp_accept_max_per_host_proxied (rexim only, default false): count
    /// a proxied connection against the real client's address for
    /// smtp_accept_max_per_host, once the header has named it.
    pub smtp_accept_max_per_host_proxied: bool,
}

impl Default for ProxyOptions {
    fn default() -> Self {
        ProxyOptions { proxy_protocol_timeout: Duration::from_secs(3), smtp_accept_max_per_host_proxied: false }
    }
}

/// The connection's addresses after negotiation: Exim's sender_host_*,
/// proxy_* and proxy_session_failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyState {
    /// $proxy_session: the peer is in hosts_proxy.
    pub proxy_session: bool,
    /// Exim's f.proxy_session_failed: every command but QUIT gets 503.
    pub failed: bool,
    pub sender_host_address: String,
    pub sender_host_port: i32,
    /// The proxy's own address and port (the TCP peer) once a header
    /// named a client; unset (empty) otherwise.
    pub proxy_local_address: Option<String>,
    pub proxy_local_port: i32,
    /// Where the client connected to on the proxy.
    pub proxy_external_address: Option<String>,
    pub proxy_external_port: i32,
    pub tlvs: Tlvs,
    /// The failure, for the session's debug output.
    pub error: Option<ProxyError>,
}

impl ProxyState {
    /// A connection from a host not in hosts_proxy.
    pub fn direct(peer_address: &str, peer_port: i32) -> Self {
        ProxyState {
            proxy_session: false,
            failed: false,
            sender_host_address: peer_address.to_string(),
            sender_host_port: peer_port,
            proxy_local_address: None,
            proxy_local_port: 0,
            proxy_external_address: None,
            proxy_external_port: 0,
            tlvs: Tlvs::default(),
            error: None,
        }
    }

    /// A connection from a hosts_proxy host, after `read_header_tcp`.
    pub fn negotiated(peer_address: &str, peer_port: i32, outcome: Result<Header, ProxyError>) -> Self {
        let mut s = ProxyState::direct(peer_address, peer_port);
        s.proxy_session = true;
        match outcome {
            Ok(h) => {
                if let (Command::Proxy, Some(e)) = (h.command, h.endpoints) {
                    s.proxy_local_address = Some(std::mem::take(&mut s.sender_host_address));
                    s.proxy_local_port = s.sender_host_port;
                    s.sender_host_address = e.source;
                    s.sender_host_port = e.source_port;
                    s.proxy_external_address = Some(e.destination);
                    s.proxy_external_port = e.destination_port;
                }
                s.tlvs = h.tlvs;
            }
            Err(e) => {
                // Exim has already assigned the v1 fields it read before
                // the fault, and the ACLs see them.
                if let Some(src) = &e.partial.source {
                    s.proxy_local_address = Some(std::mem::replace(&mut s.sender_host_address, src.clone()));
                }
                s.proxy_external_address = e.partial.destination.clone();
                if let Some(port) = e.partial.source_port {
                    s.proxy_local_port = s.sender_host_port;
                    s.sender_host_port = port;
                }
                s.failed = true;
                s.error = Some(e);
            }
        }
        s
    }

    /// After any good header (LOCAL and UNKNOWN too) Exim forgets the host
    /// name and looks up sender_host_address's again (host_name_lookup),
    /// whatever host_lookup says: a miss logs "no host name found for IP
    /// address ..." (recorded: v1-tcp4).
    pub fn needs_host_lookup(&self) -> bool {
        self.proxy_session && !self.failed
    }

    /// A header named a client other than the TCP peer.
    pub fn proxied(&self) -> bool {
        self.proxy_session && !self.failed && self.proxy_local_address.is_some()
    }

    /// The reply to a command in a failed session, None to go on as usual.
    /// `verb` is the command's first word; QUIT in any case passes.
    pub fn refusal(&self, verb: &str) -> Option<&'static str> {
        (self.failed && !verb.eq_ignore_ascii_case("QUIT")).then_some(REFUSED)
    }

    /// The ` PRX=addr` field of the `<=` line under log_selector +proxy.
    /// Exim 4.96 writes PRX= for any proxy session and crashes when the
    /// header was LOCAL/UNKNOWN (no proxy address); rexim leaves it out.
    pub fn log_prx(&self, log_proxy: bool) -> Option<String> {
        let a = self.proxy_local_address.as_deref().filter(|_| log_proxy && self.proxy_session)?;
        Some(format!(" PRX={a}"))
    }

    /// The address to count for smtp_accept_max_per_host: the TCP peer, or
    /// the real client when smtp_accept_max_per_host_proxied is set and
    /// the header named one.
    pub fn address_to_count<'a>(&'a self, opts: &ProxyOptions, peer_address: &'a str) -> &'a str {
        if opts.smtp_accept_max_per_host_proxied && self.proxied() {
            &self.sender_host_address
        } else {
            peer_address
        }
    }

    /// The variables of this layer, by name: Exim's, the seed's aliases
    /// ($proxy_host_* = $proxy_local_*, $proxy_target_* =
    /// $proxy_external_*), and rexim's $proxy_tlv_*. None: not ours.
    pub fn variable(&self, name: &str) -> Option<String> {
        let opt = |a: &Option<String>| a.clone().unwrap_or_default();
        let tlv = |v: &Option<String>| v.clone().unwrap_or_default();
        let ssl = self.tlvs.ssl.as_ref();
        Some(match name {
            "proxy_session" => if self.proxy_session { "yes" } else { "no" }.to_string(),
            "proxy_local_address" | "proxy_host_address" => opt(&self.proxy_local_address),
            "proxy_local_port" | "proxy_host_port" => self.proxy_local_port.to_string(),
            "proxy_external_address" | "proxy_target_address" => opt(&self.proxy_external_address),
            "proxy_external_port" | "proxy_target_port" => self.proxy_external_port.to_string(),
            "proxy_tlv_alpn" => self.tlvs.alpn.as_deref().map(printable_or_hex).unwrap_or_default(),
            "proxy_tlv_authority" => tlv(&self.tlvs.authority),
            "proxy_tlv_unique_id" => self.tlvs.unique_id.as_deref().map(printable_or_hex).unwrap_or_default(),
            "proxy_tlv_netns" => tlv(&self.tlvs.netns),
            "proxy_tlv_ssl" => if ssl.is_some_and(|s| s.client & 1 != 0) { "yes" } else { "no" }.to_string(),
            "proxy_tlv_ssl_verified" => {
                if ssl.is_some_and(|s| s.client & 0x02 != 0 && s.verify == 0) { "yes" } else { "no" }.to_string()
            }
            "proxy_tlv_ssl_version" => ssl.map(|s| tlv(&s.version)).unwrap_or_default(),
            "proxy_tlv_ssl_cn" => ssl.map(|s| tlv(&s.cn)).unwrap_or_default(),
            "proxy_tlv_ssl_cipher" => ssl.map(|s| tlv(&s.cipher)).unwrap_or_default(),
            "proxy_tlv_ssl_sig_alg" => ssl.map(|s| tlv(&s.sig_alg)).unwrap_or_default(),
            "proxy_tlv_ssl_key_alg" => ssl.map(|s| tlv(&s.key_alg)).unwrap_or_default(),
            _ => return None,
        })
    }
}

/// Opaque TLV bytes as text when they are printable ASCII, else as
/// lower-case hex, so a variable never carries control bytes.
fn printable_or_hex(v: &[u8]) -> String {
    if v.iter().all(|&b| (0x20..0x7f).contains(&b)) {
        String::from_utf8_lossy(v).into_owned()
    } else {
        v.iter().map(|b| format!("{b:02x}")).collect()
    }
}

//! The table of expansion variables (spec section "Expansion variables").
//!
//! Sorted by name for binary search. Each entry says what an empty
//! context (no connection, no message) yields; the SMTP session and the
//! message supply the real values through `Context::variable`.

/// A variable reference, resolved when the string is compiled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VarRef {
    /// A variable of the table, or a family member (`$acl_c0`, `$acl_arg1`).
    Named(Box<str>),
    /// `$0`...`$9` and beyond: regex captures.
    Numeric(usize),
    /// `$value`, set by lookups and some conditions.
    Value,
    /// `$item`, set by the list-processing items.
    Item,
}

/// What a variable yields where nothing has set it.
#[derive(Debug, Clone, Copy)]
pub enum Default {
    Empty,
    Fixed(&'static str),
    /// Computed from the configuration or the process (see `BaseContext`).
    Computed,
}

pub static VARIABLES: &[(&str, Default)] = &[
    ("acl_narg", Default::Fixed("0")),
    ("acl_verify_message", Default::Empty),
    ("address_data", Default::Empty),
    ("address_file", Default::Empty),
    ("address_pipe", Default::Empty),
    ("authenticated_fail_id", Default::Empty),
    ("authenticated_id", Default::Computed),
    ("authenticated_sender", Default::Computed),
    ("authentication_failed", Default::Fixed("0")),
    ("av_failed", Default::Fixed("0")),
    ("body_linecount", Default::Fixed("0")),
    ("body_zerocount", Default::Fixed("0")),
    ("bounce_recipient", Default::Empty),
    ("bounce_return_size_limit", Default::Computed),
    ("caller_gid", Default::Computed),
    ("caller_uid", Default::Computed),
    ("callout_address", Default::Empty),
    ("compile_date", Default::Computed),
    ("compile_number", Default::Computed),
    ("config_dir", Default::Computed),
    ("config_file", Default::Computed),
    ("csa_status", Default::Empty),
    ("dkim_algo", Default::Empty),
    ("dkim_bodylength", Default::Fixed("9999999999999")),
    ("dkim_canon_body", Default::Empty),
    ("dkim_canon_headers", Default::Empty),
    ("dkim_copiedheaders", Default::Empty),
    ("dkim_created", Default::Fixed("0")),
    ("dkim_cur_signer", Default::Empty),
    ("dkim_domain", Default::Empty),
    ("dkim_expires", Default::Fixed("9999999999999")),
    ("dkim_headernames", Default::Empty),
    ("dkim_identity", Default::Empty),
    ("dkim_key_granularity", Default::Fixed("*")),
    ("dkim_key_length", Default::Fixed("0")),
    ("dkim_key_nosubdomains", Default::Fixed("0")),
    ("dkim_key_notes", Default::Empty),
    ("dkim_key_srvtype", Default::Fixed("*")),
    ("dkim_key_testing", Default::Fixed("0")),
    ("dkim_selector", Default::Empty),
    ("dkim_signers", Default::Empty),
    ("dkim_verify_reason", Default::Empty),
    ("dkim_verify_status", Default::Empty),
    ("dnslist_domain", Default::Empty),
    ("dnslist_matched", Default::Empty),
    ("dnslist_text", Default::Empty),
    ("dnslist_value", Default::Empty),
    ("domain", Default::Empty),
    ("domain_data", Default::Empty),
    ("event_data", Default::Empty),
    ("event_defer_errno", Default::Fixed("0")),
    ("event_name", Default::Empty),
    ("exim_gid", Default::Computed),
    ("exim_path", Default::Computed),
    ("exim_uid", Default::Computed),
    ("exim_version", Default::Computed),
    ("headers_added", Default::Empty),
    ("home", Default::Empty),
    ("host", Default::Empty),
    ("host_address", Default::Empty),
    ("host_data", Default::Empty),
    ("host_lookup_deferred", Default::Fixed("0")),
    ("host_lookup_failed", Default::Fixed("0")),
    ("host_port", Default::Fixed("0")),
    ("initial_cwd", Default::Computed),
    ("inode", Default::Fixed("0")),
    ("interface_address", Default::Empty),
    ("interface_port", Default::Fixed("-1")),
    ("ldap_dn", Default::Empty),
    ("load_average", Default::Computed),
    ("local_part", Default::Empty),
    ("local_part_data", Default::Empty),
    ("local_part_prefix", Default::Empty),
    ("local_part_prefix_v", Default::Empty),
    ("local_part_suffix", Default::Empty),
    ("local_part_suffix_v", Default::Empty),
    ("local_scan_data", Default::Empty),
    ("local_user_gid", Default::Computed),
    ("local_user_uid", Default::Computed),
    ("localhost_number", Default::Fixed("0")),
    ("log_inodes", Default::Computed),
    ("log_space", Default::Computed),
    ("lookup_dnssec_authenticated", Default::Empty),
    ("mailstore_basename", Default::Empty),
    ("malware_name", Default::Empty),
    ("max_received_linelength", Default::Fixed("0")),
    ("message_age", Default::Fixed("0")),
    ("message_body", Default::Empty),
    ("message_body_end", Default::Empty),
    ("message_body_size", Default::Fixed("0")),
    ("message_exim_id", Default::Empty),
    ("message_headers", Default::Empty),
    ("message_headers_raw", Default::Empty),
    ("message_id", Default::Empty),
    ("message_linecount", Default::Fixed("0")),
    ("message_size", Default::Fixed("0")),
    ("mime_anomaly_level", Default::Fixed("0")),
    ("mime_anomaly_text", Default::Empty),
    ("mime_boundary", Default::Empty),
    ("mime_charset", Default::Empty),
    ("mime_content_description", Default::Empty),
    ("mime_content_disposition", Default::Empty),
    ("mime_content_id", Default::Empty),
    ("mime_content_size", Default::Fixed("0")),
    ("mime_content_transfer_encoding", Default::Empty),
    ("mime_content_type", Default::Empty),
    ("mime_decoded_filename", Default::Empty),
    ("mime_filename", Default::Empty),
    ("mime_is_coverletter", Default::Fixed("0")),
    ("mime_is_multipart", Default::Fixed("0")),
    ("mime_is_rfc822", Default::Fixed("0")),
    ("mime_part_count", Default::Fixed("-1")),
    ("original_domain", Default::Empty),
    ("original_local_part", Default::Empty),
    ("originator_gid", Default::Computed),
    ("originator_uid", Default::Computed),
    ("parent_domain", Default::Empty),
    ("parent_local_part", Default::Empty),
    ("pid", Default::Computed),
    ("prdr_requested", Default::Fixed("no")),
    ("primary_hostname", Default::Computed),
    ("proxy_external_address", Default::Empty),
    ("proxy_external_port", Default::Fixed("0")),
    ("proxy_host_address", Default::Empty),
    ("proxy_host_port", Default::Fixed("0")),
    ("proxy_local_address", Default::Empty),
    ("proxy_local_port", Default::Fixed("0")),
    ("proxy_session", Default::Fixed("no")),
    ("proxy_target_address", Default::Empty),
    ("proxy_target_port", Default::Fixed("0")),
    ("proxy_tlv_alpn", Default::Empty),
    ("proxy_tlv_authority", Default::Empty),
    ("proxy_tlv_netns", Default::Empty),
    ("proxy_tlv_ssl", Default::Empty),
    ("proxy_tlv_ssl_cipher", Default::Empty),
    ("proxy_tlv_ssl_cn", Default::Empty),
    ("proxy_tlv_ssl_key_alg", Default::Empty),
    ("proxy_tlv_ssl_sig_alg", Default::Empty),
    ("proxy_tlv_ssl_verified", Default::Empty),
    ("proxy_tlv_ssl_version", Default::Empty),
    ("proxy_tlv_unique_id", Default::Empty),
    ("prvscheck_address", Default::Empty),
    ("prvscheck_keynum", Default::Empty),
    ("prvscheck_result", Default::Empty),
    ("qualify_domain", Default::Computed),
    ("qualify_recipient", Default::Computed),
    ("queue_name", Default::Empty),
    ("queue_size", Default::Empty),
    ("rcpt_count", Default::Fixed("0")),
    ("rcpt_defer_count", Default::Fixed("0")),
    ("rcpt_fail_count", Default::Fixed("0")),
    ("received_count", Default::Fixed("0")),
    ("received_for", Default::Empty),
    ("received_ip_address", Default::Empty),
    ("received_port", Default::Fixed("-1")),
    ("received_protocol", Default::Empty),
    ("received_time", Default::Fixed("0")),
    ("recipient_data", Default::Empty),
    ("recipient_verify_failure", Default::Empty),
    ("recipients", Default::Empty),
    ("recipients_count", Default::Fixed("0")),
    ("regex_match_string", Default::Empty),
    ("reply_address", Default::Empty),
    ("return_path", Default::Empty),
    ("return_size_limit", Default::Computed),
    ("router_name", Default::Empty),
    ("runrc", Default::Fixed("0")),
    ("self_hostname", Default::Empty),
    ("sender_address", Default::Computed),
    ("sender_address_data", Default::Empty),
    ("sender_address_domain", Default::Computed),
    ("sender_address_local_part", Default::Computed),
    ("sender_data", Default::Empty),
    ("sender_fullhost", Default::Empty),
    ("sender_helo_dnssec", Default::Fixed("no")),
    ("sender_helo_name", Default::Empty),
    ("sender_host_address", Default::Empty),
    ("sender_host_authenticated", Default::Empty),
    ("sender_host_dnssec", Default::Fixed("no")),
    ("sender_host_name", Default::Empty),
    ("sender_host_port", Default::Fixed("0")),
    ("sender_ident", Default::Computed),
    ("sender_rate", Default::Empty),
    ("sender_rate_limit", Default::Empty),
    ("sender_rate_period", Default::Empty),
    ("sender_rcvhost", Default::Empty),
    ("sender_verify_failure", Default::Empty),
    ("sending_ip_address", Default::Empty),
    ("sending_port", Default::Fixed("-1")),
    ("smtp_active_hostname", Default::Computed),
    ("smtp_command", Default::Empty),
    ("smtp_command_argument", Default::Empty),
    ("smtp_command_history", Default::Empty),
    ("smtp_count_at_connection_start", Default::Fixed("0")),
    ("smtp_notquit_reason", Default::Empty),
    ("spam_action", Default::Empty),
    ("spam_bar", Default::Empty),
    ("spam_report", Default::Empty),
    ("spam_score", Default::Empty),
    ("spam_score_int", Default::Empty),
    ("spf_guess", Default::Fixed("v=spf1 a/24 mx/24 ptr ?all")),
    ("spf_header_comment", Default::Empty),
    ("spf_received", Default::Empty),
    ("spf_result", Default::Empty),
    ("spf_result_guessed", Default::Fixed("no")),
    ("spf_smtp_comment", Default::Empty),
    ("spool_directory", Default::Computed),
    ("spool_inodes", Default::Computed),
    ("spool_space", Default::Computed),
    ("srs_recipient", Default::Empty),
    ("thisaddress", Default::Empty),
    ("tls_bits", Default::Fixed("0")),
    ("tls_certificate_verified", Default::Fixed("0")),
    ("tls_cipher", Default::Empty),
    ("tls_in_bits", Default::Fixed("0")),
    ("tls_in_certificate_verified", Default::Fixed("0")),
    ("tls_in_cipher", Default::Empty),
    ("tls_in_cipher_std", Default::Empty),
    ("tls_in_ocsp", Default::Fixed("0")),
    ("tls_in_ourcert", Default::Empty),
    ("tls_in_peercert", Default::Empty),
    ("tls_in_peerdn", Default::Empty),
    ("tls_in_resumption", Default::Fixed("0")),
    ("tls_in_sni", Default::Empty),
    ("tls_in_ver", Default::Empty),
    ("tls_out_bits", Default::Fixed("0")),
    ("tls_out_certificate_verified", Default::Fixed("0")),
    ("tls_out_cipher", Default::Empty),
    ("tls_out_cipher_std", Default::Empty),
    ("tls_out_dane", Default::Fixed("no")),
    ("tls_out_ocsp", Default::Fixed("0")),
    ("tls_out_ourcert", Default::Empty),
    ("tls_out_peercert", Default::Empty),
    ("tls_out_peerdn", Default::Empty),
    ("tls_out_resumption", Default::Fixed("0")),
    ("tls_out_sni", Default::Empty),
    ("tls_out_tlsa_usage", Default::Fixed("0")),
    ("tls_out_ver", Default::Empty),
    ("tls_peerdn", Default::Empty),
    ("tls_sni", Default::Empty),
    ("tod_bsdinbox", Default::Computed),
    ("tod_epoch", Default::Computed),
    ("tod_epoch_l", Default::Computed),
    ("tod_full", Default::Computed),
    ("tod_log", Default::Computed),
    ("tod_logfile", Default::Computed),
    ("tod_zone", Default::Computed),
    ("tod_zulu", Default::Computed),
    ("transport_name", Default::Empty),
    ("verify_mode", Default::Empty),
    ("version_number", Default::Computed),
    ("warn_message_delay", Default::Empty),
    ("warn_message_recipients", Default::Empty),
];

/// Find a variable by name: a table entry or a member of a family.
pub fn resolve(name: &str) -> Option<VarRef> {
    if name == "value" {
        return Some(VarRef::Value);
    }
    if name == "item" {
        return Some(VarRef::Item);
    }
    if name.bytes().all(|b| b.is_ascii_digit()) {
        // Overlong numbers name a capture that never exists: empty.
        return Some(VarRef::Numeric(name.parse().unwrap_or(usize::MAX)));
    }
    if VARIABLES.binary_search_by(|(n, _)| n.cmp(&name)).is_ok() || is_family_member(name) {
        return Some(VarRef::Named(name.into()));
    }
    None
}

/// The value a variable has where no context sets it.
pub fn default_of(name: &str) -> Default {
    match VARIABLES.binary_search_by(|(n, _)| n.cmp(&name)) {
        Ok(i) => VARIABLES[i].1,
        Err(_) => Default::Empty,
    }
}

/// Numbered and named families: `$acl_c0`, `$acl_m_name`, `$acl_arg1`...
fn is_family_member(name: &str) -> bool {
    let digits_after = |prefix: &str| {
        name.strip_prefix(prefix)
            .is_some_and(|rest| !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_digit()))
    };
    if let Some(rest) = name.strip_prefix("acl_c").or_else(|| name.strip_prefix("acl_m")) {
        // The sixth character must be a digit or an underscore.
        return rest.starts_with(|c: char| c.is_ascii_digit() || c == '_');
    }
    // Router variables ($r_name), set by a router's "set" option.
    if name.strip_prefix("r_").is_some_and(|rest| !rest.is_empty()) {
        return true;
    }
    digits_after("acl_arg")
        || digits_after("auth")
        || digits_after("regex")
        || digits_after("n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted() {
        assert!(VARIABLES.windows(2).all(|w| w[0].0 < w[1].0));
    }

    #[test]
    fn families() {
        assert!(resolve("acl_c0").is_some());
        assert!(resolve("acl_m_name").is_some());
        assert!(resolve("acl_cx").is_none());
        assert!(resolve("acl_arg3").is_some());
        assert_eq!(resolve("12"), Some(VarRef::Numeric(12)));
        assert!(resolve("nonesuch").is_none());
    }
}

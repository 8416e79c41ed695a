//! The expansion parser and evaluator never panic, whatever the input:
//! random byte strings, and random strings built from the language's own
//! pieces so that the deeper paths are reached. Bounded: a few seconds.

use proptest::prelude::*;
use rexim::expand::{self, Context, ExpandError, Found, ListKind, RunResult};

/// A context with no side effects: no commands, no lookups.
struct Quiet;

impl Context for Quiet {
    fn variable(&self, name: &str) -> Option<String> {
        (name == "primary_hostname").then(|| "fuzz.example".to_string())
    }
    fn match_list(&mut self, _kind: ListKind, subject: &str, list: &str) -> Result<Option<Found>, ExpandError> {
        Ok(list.contains(subject).then(Found::default))
    }
    fn run(&mut self, _options: &str, _command: &str) -> Result<RunResult, ExpandError> {
        Err(ExpandError::Failed("no commands while fuzzing".into()))
    }
}

fn expand(s: &str) {
    // Evaluation may fail; it must not panic or hang.
    let _ = expand::expand_string(s, &mut Quiet);
}

const PIECES: &[&str] = &[
    "${", "}", "{", "$", "\\", ":", "\\N", "${if ", "eq", "{a}", "{b}", "${lc:", "${uc:", "${substr_",
    "${length_", "${hash_", "${nhash_", "1", "-2", "_", "${sg", "{[a-z]+}", "{(}", "${tr", "${map",
    "${reduce", "${filter", "${sort", "{<}", "$item", "$value", "${extract", " json", "{\"a\":1}",
    "[1,2]", "${listextract", "${eval:", "1+2*(3", "/0", "${mask:", "1.2.3.4/", "::1", "${ipv6norm:",
    "${reverse_ip:", "${addresses:", "<a@b>", "\"x y\"@z", "${base64d:", "${base62:", "${sha256:",
    "${hmac", "{md5}", "${prvs", "${prvscheck", "prvs=0123abcdef=a@b", "and{", "or{", "!", "forall",
    "forany_json", "def:", "h_subject:", "bool", "bool_lax", "match", "inlist", "crypteq", "fail",
    "${expand:", "\\$\\{lc:X\\}", "<;", ";", ",", "${listnamed:", "${time_eval:", "1h", "${time_interval:",
    "${rfc2047:", "${rfc2047d:", "=?utf-8?q?a=41?=", "${quote_local_part:", "${escape:", "\\x01",
    "\\777", "${acl{", "${lookup{", "lsearch", "{/dev/null}", "${readfile{", "${env{", "PATH", " ",
    "\\xff", "\\xc3", "\\x00", "ä", "€", "\u{10FFFF}", "{.}", "${from_utf8:", "${utf8clean:",
    "${rxquote:", "${escape8bit:", "${hexquote:", "${strlen:", "${md5:",
];

fn built() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(PIECES), 0..40).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_panics(s in "\\PC{0,80}") {
        expand(&s);
    }

    #[test]
    fn language_pieces_never_panic(s in built()) {
        expand(&s);
    }

    #[test]
    fn arbitrary_bytes_never_panic(b in prop::collection::vec(any::<u8>(), 0..80)) {
        expand(&rexim::bytes::from_bytes(&b));
    }

    /// Any bytes survive the value type, and Exim's operators cut them
    /// where Exim does: at byte offsets, a multibyte character or not.
    #[test]
    fn bytes_survive_and_cut_as_bytes(b in prop::collection::vec(1u8.., 0..40), n in 0usize..45) {
        let s = rexim::bytes::from_bytes(&b);
        prop_assert_eq!(&*rexim::bytes::to_bytes(&s), &b[..]);
        let escaped: String = b.iter().map(|c| format!("\\x{c:02x}")).collect();
        let halves = expand::expand_string(&format!("${{length_{n}:{escaped}}}|${{substr_{n}:{escaped}}}"), &mut Quiet).unwrap();
        let halves = rexim::bytes::to_bytes(&halves).into_owned();
        let cut = n.min(b.len());
        prop_assert_eq!(&halves[..cut], &b[..cut]);
        prop_assert_eq!(halves[cut], b'|');
        prop_assert_eq!(&halves[cut + 1..], &b[cut..]);
        let len = expand::expand_string(&format!("${{strlen:{escaped}}}"), &mut Quiet).unwrap();
        prop_assert_eq!(len, b.len().to_string());
    }
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    for n in [900, 5000, 200_000] {
        let deep = "${lc:".repeat(n) + &"}".repeat(n);
        expand(&deep);
        let args = "${if eq{a}{".repeat(n);
        expand(&args);
    }
    let self_expanding = "${expand:${expand:${expand:\\$\\{expand:x\\}}}}";
    expand(self_expanding);
}

//! Classes of tests for the compatibility report:
//! (a) only testing options (-be -bem -bh -bhc -bP -bV -bt -bv -brw -bf -bF),
//! (b) SMTP over stdin/stdout (-bs, -bS) without daemons, servers or
//!     deliveries,
//! (c) everything else: daemons, clients, servers, deliveries, queue runs.

use crate::script::{command_word, Script};

pub const CLASSES: &[(&str, &str)] = &[
    ("a", "testing options only (-be -bem -bh -bhc -bP -bV -bt -bv -brw -bf -bF)"),
    ("b", "-bs/-bS sessions without deliveries"),
    ("c", "daemon, client/server, delivery and queue runs"),
];

const TESTING_OPTIONS: &[&str] = &["-be", "-bem", "-bh", "-bhc", "-bP", "-bV", "-bt", "-bv", "-bvs", "-brw", "-brt", "-bf", "-bF"];

/// `delivers`: the expected output shows deliveries (delivery lines in the
/// log, delivered mail): such a test is class (c) whatever its options.
pub fn classify(s: &Script, delivers: bool) -> &'static str {
    if delivers {
        return "c";
    }
    let mut class = "a";
    for c in &s.commands {
        let word = command_word(&c.text);
        match word {
            "exim" | "exim_exim" => {
                let opts: Vec<&str> = c.text.split_whitespace().collect();
                if opts.iter().any(|o| o.starts_with("-DSERVER") || *o == "-bd" || o.starts_with("-q") || o.starts_with("-M") || *o == "-R") {
                    return "c";
                }
                if opts.iter().any(|o| *o == "-bs" || *o == "-bS") {
                    class = "b";
                } else if !opts.iter().any(|o| TESTING_OPTIONS.contains(o) || o.starts_with("-bem")) {
                    return "c";
                }
            }
            "client" | "client-ssl" | "client-gnutls" | "client-anytls" | "server" | "killdaemon" => return "c",
            _ => {}
        }
    }
    class
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::script::parse;

    #[test]
    fn classes() {
        assert_eq!(classify(&parse("# t\nexim -be\n****\nexim -bP x\n****\n").unwrap(), false), "a");
        assert_eq!(classify(&parse("# t\nexim -be\n****\nexim -bs\nquit\n****\n").unwrap(), false), "b");
        assert_eq!(classify(&parse("# t\nexim -bs\nquit\n****\n").unwrap(), true), "c");
        assert_eq!(classify(&parse("# t\nexim -odi userx\nHi\n****\n").unwrap(), false), "c");
        assert_eq!(classify(&parse("# t\nexim -DSERVER=server -bd -oX PORT_D\n****\nkilldaemon\n").unwrap(), false), "c");
    }
}

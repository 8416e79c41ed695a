//! The ACL dialogues of testsuite/scripts/0400-ACL, run through the
//! interpreter with a minimal SMTP command loop (HELO, MAIL, RCPT, DATA,
//! RSET, VRFY, EXPN, ETRN, QUIT) and compared reply by reply with the
//! stdout recorded from Exim 4.96. The real session (src/smtp) will run
//! the same scripts through `-bh`; this checks the interpreter's verdicts
//! and replies meanwhile.

use super::reply::{self, Reply};
use super::simple::SimpleEnv;
use super::{check, AclState, AclStore, Rc, Where};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

const HOST: &str = "myhost.test.ex";

/// Dialogues that differ from Exim for reasons outside the interpreter,
/// by (test, session number from 1).
const KNOWN_DIFFERENCES: &[(&str, usize, &str)] = &[];

/// What the session marks as tainted (data from the client).
const TAINTED: &[&str] = &["sender_address", "sender_address_local_part", "sender_address_domain", "local_part", "domain", "sender_helo_name", "smtp_command_argument"];

fn suite() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testsuite")
}

struct Conf {
    options: HashMap<String, String>,
    store: AclStore,
    named: HashMap<String, (char, String)>,
    /// Lines in the configuration file (Exim's trace gives the last one
    /// for inline and file ACLs).
    lines: u32,
}

fn read_conf(num: &str) -> Conf {
    let text = std::fs::read_to_string(suite().join("confs").join(num)).unwrap();
    let text = text.replace("DIR", suite().to_str().unwrap());
    let mut options = HashMap::new();
    let mut named = HashMap::new();
    let mut main = String::new();
    let mut acl = String::new();
    let mut in_acl = false;
    for line in text.split('\n') {
        if line.trim() == "begin acl" {
            in_acl = true;
            main.push('\n');
            acl.push('\n');
            continue;
        }
        if in_acl {
            acl.push_str(line);
        } else {
            main.push_str(line);
            let t = line.trim();
            for (kw, k) in [("domainlist ", 'd'), ("hostlist ", 'h'), ("addresslist ", 'a'), ("localpartlist ", 'l')] {
                if let Some(rest) = t.strip_prefix(kw) {
                    let (n, v) = rest.split_once('=').unwrap();
                    named.insert(n.trim().to_string(), (k, v.trim().to_string()));
                }
            }
            if let Some((n, v)) = t.split_once('=') {
                if n.trim().starts_with("acl_") {
                    options.insert(n.trim().to_string(), v.trim().to_string());
                }
            }
        }
        main.push('\n');
        acl.push('\n');
    }
    let store = AclStore::from_section(&acl, "TESTSUITE/test-config").unwrap();
    let lines = text.trim_end_matches('\n').split('\n').count() as u32;
    Conf { options, store, named, lines }
}

/// The -bh sessions of a script: (client IP, command lines).
fn sessions(num: &str) -> Vec<(String, Vec<String>)> {
    let text = std::fs::read_to_string(suite().join("scripts/0400-ACL").join(num)).unwrap();
    let mut out = Vec::new();
    let mut lines = text.split('\n');
    while let Some(l) = lines.next() {
        if let Some(ip) = l.strip_prefix("exim -bh ") {
            let cmds = lines.by_ref().take_while(|l| *l != "****").map(str::to_string).collect();
            out.push((ip.trim().to_string(), cmds));
        }
    }
    out
}

/// Expected stdout of each session, without the "****" banners and blank
/// lines.
fn expected(num: &str) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(suite().join("stdout").join(num)).unwrap();
    let mut out: Vec<Vec<String>> = Vec::new();
    for l in text.split('\n').map(|l| l.trim_end_matches('\r')) {
        if l.starts_with("**** SMTP testing session") {
            out.push(Vec::new());
        } else if !l.starts_with("****") && !l.is_empty() {
            out.last_mut().unwrap().push(l.to_string());
        }
    }
    out
}

struct Sim<'a> {
    conf: &'a Conf,
    env: SimpleEnv,
    state: AclState,
    out: Vec<String>,
    ids: usize,
}

impl Sim<'_> {
    fn acl(&mut self, place: Where, recipient: Option<&str>) -> super::AclOutcome {
        self.state.new_command();
        // Time moves on a little between commands, as in a real dialogue.
        self.env.clock = Some(self.env.clock.unwrap_or(1_000_000_000.0) + 0.001);
        let opt = place.option().and_then(|o| self.conf.options.get(o)).cloned();
        check(&mut self.env, &mut self.state, place, opt.as_deref(), recipient)
    }

    fn say(&mut self, r: Reply) {
        let wire = r.wire();
        for l in wire.split("\r\n").filter(|l| !l.is_empty()) {
            self.out.push(l.to_string());
        }
    }

    fn reply(&mut self, place: Where, o: &super::AclOutcome, ok: (u16, &str)) {
        let r = reply::reply(place, o, ok);
        self.say(r);
    }

    fn var(&mut self, n: &str, v: &str) {
        self.env.set(n, v);
    }

    fn unset(&mut self, n: &str) {
        self.env.vars.remove(n);
    }

    /// Run one session; false when it ended with the connection dropped.
    fn session(&mut self, ip: &str, cmds: &[String]) {
        self.env.vars.clear();
        self.state = AclState::new();
        self.var("sender_host_address", ip);
        let o = self.acl(Where::Connect, None);
        if o.rc != Rc::Ok {
            self.reply(Where::Connect, &o, (220, ""));
            return;
        }
        self.out.push(format!("220 {HOST} ESMTP Exim x.yz Tue, 2 Mar 1999 09:44:33 +0000"));
        let mut helo: Option<String> = None;
        let mut mail = false;
        let mut discard_all = false;
        let mut rcpts: Vec<String> = Vec::new();
        let mut last_rcpt_error: Option<Vec<String>> = None;
        let mut it = cmds.iter();
        while let Some(line) = it.next() {
            let (verb, arg) = match line.split_once(' ') {
                Some((v, a)) => (v.to_ascii_lowercase(), a.trim().to_string()),
                None => (line.to_ascii_lowercase(), String::new()),
            };
            self.var("smtp_command_argument", &arg);
            match verb.as_str() {
                "helo" => {
                    self.var("sender_helo_name", &arg);
                    let o = self.acl(Where::Helo, None);
                    if o.rc == Rc::Ok {
                        helo = Some(arg.clone());
                        mail = false;
                        rcpts.clear();
                        self.state.new_message();
                        self.reply(Where::Helo, &o, (250, &format!("{HOST} Hello {arg} [{ip}]")));
                    } else {
                        // A refused HELO forgets the name but not that one
                        // was accepted before.
                        self.unset("sender_helo_name");
                        self.reply(Where::Helo, &o, (250, ""));
                        if o.rc == Rc::FailDrop {
                            return;
                        }
                    }
                }
                "mail" => {
                    if helo.is_none() {
                        self.out.push("503 HELO or EHLO required".into());
                        continue;
                    }
                    if mail {
                        self.out.push("503 sender already given".into());
                        continue;
                    }
                    let addr = arg.trim_start_matches("from:").trim_start_matches("FROM:").trim().trim_start_matches('<').trim_end_matches('>').to_string();
                    self.state.new_message();
                    rcpts.clear();
                    last_rcpt_error = None;
                    discard_all = false;
                    self.var("sender_address", &addr);
                    let (lp, dom) = addr.rsplit_once('@').unwrap_or((&addr, ""));
                    let (lp, dom) = (lp.to_string(), dom.to_string());
                    self.var("sender_address_local_part", &lp);
                    self.var("sender_address_domain", &dom);
                    self.var("recipients_count", "0");
                    let o = self.acl(Where::Mail, None);
                    match o.rc {
                        Rc::Ok | Rc::Discard => {
                            mail = true;
                            discard_all = o.rc == Rc::Discard;
                            self.reply(Where::Mail, &o, (250, "OK"));
                        }
                        _ => {
                            self.unset("sender_address");
                            self.reply(Where::Mail, &o, (250, ""));
                            if o.rc == Rc::FailDrop {
                                return;
                            }
                        }
                    }
                }
                "rcpt" => {
                    if !mail {
                        self.out.push("503 sender not yet given".into());
                        continue;
                    }
                    let addr = arg.trim_start_matches("to:").trim_start_matches("TO:").trim().trim_start_matches('<').trim_end_matches('>').to_string();
                    if discard_all {
                        rcpts.push(addr);
                        self.out.push("250 Accepted".into());
                        continue;
                    }
                    let (lp, dom) = addr.rsplit_once('@').unwrap_or((&addr, ""));
                    let (lp, dom) = (lp.to_string(), dom.to_string());
                    self.var("local_part", &lp);
                    self.var("domain", &dom);
                    let o = self.acl(Where::Rcpt, Some(&addr));
                    self.unset("local_part");
                    self.unset("domain");
                    match o.rc {
                        Rc::Ok | Rc::Discard => {
                            if o.rc == Rc::Ok {
                                rcpts.push(addr);
                            }
                            self.var("recipients_count", &rcpts.len().to_string());
                            self.reply(Where::Rcpt, &o, (250, "Accepted"));
                        }
                        _ => {
                            let r = reply::reply(Where::Rcpt, &o, (250, ""));
                            last_rcpt_error = Some(r.lines.clone());
                            self.say(r);
                            if o.rc == Rc::FailDrop {
                                return;
                            }
                        }
                    }
                }
                "data" => {
                    if !mail || (rcpts.is_empty() && !discard_all) {
                        match (&last_rcpt_error, mail) {
                            (Some(lines), true) => {
                                self.out.push("503-All RCPT commands were rejected with this error:".into());
                                for l in lines.clone() {
                                    self.out.push(format!("503-{l}"));
                                }
                                self.out.push("503 valid RCPT command must precede DATA".into());
                            }
                            _ => self.out.push("503 valid RCPT command must precede DATA".into()),
                        }
                        continue;
                    }
                    if !discard_all {
                        let o = self.acl(Where::Predata, None);
                        if o.rc != Rc::Ok {
                            self.reply(Where::Predata, &o, (354, ""));
                            if o.rc == Rc::FailDrop {
                                return;
                            }
                            continue;
                        }
                    }
                    self.out.push("354 Enter message, ending with \".\" on a line by itself".into());
                    let mut headers = Vec::new();
                    let mut in_headers = true;
                    for l in it.by_ref() {
                        if l == "." {
                            break;
                        }
                        if l.is_empty() {
                            in_headers = false;
                        } else if in_headers {
                            headers.push(format!("{l}\n"));
                        }
                    }
                    self.env.headers = headers;
                    let o = if discard_all { super::AclOutcome { rc: Rc::Ok, user_message: None, log_message: None } } else { self.acl(Where::Data, None) };
                    let id = if self.ids == 0 { "10HmaX-0005vi-00" } else { "10HmaY-0005vi-00" };
                    match (o.rc, self.state.controls.fake_response.clone()) {
                        (Rc::Ok | Rc::Discard, Some((ctl, msg))) => {
                            let code = if ctl == super::controls::ControlId::Fakedefer { 450 } else { 550 };
                            self.say(Reply { code, extended: None, lines: msg.split('\n').map(str::to_string).collect() });
                        }
                        (Rc::Ok | Rc::Discard, None) => {
                            self.ids += 1;
                            self.out.push(format!("250 OK id={id}"));
                        }
                        _ => {
                            self.reply(Where::Data, &o, (250, ""));
                        }
                    }
                    mail = false;
                    rcpts.clear();
                    self.state.new_message();
                }
                "rset" => {
                    mail = false;
                    rcpts.clear();
                    self.state.new_message();
                    self.out.push("250 Reset OK".into());
                }
                "vrfy" | "expn" => {
                    let place = if verb == "vrfy" { Where::Vrfy } else { Where::Expn };
                    let (lp, dom) = arg.rsplit_once('@').unwrap_or((&arg, ""));
                    let (lp, dom) = (lp.to_string(), dom.to_string());
                    self.var("local_part", &lp);
                    self.var("domain", &dom);
                    let o = self.acl(place, Some(&arg.clone()));
                    self.unset("local_part");
                    self.unset("domain");
                    if o.rc == Rc::Ok {
                        self.out.push("<accepted: needs routing>".into());
                    } else {
                        self.reply(place, &o, (250, ""));
                    }
                }
                "etrn" => {
                    if mail {
                        self.out.push("503 ETRN is not permitted inside a transaction".into());
                        continue;
                    }
                    let o = self.acl(Where::Etrn, None);
                    self.reply(Where::Etrn, &o, (250, "OK"));
                }
                "quit" => {
                    let _ = self.acl(Where::Quit, None);
                    self.out.push(format!("221 {HOST} closing connection"));
                    return;
                }
                other => panic!("command {other} not simulated"),
            }
        }
        // End of input without QUIT: the not-QUIT ACL runs.
        self.var("smtp_notquit_reason", "connection-lost");
        let _ = self.acl(Where::NotQuit, None);
        self.out.push(format!("421 {HOST} lost input connection"));
    }
}

/// The ACL part of the recorded debug trace of each session: the `>>>`
/// lines the interpreter writes (not list matching, verification or
/// session lines).
fn expected_trace(num: &str) -> Vec<Vec<String>> {
    let Ok(text) = std::fs::read_to_string(suite().join("stderr").join(num)) else { return Vec::new() };
    let mut out: Vec<Vec<String>> = vec![Vec::new()];
    for l in text.split('\n').map(|l| l.trim_end_matches('\r')) {
        if l.starts_with(">>> host in hosts_connection_nolog") {
            out.push(Vec::new());
            continue;
        }
        let Some(body) = l.strip_prefix(">>> ") else { continue };
        let t = body.trim_start();
        let ours = ["using ACL", "using inline ACL", "processing \"", "check ", "= ", "message:", "l_message:", "end of ACL", "end of inline ACL", "ratelimit", "ACL is NULL", "ACL is empty", "expansion of", "delay ", "seen db", "read ACL from file"].iter().any(|p| t.starts_with(p))
            || t.contains(": condition test ")
            || t.contains(": endpass encountered");
        if ours {
            out.last_mut().unwrap().push(l.to_string());
        }
    }
    out.retain(|s| !s.is_empty() || true);
    out.remove(0);
    out
}

fn lists_context(conf: &Conf) -> super::lists_env::StaticListContext {
    let mut ctx = super::lists_env::StaticListContext::new(conf.named.iter().map(|(name, (k, text))| (*k, name.as_str(), text.as_str())));
    ctx.primary_hostname = HOST.into();
    ctx
}

fn lists_matcher(conf: &Conf) -> Box<crate::acl::simple::ListFn> {
    let mut ctx = lists_context(conf);
    Box::new(move |kind, subject, list| super::lists_env::match_list(&mut ctx, kind, subject, list))
}

/// Which list matcher the dialogues use.
#[derive(Clone, Copy, PartialEq)]
enum Lists {
    Helper,
    /// The lists layer's walk (what the -bh trace shows).
    Walk,
    /// Compiled lists, as a session without trace uses them: replies only.
    Compiled,
}

fn run(num: &str, lists: Lists) -> Vec<(usize, Vec<String>, Vec<String>)> {
    let conf = read_conf(num);
    let mut env = SimpleEnv::new(conf.store.clone());
    env.named = conf.named.clone();
    match lists {
        Lists::Helper => {}
        Lists::Walk => env.list_matcher = Some(lists_matcher(&conf)),
        Lists::Compiled => env.lists_layer = Some(lists_context(&conf)),
    }
    env.text_origin = Some(("TESTSUITE/test-config".to_string(), conf.lines));
    env.tainted = TAINTED.iter().map(|s| s.to_string()).collect();
    let mut sim = Sim { conf: &conf, env, state: AclState::new(), out: Vec::new(), ids: 0 };
    let exp = expected(num);
    let mut failures = Vec::new();
    for (i, (ip, cmds)) in sessions(num).iter().enumerate() {
        sim.out.clear();
        sim.env.trace.clear();
        sim.env.trace_on = lists != Lists::Compiled;
        sim.session(ip, cmds);
        // The trace, as -bh prints it after munging (a multi-line value
        // continues on lines without ">>> ").
        let dir = suite().to_str().unwrap().to_string();
        let got: Vec<String> = sim.env.trace.iter().map(|l| format!(">>> {}", l.split('\n').next().unwrap_or("").replace(&dir, "TESTSUITE"))).collect();
        let want = expected_trace(num).get(i).cloned().unwrap_or_default();
        let known = KNOWN_DIFFERENCES.iter().any(|(n, s, _)| *n == num && *s == i + 1);
        if got != want && !known && lists != Lists::Compiled {
            let n = got.iter().zip(&want).take_while(|(a, b)| a == b).count();
            failures.push((i + 1, vec![format!("trace line {n}: {:?}", want.get(n))], vec![format!("{:?}", got.get(n))]));
        }
        let want = exp.get(i).cloned().unwrap_or_default();
        let known = KNOWN_DIFFERENCES.iter().any(|(n, s, _)| *n == num && *s == i + 1);
        if sim.out != want && !known {
            failures.push((i + 1, want, sim.out.clone()));
        }
    }
    failures
}

#[test]
fn dialogues_match_exim() {
    let mut nums: Vec<String> = std::fs::read_dir(suite().join("scripts/0400-ACL")).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    nums.sort();
    let mut total = 0;
    let mut report = String::new();
    for n in &nums {
        total += sessions(n).len();
        for (s, want, got) in run(n, Lists::Helper) {
            report.push_str(&format!("{n} session {s}:\n  exim:  {want:?}\n  rexim: {got:?}\n"));
        }
    }
    assert!(total >= 60, "only {total} dialogues");
    assert!(report.is_empty(), "{report}");
}

fn all_dialogues(lists: Lists) -> String {
    let mut nums: Vec<String> = std::fs::read_dir(suite().join("scripts/0400-ACL")).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    nums.sort();
    let mut report = String::new();
    for n in &nums {
        for (s, want, got) in run(n, lists) {
            report.push_str(&format!("{n} session {s}:\n  exim:  {want:?}\n  rexim: {got:?}\n"));
        }
    }
    report
}

/// The same dialogues with the lists layer (src/lists) doing the list
/// matching, as the session does under -bh.
#[test]
fn dialogues_match_exim_with_the_lists_layer() {
    let report = all_dialogues(Lists::Walk);
    assert!(report.is_empty(), "{report}");
}

/// And with compiled lists, as the session does without a trace.
#[test]
fn dialogues_match_exim_with_compiled_lists() {
    let report = all_dialogues(Lists::Compiled);
    assert!(report.is_empty(), "{report}");
}

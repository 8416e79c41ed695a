//! Benchmark (plain main, no harness): host list matching against a
//! 10,000-entry list of mixed CIDRs and addresses, and iplsearch lookups in
//! a 100,000-line file indexed once.
//! Run: cargo bench --bench lists_hostlist

use rexim::dns::fake::FakeResolver;
use rexim::lists::{match_ip, Expanded, ListContext, ListKind, NamedList, NamedListCache};
use rexim::lookups::{LookupEnv, LookupOutcome, LookupSpec, Lookups, NoExpand};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Instant;

struct Ctx {
    lookups: Lookups,
    env: NoExpand,
    cache: NamedListCache,
}

impl ListContext for Ctx {
    fn named_list(&self, _k: ListKind, _n: &str) -> Option<NamedList> {
        None
    }
    fn expand_list(&mut self, t: &str, _k: ListKind, _s: &str) -> Expanded {
        Expanded::Ok(t.to_string())
    }
    fn primary_hostname(&self) -> String {
        "bench.example".into()
    }
    fn local_interfaces(&self) -> Vec<IpAddr> {
        vec![]
    }
    fn lookups(&mut self) -> (&mut Lookups, &mut dyn LookupEnv) {
        (&mut self.lookups, &mut self.env)
    }
    fn sender_host_names(&mut self) -> Option<Vec<String>> {
        None
    }
    fn named_cache(&mut self) -> &mut NamedListCache {
        &mut self.cache
    }
    fn log(&mut self, _l: &str, _p: bool) {}
}

fn main() {
    let mut ctx = Ctx { lookups: Lookups::new(Arc::new(FakeResolver::default())), env: NoExpand, cache: NamedListCache::default() };

    // 10,000 entries, half /24 networks, half single addresses; the subject
    // matches none, so every match walks the whole list.
    let mut items = Vec::new();
    for i in 0..10_000u32 {
        let a = 0x0b00_0000 + i * 512;
        if i % 2 == 0 {
            items.push(format!("{}.{}.{}.0/24", a >> 24, (a >> 16) & 255, (a >> 8) & 255));
        } else {
            items.push(format!("{}.{}.{}.{}", a >> 24, (a >> 16) & 255, (a >> 8) & 255, 7));
        }
    }
    let list = items.join(" : ");
    // The first check compiles the list; time the ones after it.
    let t = Instant::now();
    assert!(!match_ip(&mut ctx, "192.0.2.1", &list).unwrap().is_match());
    println!("hostlist: 10,000 entries, first check (compiles the list): {:?}", t.elapsed());
    let n = 2000;
    let t = Instant::now();
    for _ in 0..n {
        assert!(!match_ip(&mut ctx, "192.0.2.1", &list).unwrap().is_match());
    }
    let per_list = t.elapsed() / n;
    println!("hostlist: 10,000 entries via match_ip from the list text (compiled form found by the text): {:?} per check", per_list);

    // What the ACL interpreter and the session do: the list compiled once
    // (kept with the ACL statement, or found by its expanded text in
    // lists::compiled::cached) and matched through the lists layer.
    let held = rexim::lists::compiled::CompiledList::new(ListKind::Host, &list);
    let host = |i: u32| rexim::lists::HostSubject {
        address: Some(IpAddr::V4(std::net::Ipv4Addr::from(0xc000_0200 + i % 200))),
        name: None,
        ip_only: false,
    };
    let m = 1_000_000u32;
    let t = Instant::now();
    for i in 0..m {
        assert!(!held.match_host(&mut ctx, &host(i)).is_match());
    }
    println!("hostlist: 10,000 entries, compiled list held (ACL literal, option): {:?} per match", t.elapsed() / m);
    let m = 20_000u32;
    let t = Instant::now();
    for i in 0..m {
        let c = rexim::lists::compiled::cached(ListKind::Host, &list);
        assert!(!c.match_host(&mut ctx, &host(i)).is_match());
    }
    println!("hostlist: 10,000 entries, compiled list found by its text (lists::compiled::cached): {:?} per match", t.elapsed() / m);

    // A named list (`hostlist relay = ...`, `hosts = +relay`), as the
    // session's contexts hold it: compiled once with its definition.
    // Every address is new, so each check misses the named-list cache.
    let mut named = rexim::acl::lists_env::StaticListContext::new([('h', "relay", list.as_str())]);
    assert!(!rexim::lists::match_host(&mut named, &host(0), "+relay").is_match());
    let m = 200_000u32;
    let fresh = |i: u32| rexim::lists::HostSubject {
        address: Some(IpAddr::V4(std::net::Ipv4Addr::from(0xc000_0000 + i))),
        name: None,
        ip_only: false,
    };
    let t = Instant::now();
    for i in 1..=m {
        assert!(!rexim::lists::match_host(&mut named, &fresh(i), "+relay").is_match());
        if i % 10_000 == 0 {
            // A session's cache lives as long as its connection.
            rexim::lists::ListContext::named_cache(&mut named).clear();
        }
    }
    println!("hostlist: 10,000 entries, named list by name (+relay), new address each time: {:?} per match", t.elapsed() / m);
    let t = Instant::now();
    for i in 1..=m {
        assert!(!rexim::lists::match_host(&mut named, &host(i), "+relay").is_match());
    }
    println!("hostlist: 10,000 entries, named list by name (+relay), result cached for the address: {:?} per match", t.elapsed() / m);

    // The same list with an item that prevents compiling: a real walk.
    let walk_list = format!("+ignore_unknown : {list}");
    let n = 20;
    let t = Instant::now();
    for _ in 0..n {
        assert!(!match_ip(&mut ctx, "192.0.2.1", &walk_list).unwrap().is_match());
    }
    let per_list = t.elapsed() / n;
    println!("hostlist: 10,000 entries, item-by-item walk: {:?} per check, {:.0} ns per entry", per_list, per_list.as_nanos() as f64 / 10_000.0);

    // The same list compiled once and held by the caller.
    let idx = rexim::lists::ipindex::compile(&list).expect("pure IP list");
    let m = 1_000_000u32;
    let t = Instant::now();
    let mut hits = 0;
    for i in 0..m {
        let ip = IpAddr::V4(std::net::Ipv4Addr::from(0x0b00_0000 + i * 13));
        hits += idx.check(ip) as u32;
    }
    println!("hostlist: 10,000 entries, compiled once: {:?} per match ({hits} hits)", t.elapsed() / m);

    // iplsearch: 100,000 lines, indexed once.
    let dir = std::env::temp_dir().join(format!("rexim-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("big");
    let mut text = String::new();
    for i in 0..100_000u32 {
        let a = 0x0a00_0000 + i * 4;
        text.push_str(&format!("{}.{}.{}.{}/30: net{i}\n", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255));
    }
    std::fs::write(&path, text).unwrap();
    let ps = path.display().to_string();
    let spec = LookupSpec::parse("iplsearch,cache=no_rd").unwrap();
    let t = Instant::now();
    let r = ctx.lookups.find(&spec, &ps, "10.0.0.1", &mut NoExpand).unwrap();
    assert_eq!(r.outcome, LookupOutcome::Found("net0".into()));
    println!("iplsearch: 100,000 lines parsed and indexed in {:?}", t.elapsed());
    let m = 100_000u32;
    let t = Instant::now();
    for i in 0..m {
        let a = 0x0a00_0000 + (i * 7919) % 400_000;
        let key = format!("{}.{}.{}.{}", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
        let _ = ctx.lookups.find(&spec, &ps, &key, &mut NoExpand).unwrap();
    }
    println!("iplsearch: {:?} per lookup (uncached, indexed)", t.elapsed() / m);
    let _ = std::fs::remove_dir_all(dir);
}

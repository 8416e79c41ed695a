//! In-process expansion throughput: the workload of scripts/bench-be
//! (10,000 mixed expansions), compiled once and evaluated repeatedly, with
//! no process or I/O costs. `cargo bench --bench expand`. The comparison
//! with Exim (which has no in-process interface) is scripts/bench-be.

use std::time::Instant;

use rexim::expand::{self, Context, ExpandError, Found, ListKind};

struct Bench;

impl Context for Bench {
    fn variable(&self, name: &str) -> Option<String> {
        match name {
            "primary_hostname" => Some("bench.example".into()),
            "qualify_domain" => Some("example.com".into()),
            _ => None,
        }
    }
    fn match_list(&mut self, _: ListKind, subject: &str, list: &str) -> Result<Option<Found>, ExpandError> {
        Ok(list.split(':').any(|i| i.trim() == subject).then(Found::default))
    }
}

/// The kinds of scripts/bench-be's workload, one per line.
const WORKLOAD: &str = include_str!("expand_workload.txt");

fn main() {
    let kinds: Vec<&str> = WORKLOAD.lines().filter(|l| !l.is_empty()).collect();
    let lines: Vec<&str> = (0..10_000).map(|i| kinds[i % kinds.len()]).collect();
    let compiled: Vec<_> = lines.iter().map(|l| expand::compile(l).expect("workload compiles")).collect();
    let mut ctx = Bench;
    let rounds = 20;
    let start = Instant::now();
    let mut bytes = 0usize;
    for _ in 0..rounds {
        for c in &compiled {
            bytes += expand::evaluate(c, &mut ctx).map(|s| s.len()).unwrap_or(0);
        }
    }
    let per = start.elapsed().as_nanos() as f64 / (rounds * lines.len()) as f64;
    let start = Instant::now();
    for l in &lines {
        let _ = expand::compile_uncached(l);
    }
    let compile = start.elapsed().as_nanos() as f64 / lines.len() as f64;
    println!("evaluate: {per:.0} ns per expansion ({} kinds, {bytes} bytes out)", kinds.len());
    if std::env::var_os("PER_KIND").is_some() {
        for k in &kinds {
            let c = expand::compile(k).expect("compiles");
            let start = Instant::now();
            for _ in 0..2000 {
                let _ = expand::evaluate(&c, &mut ctx);
            }
            println!("{:8.0} ns  {k}", start.elapsed().as_nanos() as f64 / 2000.0);
        }
    }
    println!("compile:  {compile:.0} ns per string (uncached)");
}

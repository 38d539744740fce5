//! Rust's std::collections::HashMap under the workloads of BENCH.md (seed,
//! flat, u64, sweep), with the same options and JSON lines as hm_bench.
//! Its default hasher, RandomState, is SipHash-1-3 under a random key per
//! map. std only: built with `rustc -O`, no Cargo. Exit status, as
//! hm_bench's: 0, 1 on a wrong answer, 2 on bad usage.

use std::collections::HashMap;
use std::hash::Hash;
use std::io::Write;
use std::process::exit;
use std::time::Instant;

/// splitmix64, BENCH.md's mix(i).
fn mix(i: u64) -> u64 {
    let mut z = i.wrapping_add(0x9e3779b97f4a7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d049bb133111eb);
    z ^ (z >> 31)
}

/// Hashes as the 16 bytes mix(i), i: derive(Hash) writes the two words in turn.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct FlatKey {
    a: u64,
    b: u64,
}

#[derive(Clone, Copy)]
struct FlatValue {
    v: [u64; 4],
}

fn flat_key(i: u64) -> FlatKey {
    FlatKey { a: mix(i), b: i }
}
fn flat_value(i: u64) -> FlatValue {
    FlatValue { v: [i, 0, 0, 0] }
}
fn flat_first(v: &FlatValue) -> u64 {
    v.v[0]
}
fn u64_key(i: u64) -> u64 {
    mix(i)
}
fn u64_value(i: u64) -> u64 {
    i
}
fn u64_first(v: &u64) -> u64 {
    *v
}

/// VmHWM, the peak resident set, in bytes; 0 when /proc is not there.
fn peak_rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    for line in status.lines() {
        if let Some(rest) = line.strip_prefix("VmHWM:") {
            let kb = rest.trim().trim_end_matches("kB").trim();
            return kb.parse::<u64>().unwrap_or(0) * 1024;
        }
    }
    0
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
extern "C" {
    fn malloc_trim(pad: usize) -> i32;
}

/// Lowers VmHWM to the current RSS so that each repetition reports its own
/// peak; the memory an earlier run freed is handed back first (glibc).
fn reset_peak_rss() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    unsafe {
        malloc_trim(0);
    }
    // An old kernel refuses: the peak then covers the whole process.
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn fail(what: &str) -> ! {
    eprintln!("rust-std: wrong result: {what}");
    exit(1);
}

struct Phase {
    name: &'static str,
    ns_per_op: Vec<f64>,
    peak: u64,
}

impl Phase {
    fn new(name: &'static str) -> Phase {
        Phase { name, ns_per_op: Vec::new(), peak: 0 }
    }
    fn add(&mut self, start: Instant, ops: usize) {
        let ns = start.elapsed().as_nanos() as f64;
        self.ns_per_op.push(if ops > 0 { ns / ops as f64 } else { 0.0 });
        self.peak = self.peak.max(peak_rss());
    }
    fn median(&self) -> f64 {
        let mut v = self.ns_per_op.clone();
        v.sort_by(|a, b| a.partial_cmp(b).unwrap());
        let n = v.len();
        if n % 2 == 1 {
            v[n / 2]
        } else {
            (v[n / 2 - 1] + v[n / 2]) / 2.0
        }
    }
}

fn emit(workload: &str, items: usize, phases: &[Phase]) {
    let out = std::io::stdout();
    let mut out = out.lock();
    for p in phases {
        let _ = writeln!(
            out,
            "{{\"map\":\"rust-std\",\"workload\":\"{}\",\"items\":{},\"phase\":\"{}\",\"ns_per_op\":{:.3},\"peak_rss_bytes\":{}}}",
            workload,
            items,
            p.name,
            p.median(),
            p.peak
        );
    }
    let _ = out.flush();
}

/* "key_{i}" as the C and C++ sides make it: the digits into a stack buffer,
 * then one heap allocation of the exact length. (format! starts the String
 * small and grows it, which cost about 40 ns a key more.) */
fn seed_key(mut i: usize) -> String {
    let mut digits = [0u8; 20];
    let mut n = 0;
    loop {
        digits[n] = b'0' + (i % 10) as u8;
        n += 1;
        i /= 10;
        if i == 0 {
            break;
        }
    }
    let mut s = String::with_capacity(4 + n);
    s.push_str("key_");
    for d in (0..n).rev() {
        s.push(digits[d] as char);
    }
    s
}

fn run_seed(n: usize, repeat: usize) {
    let mut ph = [Phase::new("insert"), Phase::new("free")];
    for _ in 0..repeat {
        reset_peak_rss();
        let t = Instant::now();
        let mut m: HashMap<String, String> = HashMap::with_capacity(16);
        for i in 0..n {
            if m.insert(seed_key(i), "x".repeat(100)).is_some() {
                fail("seed: a new key was found present");
            }
        }
        ph[0].add(t, n);
        if m.len() != n {
            fail("seed: size after insert");
        }
        let t = Instant::now();
        drop(m);
        ph[1].add(t, n);
    }
    emit("seed", n, &ph);
}

/// The six phases of flat, u64 and sweep. Keys are made inside the timed
/// loops, as in the C and C++ drivers.
fn run_phases<K: Hash + Eq + Copy, V: Copy>(
    workload: &str,
    n: usize,
    repeat: usize,
    key: fn(u64) -> K,
    value: fn(u64) -> V,
    first: fn(&V) -> u64,
) {
    let mut ph = [
        Phase::new("insert"),
        Phase::new("get_hit"),
        Phase::new("get_miss"),
        Phase::new("remove"),
        Phase::new("reinsert"),
        Phase::new("iterate"),
    ];
    let n64 = n as u64;
    let half = (n + 1) / 2;
    let total = if n > 0 { n64 * (n64 - 1) / 2 } else { 0 };
    for _ in 0..repeat {
        reset_peak_rss();
        let mut m: HashMap<K, V> = HashMap::new();

        let mut count = 0usize;
        let t = Instant::now();
        for i in 0..n64 {
            count += m.insert(key(i), value(i)).is_none() as usize;
        }
        ph[0].add(t, n);
        if count != n || m.len() != n {
            fail("insert count");
        }

        count = 0;
        let mut sum = 0u64;
        let t = Instant::now();
        for j in 0..n64 {
            let i = mix(j ^ 0x55) % n64;
            if let Some(v) = m.get(&key(i)) {
                count += 1;
                sum = sum.wrapping_add(first(v));
            }
        }
        ph[1].add(t, n);
        // Each value's first word is its i: the sum proves the values were read.
        let expect = (0..n64).fold(0u64, |s, j| s.wrapping_add(mix(j ^ 0x55) % n64));
        if count != n || sum != expect {
            fail("get_hit count or sum");
        }

        count = 0;
        let t = Instant::now();
        for i in n64..2 * n64 {
            count += m.get(&key(i)).is_some() as usize;
        }
        ph[2].add(t, n);
        if count != 0 {
            fail("get_miss found a key");
        }

        count = 0;
        let t = Instant::now();
        for i in (0..n64).step_by(2) {
            count += m.remove(&key(i)).is_some() as usize;
        }
        ph[3].add(t, half);
        if count != half || m.len() != n - half {
            fail("remove count");
        }

        count = 0;
        let t = Instant::now();
        for i in (0..n64).step_by(2) {
            count += m.insert(key(i), value(i)).is_none() as usize;
        }
        ph[4].add(t, half);
        if count != half || m.len() != n {
            fail("reinsert count");
        }

        count = 0;
        sum = 0;
        let t = Instant::now();
        for (_, v) in &m {
            count += 1;
            sum = sum.wrapping_add(first(v));
        }
        ph[5].add(t, n);
        if count != n || sum != total {
            fail("iterate count or sum");
        }
    }
    emit(workload, n, &ph);
}

fn usage(code: i32) -> ! {
    eprintln!(
        "usage: rust_std [--workload seed|flat|u64|sweep|all] [--items N] [--repeat R]\n\
         \x20 --workload  the workload; all: the four in turn (default seed);\n\
         \x20             a comma-separated list also works\n\
         \x20 --items     N (default 10000000 for seed, 1000000 for flat and u64);\n\
         \x20             for sweep the largest N of 1e3, 1e4, ... 1e7 (default 1e7)\n\
         \x20 --repeat    runs of each workload in this process; medians are\n\
         \x20             reported (default 1)"
    );
    exit(code);
}

/// Accepts 1000000, 1e6 and 1_000_000.
fn parse_count(s: &str) -> Option<usize> {
    let d: f64 = s.replace('_', "").parse().ok()?;
    if !(1.0..=1e12).contains(&d) || d.fract() != 0.0 {
        return None;
    }
    Some(d as usize)
}

fn main() {
    let mut workloads = String::from("seed");
    let mut items: Option<usize> = None;
    let mut repeat = 1usize;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let (name, inline) = match arg.split_once('=') {
            Some((a, v)) if arg.starts_with("--") => (a.to_string(), Some(v.to_string())),
            _ => (arg.clone(), None),
        };
        if name == "-h" || name == "--help" {
            usage(0);
        }
        if name != "--workload" && name != "--items" && name != "--repeat" {
            usage(2);
        }
        let value = match inline.or_else(|| args.next()) {
            Some(v) => v,
            None => usage(2),
        };
        match name.as_str() {
            "--workload" => {
                workloads = if value == "all" { "seed,flat,u64,sweep".to_string() } else { value }
            }
            "--items" => match parse_count(&value) {
                Some(n) => items = Some(n),
                None => {
                    eprintln!("rust_std: bad --items '{value}'");
                    exit(2);
                }
            },
            _ => match parse_count(&value) {
                Some(r) if r <= 100 => repeat = r,
                _ => {
                    eprintln!("rust_std: bad --repeat '{value}'");
                    exit(2);
                }
            },
        }
    }

    for w in workloads.split(',') {
        match w {
            "seed" => run_seed(items.unwrap_or(10_000_000), repeat),
            "flat" => run_phases("flat", items.unwrap_or(1_000_000), repeat, flat_key, flat_value, flat_first),
            "u64" => run_phases("u64", items.unwrap_or(1_000_000), repeat, u64_key, u64_value, u64_first),
            "sweep" => {
                let top = items.unwrap_or(10_000_000);
                let mut n = 1000;
                while n <= 10_000_000 && n <= top {
                    run_phases("sweep", n, repeat, flat_key, flat_value, flat_first);
                    n *= 10;
                }
                if top < 1000 {
                    // Below 1e3 the sweep is that one N, as in hm_bench.
                    run_phases("sweep", top, repeat, flat_key, flat_value, flat_first);
                }
            }
            _ => {
                eprintln!("rust_std: unknown workload '{w}'");
                usage(2);
            }
        }
    }
}

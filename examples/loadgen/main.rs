//! Webhook load generator: replays signed real GitHub payloads with fresh delivery ids over
//! N keep-alive connections and reports throughput and latency percentiles.
//!
//! ```sh
//! cargo run --release --example loadgen -- --url http://127.0.0.1:8000/webhooks/github \
//!     --secret "$GITHUB_WEBHOOK_SECRET" --connections 64 --duration 15s
//! ```
//!
//! Options: `--payloads DIR` (default: the vendored `@octokit/webhooks-examples` subset, files
//! named `<event>.<action>.json`), `--requests N` (stop after N), `--duplicate-every N` (every
//! Nth request repeats an earlier delivery id, to exercise deduplication), `--json` (one JSON
//! line of results). Every request is bounded by the duration and count; it sends only to the
//! URL given.
//!
//! `--threads N` (default 2) spreads the connections over N threads, each with its own
//! single-threaded runtime, like wrk's `-t`. This client shares the CPU with the server it
//! measures, so it is as light as wrk: a request is written as prepared bytes and the response
//! read only as far as its status and its end (`http1.rs`); only `http://` URLs. The same
//! payloads also run under wrk: `--wrk-script FILE` writes a Lua script for `wrk` (Debian
//! package `wrk`) that sends them with fresh delivery ids, and exits:
//!
//! ```sh
//! cargo run --release --example loadgen -- --secret s3cret --wrk-script /tmp/kova.lua
//! wrk -t2 -c64 -d15s --latency -s /tmp/kova.lua http://127.0.0.1:8000/webhooks/github
//! ```

mod http1;

use kova::github::{webhook::sign, Secret};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

struct Payload {
    event: String,
    body: bytes::Bytes,
    signature: String,
}

struct Args {
    url: String,
    secret: String,
    connections: usize,
    threads: usize,
    duration: Duration,
    payloads: PathBuf,
    requests: Option<u64>,
    duplicate_every: Option<u64>,
    json: bool,
    wrk_script: Option<PathBuf>,
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    let (num, unit) = s.split_at(
        s.find(|c: char| !c.is_ascii_digit() && c != '.')
            .unwrap_or(s.len()),
    );
    let n: f64 = num.parse().map_err(|_| format!("bad duration '{s}'"))?;
    Ok(Duration::from_secs_f64(match unit {
        "" | "s" => n,
        "ms" => n / 1000.0,
        "m" => n * 60.0,
        _ => return Err(format!("bad duration unit in '{s}' (use ms, s or m)")),
    }))
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        url: "http://127.0.0.1:8000/webhooks/github".into(),
        secret: std::env::var("GITHUB_WEBHOOK_SECRET").unwrap_or_default(),
        connections: 64,
        threads: 2,
        duration: Duration::from_secs(15),
        payloads: PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/kova-github/tests/fixtures/webhooks"
        )),
        requests: None,
        duplicate_every: None,
        json: false,
        wrk_script: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut val = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--url" => a.url = val()?,
            "--secret" => a.secret = val()?,
            "--connections" => a.connections = val()?.parse().map_err(|_| "bad --connections")?,
            "--threads" => a.threads = val()?.parse().map_err(|_| "bad --threads")?,
            "--duration" => a.duration = parse_duration(&val()?)?,
            "--payloads" => a.payloads = PathBuf::from(val()?),
            "--requests" => a.requests = Some(val()?.parse().map_err(|_| "bad --requests")?),
            "--duplicate-every" => {
                a.duplicate_every = Some(val()?.parse().map_err(|_| "bad --duplicate-every")?)
            }
            "--json" => a.json = true,
            "--wrk-script" => a.wrk_script = Some(PathBuf::from(val()?)),
            "-h" | "--help" => {
                println!("usage: loadgen [--url URL] [--secret S] [--connections N] [--threads N] [--duration 15s] [--payloads DIR] [--requests N] [--duplicate-every N] [--json] [--wrk-script FILE]");
                std::process::exit(0);
            }
            other => return Err(format!("unknown option {other}")),
        }
    }
    if a.secret.is_empty() {
        return Err("give --secret (or set GITHUB_WEBHOOK_SECRET)".into());
    }
    if a.connections == 0 {
        return Err("--connections must be at least 1".into());
    }
    if a.threads == 0 {
        return Err("--threads must be at least 1".into());
    }
    a.threads = a.threads.min(a.connections);
    Ok(a)
}

fn load_payloads(dir: &PathBuf, secret: &str) -> Result<Vec<Payload>, String> {
    let mut out = Vec::new();
    let entries =
        std::fs::read_dir(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for p in paths {
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if !name.ends_with(".json") {
            continue;
        }
        // `<event>.<action>.json`, or `ghes-<version>.<event>.<action>.json` for the
        // Enterprise Server variants.
        let mut parts = name.split('.');
        let mut event = parts.next().unwrap_or("");
        if event.starts_with("ghes-") {
            event = parts.next().unwrap_or("");
        }
        let event = event.to_string();
        let body = std::fs::read(&p).map_err(|e| format!("cannot read {}: {e}", p.display()))?;
        let signature = sign(&Secret::new(secret), &body);
        out.push(Payload {
            event,
            body: body.into(),
            signature,
        });
    }
    if out.is_empty() {
        return Err(format!("no *.json payloads in {}", dir.display()));
    }
    Ok(out)
}

/// A byte string as a Lua string literal: printable ASCII as is, everything else escaped, so
/// wrk sends exactly the bytes that were signed.
fn lua_string(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() + 16);
    out.push('"');
    for &b in bytes {
        match b {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            0x20..=0x7e => out.push(b as char),
            _ => out.push_str(&format!("\\{b:03}")),
        }
    }
    out.push('"');
    out
}

/// A wrk script sending the signed payloads round-robin, each request with a fresh delivery id
/// (run id, thread, counter), and printing the latency percentiles at the end.
fn wrk_script(payloads: &[Payload]) -> String {
    let mut s =
        String::from("-- Generated by `loadgen --wrk-script`: signed Kova webhook payloads.\n");
    s.push_str("local payloads = {\n");
    for p in payloads {
        s.push_str(&format!(
            "  {{ event = {}, sig = {}, body = {} }},\n",
            lua_string(p.event.as_bytes()),
            lua_string(p.signature.as_bytes()),
            lua_string(&p.body)
        ));
    }
    s.push_str(
        r#"}
local threads = 0
local run = string.format("%x%04x", os.time(), math.random(0, 65535))
function setup(thread)
  thread:set("tid", threads)
  thread:set("run", run)
  threads = threads + 1
end
local n = 0
function request()
  n = n + 1
  local p = payloads[(n % #payloads) + 1]
  return wrk.format("POST", nil, {
    ["Content-Type"] = "application/json",
    ["User-Agent"] = "GitHub-Hookshot/kova-wrk",
    ["X-GitHub-Event"] = p.event,
    ["X-GitHub-Delivery"] = run .. "-" .. tid .. "-" .. n,
    ["X-GitHub-Hook-ID"] = "1",
    ["X-Hub-Signature-256"] = p.sig,
  }, p.body)
end
function done(summary, latency, requests)
  io.write(string.format("kova: %d requests, %.0f req/s, p50 %.2f ms, p99 %.2f ms, p99.9 %.2f ms, non-2xx %d, errors %d\n",
    summary.requests, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency:percentile(99.9) / 1000,
    summary.errors.status, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
"#,
    );
    s
}

fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i] as f64 / 1000.0
}

/// A payload's request, all but the delivery id: `head` ends with `X-GitHub-Delivery: `, and
/// `rest` is the end of the head and the body.
struct Prepared {
    head: Vec<u8>,
    rest: Vec<u8>,
}

impl Prepared {
    fn new(p: &Payload, target: &http1::Target) -> Prepared {
        let head = format!(
            "POST {} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\n\
             User-Agent: GitHub-Hookshot/kova-loadgen\r\nX-GitHub-Event: {}\r\n\
             X-GitHub-Hook-ID: 1\r\nX-Hub-Signature-256: {}\r\nContent-Length: {}\r\n\
             X-GitHub-Delivery: ",
            target.path,
            target.authority,
            p.event,
            p.signature,
            p.body.len()
        );
        let mut rest = b"\r\n\r\n".to_vec();
        rest.extend_from_slice(&p.body);
        Prepared {
            head: head.into_bytes(),
            rest,
        }
    }
}

/// What one connection saw.
struct Tally {
    latencies: Vec<u32>,
    statuses: BTreeMap<u16, u64>,
    errors: u64,
}

/// What every connection shares.
struct Load<'a> {
    target: &'a http1::Target,
    requests: &'a [Prepared],
    sent: &'a AtomicU64,
    run: &'a str,
    deadline: Instant,
    limit: Option<u64>,
    dup: Option<u64>,
}

impl Load<'_> {
    /// Sends requests on one connection until the deadline or the request limit.
    async fn connection(self, conn: usize) -> Tally {
        let mut tally = Tally {
            latencies: Vec::with_capacity(1 << 16),
            statuses: BTreeMap::new(),
            errors: 0,
        };
        let mut http = http1::Conn::new(self.target);
        let mut buf = Vec::with_capacity(32 << 10);
        let mut n = 0u64;
        while Instant::now() < self.deadline {
            let seq = self.sent.fetch_add(1, Ordering::Relaxed);
            if self.limit.is_some_and(|l| seq >= l) {
                break;
            }
            let p = &self.requests[(seq as usize) % self.requests.len()];
            // Every Nth request repeats this connection's previous delivery id.
            let id_n = match self.dup {
                Some(d) if d > 0 && n > 0 && seq % d == 0 => n - 1,
                _ => n,
            };
            n += 1;
            buf.clear();
            buf.extend_from_slice(&p.head);
            // Writing into a Vec cannot fail.
            let _ = write!(buf, "{}-{conn}-{id_n}", self.run);
            buf.extend_from_slice(&p.rest);
            let t = Instant::now();
            match http.send(&buf).await {
                Ok(status) => {
                    tally
                        .latencies
                        .push(t.elapsed().as_micros().min(u32::MAX as u128) as u32);
                    *tally.statuses.entry(status).or_default() += 1;
                }
                Err(_) => {
                    tally.errors += 1;
                    // A server that refuses connections must not turn this into a busy loop.
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            }
        }
        tally
    }
}

fn main() {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("loadgen: {e}");
            std::process::exit(2);
        }
    };
    let payloads = match load_payloads(&args.payloads, &args.secret) {
        Ok(p) => Arc::new(p),
        Err(e) => {
            eprintln!("loadgen: {e}");
            std::process::exit(2);
        }
    };
    if let Some(path) = &args.wrk_script {
        match std::fs::write(path, wrk_script(&payloads)) {
            Ok(()) => println!("wrote {} ({} payloads)", path.display(), payloads.len()),
            Err(e) => {
                eprintln!("loadgen: cannot write {}: {e}", path.display());
                std::process::exit(2);
            }
        }
        return;
    }
    let target = match http1::Target::parse(&args.url) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("loadgen: {e}");
            std::process::exit(2);
        }
    };
    let requests: Arc<Vec<Prepared>> =
        Arc::new(payloads.iter().map(|p| Prepared::new(p, &target)).collect());
    let run = Arc::new(format!("{:x}", chrono::Utc::now().timestamp_micros()));
    let sent = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + args.duration;
    let started = Instant::now();
    // Connection c runs on thread c % threads.
    let threads: Vec<_> = (0..args.threads)
        .map(|t| {
            let conns: Vec<usize> = (t..args.connections).step_by(args.threads).collect();
            let (target, requests, sent, run) =
                (target.clone(), requests.clone(), sent.clone(), run.clone());
            let (limit, dup) = (args.requests, args.duplicate_every);
            std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("a runtime for the load generator's thread");
                rt.block_on(futures::future::join_all(conns.into_iter().map(|conn| {
                    let load = Load {
                        target: &target,
                        requests: &requests,
                        sent: &sent,
                        run: &run,
                        deadline,
                        limit,
                        dup,
                    };
                    load.connection(conn)
                })))
            })
        })
        .collect();
    let mut latencies = Vec::new();
    let mut statuses: BTreeMap<u16, u64> = BTreeMap::new();
    let mut errors = 0;
    for t in threads {
        for tally in t.join().expect("a load generator thread panicked") {
            latencies.extend(tally.latencies);
            for (k, v) in tally.statuses {
                *statuses.entry(k).or_default() += v;
            }
            errors += tally.errors;
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort_unstable();
    let total = latencies.len() as u64;
    let non_2xx: u64 = statuses
        .iter()
        .filter(|(s, _)| !(200..300).contains(*s))
        .map(|(_, n)| n)
        .sum();
    let rps = total as f64 / elapsed;
    let (p50, p99, p999, max) = (
        percentile(&latencies, 0.50),
        percentile(&latencies, 0.99),
        percentile(&latencies, 0.999),
        latencies.last().copied().unwrap_or(0) as f64 / 1000.0,
    );
    if args.json {
        println!(
            "{}",
            serde_json::json!({"requests": total, "seconds": elapsed, "rps": rps, "p50_ms": p50, "p99_ms": p99,
                "p999_ms": p999, "max_ms": max, "non_2xx": non_2xx, "errors": errors, "statuses": statuses})
        );
    } else {
        println!(
            "{total} requests in {elapsed:.2}s over {} connections: {rps:.0} req/s",
            args.connections
        );
        println!("latency ms: p50 {p50:.3}  p99 {p99:.3}  p99.9 {p999:.3}  max {max:.3}");
        println!("statuses: {statuses:?}  non-2xx: {non_2xx}  transport errors: {errors}");
    }
    if errors > 0 || non_2xx > 0 {
        std::process::exit(1);
    }
}

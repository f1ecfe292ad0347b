//! The Anthropic provider's own cost per call: `Anthropic::complete` / `Anthropic::stream`
//! against a bare reqwest call carrying the same bytes to the same local fake server. The
//! difference is what the provider adds (validation, JSON encoding, headers, the retry loop,
//! typed parsing, SSE parsing, cost); it must stay under 0.2 ms per call.
//!
//! Besides criterion's figures it prints the overhead as the median of interleaved
//! provider/bare pairs (asserted under the limit in a real run) and as CPU time per call over
//! all threads, which a busy machine does not inflate.
//!
//! `cargo bench -p kova --features claude --bench provider`

use bytes::Bytes;
use criterion::{black_box, criterion_group, criterion_main, Criterion};
use futures::StreamExt;
use kova_claude::testing::{FakeAnthropic, FakeResponse};
use kova_claude::Anthropic;
use kova_core::{CompletionRequest, LlmProvider, StreamEvent, Usage};
use std::time::{Duration, Instant};
use tokio::runtime::Runtime;

/// The budget the provider's overhead must stay within.
const LIMIT: Duration = Duration::from_micros(200);

struct Setup {
    rt: Runtime,
    _fake: FakeAnthropic,
    claude: Anthropic,
    http: reqwest::Client,
    url: String,
    req: CompletionRequest,
    /// Exactly the bytes the provider sends for `req` (non-streaming / streaming).
    body: Bytes,
    stream_body: Bytes,
}

fn usage() -> Usage {
    Usage {
        input_tokens: 650,
        output_tokens: 240,
        cache_creation_tokens: 0,
        cache_read_tokens: 1_800,
    }
}

fn setup(streaming: bool) -> Setup {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let answer = "The change looks correct; consider a test for the empty case. ".repeat(16);
    let fake = rt.block_on(FakeAnthropic::start());
    if streaming {
        let pieces: Vec<String> = answer
            .split_inclusive(' ')
            .map(str::to_owned)
            .collect::<Vec<_>>()
            .chunks(4)
            .map(|c| c.concat())
            .collect();
        let pieces: Vec<&str> = pieces.iter().map(String::as_str).collect();
        fake.set_fallback(FakeResponse::stream_text(&pieces, "end_turn", usage()));
    } else {
        fake.set_fallback(FakeResponse::message(&answer, "end_turn", None, usage()));
    }
    let claude = Anthropic::builder()
        .api_key("sk-ant-test-not-a-real-key")
        .base_url(fake.base_url())
        .build()
        .unwrap();
    let req =
        CompletionRequest::new("Review this diff:\n".to_owned() + &"+ let x = 1;\n".repeat(40))
            .with_cached_system("You review pull requests. Be specific and brief. ".repeat(40))
            .with_system("Repository: kova-rs/kova")
            .with_max_tokens(1024);

    // One call through the provider tells what it sends; the bare call sends the same bytes.
    rt.block_on(async {
        claude.complete(&req).await.ok();
        claude.stream(&req).await.ok();
    });
    let sent = fake.requests();
    let body = sent[0].body.clone();
    let stream_body = sent[1].body.clone();
    fake.set_recording(false);
    fake.clear_requests();
    Setup {
        url: format!("{}/v1/messages", fake.base_url()),
        rt,
        _fake: fake,
        claude,
        http: reqwest::Client::new(),
        req,
        body,
        stream_body,
    }
}

impl Setup {
    async fn provider_complete(&self) {
        let c = self.claude.complete(&self.req).await.unwrap();
        black_box(c);
    }

    async fn provider_stream(&self) {
        let mut s = self.claude.stream(&self.req).await.unwrap();
        while let Some(ev) = s.next().await {
            if let StreamEvent::Done { completion } = ev.unwrap() {
                black_box(completion);
            }
        }
    }

    /// What a caller would do by hand: POST the bytes with the headers, read the whole body.
    async fn bare(&self, body: &Bytes) {
        let r = self
            .http
            .post(&self.url)
            .header("x-api-key", "sk-ant-test-not-a-real-key")
            .header("anthropic-version", "2023-06-01")
            .header("content-type", "application/json")
            .body(body.clone())
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success());
        black_box(r.bytes().await.unwrap());
    }
}

/// Interleaved pairs, so drift on a shared machine hits both sides alike; the median of the
/// per-pair differences is the overhead.
fn paired_overhead<F1, F2>(s: &Setup, label: &str, rounds: usize, mut provider: F1, mut bare: F2)
where
    F1: FnMut(&Setup) -> Duration,
    F2: FnMut(&Setup) -> Duration,
{
    let mut p = Vec::with_capacity(rounds);
    let mut b = Vec::with_capacity(rounds);
    let mut d = Vec::with_capacity(rounds);
    for i in 0..rounds {
        let (tp, tb) = if i % 2 == 0 {
            let tp = provider(s);
            (tp, bare(s))
        } else {
            let tb = bare(s);
            (provider(s), tb)
        };
        p.push(tp.as_secs_f64() * 1e6);
        b.push(tb.as_secs_f64() * 1e6);
        d.push((tp.as_secs_f64() - tb.as_secs_f64()) * 1e6);
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let (mp, mb, md) = (mean(&p), mean(&b), mean(&d));
    let (medp, medb, medd) = (median(&mut p), median(&mut b), median(&mut d));
    if !measuring() {
        println!(
            "{label}: smoke run (not `cargo bench`), {rounds} rounds: overhead median {medd:.1} µs"
        );
        return;
    }
    let verdict = if medd < LIMIT.as_secs_f64() * 1e6 {
        "OK"
    } else {
        "OVER"
    };
    println!(
        "{label}: provider median {medp:.1} µs (mean {mp:.1}), bare reqwest median {medb:.1} µs \
         (mean {mb:.1}); overhead per call median {medd:.1} µs (mean {md:.1}), limit {} µs: {verdict}",
        LIMIT.as_micros()
    );
    assert!(
        medd < LIMIT.as_secs_f64() * 1e6,
        "{label}: provider overhead {medd:.1} µs exceeds {} µs",
        LIMIT.as_micros()
    );
}

/// Whether this is a real `cargo bench` run (criterion gets `--bench`), not `cargo test`'s
/// smoke run in a debug build, where timings mean nothing.
fn measuring() -> bool {
    std::env::args().any(|a| a == "--bench")
}

/// Paired rounds in a real run; a handful in a smoke run.
fn rounds() -> usize {
    if measuring() {
        3_000
    } else {
        20
    }
}

/// CPU time used so far by every thread of this process (client, runtime workers and the fake
/// server alike), from Linux's per-thread scheduler statistics; `None` elsewhere. Unlike wall
/// time it does not grow when other processes take the CPU, so it shows what the provider
/// itself costs on a busy machine.
fn process_cpu() -> Option<Duration> {
    let mut total = 0u64;
    for task in std::fs::read_dir("/proc/self/task").ok()? {
        let stat = std::fs::read_to_string(task.ok()?.path().join("schedstat")).ok()?;
        total += stat.split_whitespace().next()?.parse::<u64>().ok()?;
    }
    Some(Duration::from_nanos(total))
}

/// CPU per call of `n` provider calls and of `n` bare calls (same server, same bytes).
fn cpu_per_call<F1, F2>(s: &Setup, label: &str, n: u32, mut provider: F1, mut bare: F2)
where
    F1: FnMut(&Setup) -> Duration,
    F2: FnMut(&Setup) -> Duration,
{
    let measure = |f: &mut dyn FnMut(&Setup) -> Duration| {
        let start = process_cpu()?;
        for _ in 0..n {
            f(s);
        }
        Some(process_cpu()?.saturating_sub(start) / n)
    };
    let (Some(p), Some(b)) = (measure(&mut provider), measure(&mut bare)) else {
        return;
    };
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    println!(
        "{label}: CPU per call (all threads): provider {:.1} µs, bare reqwest {:.1} µs, \
         overhead {:.1} µs",
        us(p),
        us(b),
        us(p) - us(b)
    );
}

fn timed<F: std::future::Future<Output = ()>>(rt: &Runtime, f: F) -> Duration {
    rt.block_on(async {
        let t = Instant::now();
        f.await;
        t.elapsed()
    })
}

fn complete(c: &mut Criterion) {
    let s = setup(false);
    let mut g = c.benchmark_group("anthropic_complete");
    g.bench_function("provider", |b| {
        b.to_async(&s.rt).iter(|| s.provider_complete())
    });
    g.bench_function("bare_reqwest", |b| {
        b.to_async(&s.rt).iter(|| s.bare(&s.body))
    });
    g.finish();
    paired_overhead(
        &s,
        "complete",
        rounds(),
        |s| timed(&s.rt, s.provider_complete()),
        |s| timed(&s.rt, s.bare(&s.body)),
    );
    cpu_per_call(
        &s,
        "complete",
        rounds() as u32,
        |s| timed(&s.rt, s.provider_complete()),
        |s| timed(&s.rt, s.bare(&s.body)),
    );
}

fn stream(c: &mut Criterion) {
    let s = setup(true);
    let mut g = c.benchmark_group("anthropic_stream");
    g.bench_function("provider", |b| {
        b.to_async(&s.rt).iter(|| s.provider_stream())
    });
    g.bench_function("bare_reqwest", |b| {
        b.to_async(&s.rt).iter(|| s.bare(&s.stream_body))
    });
    g.finish();
    paired_overhead(
        &s,
        "stream",
        rounds(),
        |s| timed(&s.rt, s.provider_stream()),
        |s| timed(&s.rt, s.bare(&s.stream_body)),
    );
    cpu_per_call(
        &s,
        "stream",
        rounds() as u32,
        |s| timed(&s.rt, s.provider_stream()),
        |s| timed(&s.rt, s.bare(&s.stream_body)),
    );
}

criterion_group!(benches, complete, stream);
criterion_main!(benches);

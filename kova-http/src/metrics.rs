//! Prometheus metrics in the text exposition format: requests by route and status, latency
//! histograms, webhook deliveries, queue depth and job outcomes, LLM tokens and cost by model,
//! GitHub rate-limit remaining. Kept in plain atomics and maps: no registry crate needed.

use async_trait::async_trait;
use kova_core::{
    Completion, CompletionRequest, CompletionStream, JobsSummary, LlmCapabilities, LlmProvider,
    Result,
};
use std::collections::BTreeMap;
use std::fmt::{self, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// Latency bucket bounds in seconds.
const BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];

#[derive(Debug, Default, Clone)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    sum: f64,
    count: u64,
}

impl Histogram {
    fn observe(&mut self, secs: f64) {
        if let Some(i) = BUCKETS.iter().position(|b| secs <= *b) {
            self.counts[i] += 1;
        }
        self.sum += secs;
        self.count += 1;
    }
}

#[derive(Debug, Default, Clone, Copy)]
struct LlmTotals {
    calls: u64,
    errors: u64,
    input: u64,
    output: u64,
    cache_read: u64,
    cache_write: u64,
    cost: f64,
}

type Gauge = Box<dyn Fn() -> Option<u64> + Send + Sync>;

/// What is counted per route: requests by status, and their latency.
#[derive(Debug, Default)]
struct RouteStats {
    statuses: BTreeMap<u16, u64>,
    latency: Histogram,
}

/// The server's metrics.
#[derive(Default)]
pub struct Metrics {
    /// One lock per request, and no allocation once a route was seen.
    routes: Mutex<BTreeMap<String, RouteStats>>,
    deliveries_received: AtomicU64,
    deliveries_duplicate: AtomicU64,
    deliveries_rejected: AtomicU64,
    llm: Mutex<BTreeMap<String, LlmTotals>>,
    github_remaining: Mutex<Option<Gauge>>,
}

impl fmt::Debug for Metrics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Metrics")
            .field(
                "deliveries_received",
                &self.deliveries_received.load(Ordering::Relaxed),
            )
            .finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Metrics {
    /// Empty metrics.
    pub fn new() -> Self {
        Self::default()
    }

    /// Counts one request to `route` (the matched path pattern) and its latency.
    pub fn observe_request(&self, route: &str, status: u16, elapsed: Duration) {
        let mut routes = lock(&self.routes);
        let stats = match routes.get_mut(route) {
            Some(stats) => stats,
            None => routes.entry(route.to_string()).or_default(),
        };
        *stats.statuses.entry(status).or_default() += 1;
        stats.latency.observe(elapsed.as_secs_f64());
    }

    /// Counts an accepted webhook delivery.
    pub fn delivery_accepted(&self, duplicate: bool) {
        self.deliveries_received.fetch_add(1, Ordering::Relaxed);
        if duplicate {
            self.deliveries_duplicate.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Counts a rejected webhook delivery (bad signature, malformed).
    pub fn delivery_rejected(&self) {
        self.deliveries_rejected.fetch_add(1, Ordering::Relaxed);
    }

    /// Delivery counters: (received, duplicate, rejected).
    pub fn deliveries(&self) -> (u64, u64, u64) {
        (
            self.deliveries_received.load(Ordering::Relaxed),
            self.deliveries_duplicate.load(Ordering::Relaxed),
            self.deliveries_rejected.load(Ordering::Relaxed),
        )
    }

    /// Registers where the GitHub rate-limit remaining count comes from.
    pub fn set_github_remaining(&self, gauge: impl Fn() -> Option<u64> + Send + Sync + 'static) {
        *lock(&self.github_remaining) = Some(Box::new(gauge));
    }

    fn record_llm(&self, model: &str, result: std::result::Result<&Completion, ()>) {
        let mut m = lock(&self.llm);
        let t = m.entry(model.to_string()).or_default();
        t.calls += 1;
        match result {
            Ok(c) => {
                t.input += c.usage.input_tokens;
                t.output += c.usage.output_tokens;
                t.cache_read += c.usage.cache_read_tokens;
                t.cache_write += c.usage.cache_creation_tokens;
                t.cost += c.cost_usd.unwrap_or(0.0);
            }
            Err(()) => t.errors += 1,
        }
    }

    /// The exposition text; `jobs` adds queue gauges when the store answered.
    pub fn render(&self, jobs: Option<&JobsSummary>, now: chrono::DateTime<chrono::Utc>) -> String {
        let mut out = String::with_capacity(4096);
        let _ = self.render_into(&mut out, jobs, now);
        out
    }

    fn render_into(
        &self,
        out: &mut String,
        jobs: Option<&JobsSummary>,
        now: chrono::DateTime<chrono::Utc>,
    ) -> fmt::Result {
        writeln!(
            out,
            "# HELP kova_http_requests_total HTTP requests by route and status."
        )?;
        writeln!(out, "# TYPE kova_http_requests_total counter")?;
        let routes = lock(&self.routes);
        for (route, stats) in routes.iter() {
            for (status, n) in &stats.statuses {
                writeln!(
                    out,
                    "kova_http_requests_total{{route=\"{}\",status=\"{status}\"}} {n}",
                    esc(route)
                )?;
            }
        }
        writeln!(
            out,
            "# HELP kova_http_request_duration_seconds HTTP request latency by route."
        )?;
        writeln!(out, "# TYPE kova_http_request_duration_seconds histogram")?;
        for (route, RouteStats { latency: h, .. }) in routes.iter() {
            let r = esc(route);
            let mut cumulative = 0;
            for (b, c) in BUCKETS.iter().zip(h.counts) {
                cumulative += c;
                writeln!(out, "kova_http_request_duration_seconds_bucket{{route=\"{r}\",le=\"{b}\"}} {cumulative}")?;
            }
            writeln!(
                out,
                "kova_http_request_duration_seconds_bucket{{route=\"{r}\",le=\"+Inf\"}} {}",
                h.count
            )?;
            writeln!(
                out,
                "kova_http_request_duration_seconds_sum{{route=\"{r}\"}} {}",
                h.sum
            )?;
            writeln!(
                out,
                "kova_http_request_duration_seconds_count{{route=\"{r}\"}} {}",
                h.count
            )?;
        }
        // Requests wait on this lock: it is not held while the gauges below are read.
        drop(routes);
        let (received, duplicate, rejected) = self.deliveries();
        writeln!(
            out,
            "# HELP kova_webhook_deliveries_total Webhook deliveries by outcome."
        )?;
        writeln!(out, "# TYPE kova_webhook_deliveries_total counter")?;
        writeln!(
            out,
            "kova_webhook_deliveries_total{{outcome=\"accepted\"}} {}",
            received - duplicate
        )?;
        writeln!(
            out,
            "kova_webhook_deliveries_total{{outcome=\"duplicate\"}} {duplicate}"
        )?;
        writeln!(
            out,
            "kova_webhook_deliveries_total{{outcome=\"rejected\"}} {rejected}"
        )?;
        if let Some(j) = jobs {
            writeln!(
                out,
                "# HELP kova_jobs Jobs in the queue by status (done and dead are outcomes)."
            )?;
            writeln!(out, "# TYPE kova_jobs gauge")?;
            for (s, n) in [
                ("queued", j.queued),
                ("running", j.running),
                ("done", j.done),
                ("dead", j.dead),
                ("superseded", j.superseded),
            ] {
                writeln!(out, "kova_jobs{{status=\"{s}\"}} {n}")?;
            }
            writeln!(
                out,
                "# HELP kova_jobs_oldest_queued_age_seconds Age of the oldest queued job."
            )?;
            writeln!(out, "# TYPE kova_jobs_oldest_queued_age_seconds gauge")?;
            let age = j
                .oldest_queued_at
                .map(|t| (now - t).num_milliseconds().max(0) as f64 / 1000.0)
                .unwrap_or(0.0);
            writeln!(out, "kova_jobs_oldest_queued_age_seconds {age}")?;
        }
        let llm = lock(&self.llm).clone();
        writeln!(
            out,
            "# HELP kova_llm_calls_total LLM calls by model and outcome."
        )?;
        writeln!(out, "# TYPE kova_llm_calls_total counter")?;
        for (m, t) in &llm {
            writeln!(
                out,
                "kova_llm_calls_total{{model=\"{}\",outcome=\"ok\"}} {}",
                esc(m),
                t.calls - t.errors
            )?;
            writeln!(
                out,
                "kova_llm_calls_total{{model=\"{}\",outcome=\"error\"}} {}",
                esc(m),
                t.errors
            )?;
        }
        writeln!(
            out,
            "# HELP kova_llm_tokens_total LLM tokens by model and kind."
        )?;
        writeln!(out, "# TYPE kova_llm_tokens_total counter")?;
        for (m, t) in &llm {
            for (kind, n) in [
                ("input", t.input),
                ("output", t.output),
                ("cache_read", t.cache_read),
                ("cache_write", t.cache_write),
            ] {
                writeln!(
                    out,
                    "kova_llm_tokens_total{{model=\"{}\",kind=\"{kind}\"}} {n}",
                    esc(m)
                )?;
            }
        }
        writeln!(
            out,
            "# HELP kova_llm_cost_usd_total LLM cost in US dollars by model."
        )?;
        writeln!(out, "# TYPE kova_llm_cost_usd_total counter")?;
        for (m, t) in &llm {
            writeln!(
                out,
                "kova_llm_cost_usd_total{{model=\"{}\"}} {}",
                esc(m),
                t.cost
            )?;
        }
        if let Some(remaining) = lock(&self.github_remaining).as_ref().and_then(|g| g()) {
            writeln!(out, "# HELP kova_github_rate_limit_remaining Requests left in GitHub's current rate-limit window.")?;
            writeln!(out, "# TYPE kova_github_rate_limit_remaining gauge")?;
            writeln!(out, "kova_github_rate_limit_remaining {remaining}")?;
        }
        Ok(())
    }
}

fn esc(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// An [`LlmProvider`] wrapper that counts calls, tokens and cost by model into [`Metrics`].
#[derive(Debug)]
pub struct MeteredLlm {
    inner: Arc<dyn LlmProvider>,
    metrics: Arc<Metrics>,
}

impl MeteredLlm {
    /// Wraps a provider.
    pub fn new(inner: Arc<dyn LlmProvider>, metrics: Arc<Metrics>) -> Self {
        MeteredLlm { inner, metrics }
    }
}

#[async_trait]
impl LlmProvider for MeteredLlm {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn capabilities(&self) -> LlmCapabilities {
        self.inner.capabilities()
    }

    async fn complete(&self, req: &CompletionRequest) -> Result<Completion> {
        let r = self.inner.complete(req).await;
        match &r {
            Ok(c) => self.metrics.record_llm(&c.model, Ok(c)),
            Err(_) => {
                let model = req
                    .model
                    .clone()
                    .unwrap_or_else(|| self.inner.capabilities().model);
                self.metrics.record_llm(&model, Err(()));
            }
        }
        r
    }

    async fn stream(&self, req: &CompletionRequest) -> Result<CompletionStream> {
        use futures::StreamExt;
        let metrics = self.metrics.clone();
        let s = self.inner.stream(req).await?;
        Ok(Box::pin(s.inspect(move |ev| {
            if let Ok(kova_core::StreamEvent::Done { completion }) = ev {
                metrics.record_llm(&completion.model, Ok(completion));
            }
        })))
    }

    async fn count_tokens(&self, req: &CompletionRequest) -> Result<u64> {
        self.inner.count_tokens(req).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_prometheus_text() {
        let m = Metrics::new();
        m.observe_request("/webhooks/github", 202, Duration::from_micros(800));
        m.observe_request("/webhooks/github", 202, Duration::from_millis(30));
        m.delivery_accepted(false);
        m.delivery_accepted(true);
        m.delivery_rejected();
        m.set_github_remaining(|| Some(4999));
        let c = Completion {
            id: "m".into(),
            model: "claude-x".into(),
            text: String::new(),
            stop_reason: kova_core::StopReason::EndTurn,
            usage: kova_core::Usage {
                input_tokens: 10,
                output_tokens: 5,
                cache_read_tokens: 2,
                cache_creation_tokens: 1,
            },
            cost_usd: Some(0.5),
        };
        m.record_llm("claude-x", Ok(&c));
        let jobs = JobsSummary {
            queued: 3,
            ..Default::default()
        };
        let text = m.render(Some(&jobs), chrono::Utc::now());
        for line in [
            "kova_http_requests_total{route=\"/webhooks/github\",status=\"202\"} 2",
            "kova_http_request_duration_seconds_bucket{route=\"/webhooks/github\",le=\"0.001\"} 1",
            "kova_http_request_duration_seconds_bucket{route=\"/webhooks/github\",le=\"+Inf\"} 2",
            "kova_webhook_deliveries_total{outcome=\"accepted\"} 1",
            "kova_webhook_deliveries_total{outcome=\"duplicate\"} 1",
            "kova_webhook_deliveries_total{outcome=\"rejected\"} 1",
            "kova_jobs{status=\"queued\"} 3",
            "kova_llm_tokens_total{model=\"claude-x\",kind=\"cache_read\"} 2",
            "kova_llm_cost_usd_total{model=\"claude-x\"} 0.5",
            "kova_github_rate_limit_remaining 4999",
        ] {
            assert!(text.contains(line), "missing {line} in\n{text}");
        }
    }
}

//! Retries: what is retried, how often, and how long the client asked to wait.

use crate::{assert_no_key, builder, setup};
use kova_claude::testing::{FakeAnthropic, FakeResponse, RecordingSleeper};
use kova_claude::{Anthropic, RetryPolicy};
use kova_core::{CompletionRequest, Error, LlmProvider};
use std::time::{Duration, Instant};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Default jitter takes up to 25% off each backoff.
fn assert_jittered(wait: Duration, backoff: Duration) {
    assert!(
        wait <= backoff && wait >= backoff.mul_f64(0.75),
        "{wait:?} not within 75–100% of {backoff:?}"
    );
}

#[tokio::test]
async fn rate_limit_waits_as_told_then_succeeds() {
    let (fake, sleeper, claude) = setup().await;
    fake.push(
        FakeResponse::error(
            429,
            "rate_limit_error",
            "Number of request tokens has exceeded your per-minute rate limit",
        )
        .with_header("retry-after", "2"),
    );
    fake.push(
        FakeResponse::error(429, "rate_limit_error", "again").with_header("retry-after-ms", "1250"),
    );
    fake.push(FakeResponse::text("finally"));
    let c = claude.complete(&CompletionRequest::new("x")).await.unwrap();
    assert_eq!(c.text, "finally");
    assert_eq!(fake.requests().len(), 3);
    assert_eq!(sleeper.sleeps(), [Duration::from_secs(2), ms(1250)]);
    // Each retry is the same request.
    let reqs = fake.requests();
    assert!(reqs.iter().all(|r| r.body == reqs[0].body));
}

#[tokio::test]
async fn overloaded_twice_then_success_backs_off_exponentially() {
    let (fake, sleeper, claude) = setup().await;
    fake.push(FakeResponse::error(529, "overloaded_error", "Overloaded"));
    fake.push(FakeResponse::error(529, "overloaded_error", "Overloaded"));
    fake.push(FakeResponse::text("ok"));
    assert_eq!(
        claude
            .complete(&CompletionRequest::new("x"))
            .await
            .unwrap()
            .text,
        "ok"
    );
    assert_eq!(fake.requests().len(), 3);
    let sleeps = sleeper.sleeps();
    assert_eq!(sleeps.len(), 2);
    assert_jittered(sleeps[0], ms(500));
    assert_jittered(sleeps[1], ms(1000));
}

#[tokio::test]
async fn server_errors_exhaust_the_default_two_retries() {
    let (fake, sleeper, claude) = setup().await;
    for _ in 0..3 {
        fake.push(
            FakeResponse::error(500, "api_error", "Internal server error")
                .with_header("request-id", "req_500"),
        );
    }
    fake.push(FakeResponse::text("never reached"));
    let e = claude
        .complete(&CompletionRequest::new("x"))
        .await
        .unwrap_err();
    assert!(
        matches!(e, Error::Upstream { status: 500, ref message, .. } if message.contains("req_500")),
        "{e:?}"
    );
    assert!(e.is_retryable());
    assert_no_key(&e);
    assert_eq!(fake.requests().len(), 3);
    assert_eq!(fake.remaining(), 1);
    assert_eq!(sleeper.sleeps().len(), 2);
}

#[tokio::test]
async fn exact_backoff_sequence_without_jitter() {
    let fake = FakeAnthropic::start().await;
    let sleeper = RecordingSleeper::default();
    let claude = builder(&fake, &sleeper)
        .retry_policy(RetryPolicy::default().with_max_retries(6).with_jitter(0.0))
        .build()
        .unwrap();
    for _ in 0..7 {
        fake.push(FakeResponse::error(503, "api_error", "unavailable"));
    }
    let e = claude
        .complete(&CompletionRequest::new("x"))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Upstream { status: 503, .. }));
    assert_eq!(fake.requests().len(), 7);
    assert_eq!(
        sleeper.sleeps(),
        [ms(500), ms(1000), ms(2000), ms(4000), ms(8000), ms(8000)]
    );
}

#[tokio::test]
async fn should_retry_header_overrides_the_status() {
    let (fake, sleeper, claude) = setup().await;
    fake.push(
        FakeResponse::error(500, "api_error", "do not").with_header("x-should-retry", "false"),
    );
    let e = claude
        .complete(&CompletionRequest::new("x"))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Upstream { status: 500, .. }));
    assert_eq!(fake.requests().len(), 1);
    assert!(sleeper.sleeps().is_empty());

    // And the other way: a status that is normally final.
    fake.push(
        FakeResponse::error(400, "invalid_request_error", "try again")
            .with_header("x-should-retry", "true"),
    );
    fake.push(FakeResponse::text("ok"));
    assert_eq!(
        claude
            .complete(&CompletionRequest::new("x"))
            .await
            .unwrap()
            .text,
        "ok"
    );
    assert_eq!(fake.requests().len(), 3);
    assert_eq!(sleeper.sleeps().len(), 1);
}

#[tokio::test]
async fn retryable_statuses_408_and_409_are_retried() {
    let (fake, sleeper, claude) = setup().await;
    fake.push(FakeResponse::error(408, "timeout_error", "request timeout"));
    fake.push(FakeResponse::error(409, "api_error", "conflict"));
    fake.push(FakeResponse::text("ok"));
    assert_eq!(
        claude
            .complete(&CompletionRequest::new("x"))
            .await
            .unwrap()
            .text,
        "ok"
    );
    assert_eq!(sleeper.sleeps().len(), 2);
}

#[tokio::test]
async fn a_wait_longer_than_the_cap_is_handed_to_the_caller() {
    let (fake, sleeper, claude) = setup().await;
    fake.push(
        FakeResponse::error(429, "rate_limit_error", "slow down").with_header("retry-after", "120"),
    );
    fake.push(FakeResponse::text("not yet"));
    let e = claude
        .complete(&CompletionRequest::new("x"))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::RateLimited { .. }));
    assert_eq!(e.retry_after(), Some(Duration::from_secs(120)));
    assert_eq!(fake.requests().len(), 1);
    assert!(sleeper.sleeps().is_empty());
}

#[tokio::test]
async fn a_server_error_asking_for_a_long_wait_hands_it_to_the_caller() {
    let (fake, sleeper, claude) = setup().await;
    fake.push(
        FakeResponse::error(503, "api_error", "maintenance").with_header("retry-after", "600"),
    );
    fake.push(FakeResponse::text("too soon"));
    let e = claude
        .complete(&CompletionRequest::new("x"))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Upstream { status: 503, .. }), "{e}");
    assert!(e.is_retryable());
    assert_eq!(e.retry_after(), Some(Duration::from_secs(600)));
    // Not asked again sooner than told: the caller's queue waits instead.
    assert_eq!(fake.requests().len(), 1);
    assert!(sleeper.sleeps().is_empty());
}

#[tokio::test]
async fn rate_limit_without_retries_reports_retry_after() {
    let fake = FakeAnthropic::start().await;
    let sleeper = RecordingSleeper::default();
    let claude = builder(&fake, &sleeper)
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap();
    fake.push(
        FakeResponse::error(429, "rate_limit_error", "slow down").with_header("retry-after", "7"),
    );
    let e = claude
        .complete(&CompletionRequest::new("x"))
        .await
        .unwrap_err();
    assert_eq!(e.retry_after(), Some(Duration::from_secs(7)));
    assert_eq!(fake.requests().len(), 1);
}

#[tokio::test]
async fn a_slow_response_hits_the_timeout_and_is_retried() {
    let fake = FakeAnthropic::start().await;
    let sleeper = RecordingSleeper::default();
    let claude = builder(&fake, &sleeper).timeout(ms(200)).build().unwrap();
    for _ in 0..3 {
        fake.push(FakeResponse::text("too late").with_delay(Duration::from_secs(5)));
    }
    let started = Instant::now();
    let e = claude
        .complete(&CompletionRequest::new("x"))
        .await
        .unwrap_err();
    assert!(
        matches!(e, Error::Timeout { ref service } if service == "anthropic"),
        "{e:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(fake.requests().len(), 3);
    assert_eq!(sleeper.sleeps().len(), 2);

    // A slow answer within the timeout is fine.
    fake.push(FakeResponse::text("in time").with_delay(ms(20)));
    assert_eq!(
        claude
            .complete(&CompletionRequest::new("x"))
            .await
            .unwrap()
            .text,
        "in time"
    );
}

#[tokio::test]
async fn connection_failures_are_retried_then_reported() {
    // A port that was free a moment ago: nothing listens there.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let sleeper = RecordingSleeper::default();
    let claude = Anthropic::builder()
        .api_key(crate::KEY)
        .base_url(format!("http://127.0.0.1:{port}"))
        .sleeper(std::sync::Arc::new(sleeper.clone()))
        .build()
        .unwrap();
    let e = claude
        .complete(&CompletionRequest::new("x"))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Connection { .. }), "{e:?}");
    assert!(e.is_retryable());
    assert_no_key(&e);
    assert_eq!(sleeper.sleeps().len(), 2);

    let no_retry = Anthropic::builder()
        .api_key(crate::KEY)
        .base_url(format!("http://127.0.0.1:{port}"))
        .sleeper(std::sync::Arc::new(sleeper.clone()))
        .retry_policy(RetryPolicy::default().with_retry_connection_errors(false))
        .build()
        .unwrap();
    assert!(no_retry
        .count_tokens(&CompletionRequest::new("x"))
        .await
        .is_err());
    assert_eq!(sleeper.sleeps().len(), 2);
}

#[tokio::test]
async fn count_tokens_is_retried_too() {
    let (fake, sleeper, claude) = setup().await;
    fake.push(FakeResponse::error(529, "overloaded_error", "Overloaded"));
    fake.push(FakeResponse::count_tokens(42));
    assert_eq!(
        claude
            .count_tokens(&CompletionRequest::new("x"))
            .await
            .unwrap(),
        42
    );
    assert_eq!(sleeper.sleeps().len(), 1);
}

#[tokio::test]
async fn an_overload_asking_for_too_long_a_wait_backs_off_instead() {
    let fake = FakeAnthropic::start().await;
    let sleeper = RecordingSleeper::default();
    let claude = builder(&fake, &sleeper)
        .retry_policy(RetryPolicy::default().with_jitter(0.0))
        .build()
        .unwrap();
    fake.push(
        FakeResponse::error(529, "overloaded_error", "Overloaded")
            .with_header("retry-after", "600"),
    );
    fake.push(
        FakeResponse::error(529, "overloaded_error", "Overloaded").with_header("retry-after", "0"),
    );
    fake.push(FakeResponse::text("ok"));
    assert_eq!(
        claude
            .complete(&CompletionRequest::new("x"))
            .await
            .unwrap()
            .text,
        "ok"
    );
    assert_eq!(sleeper.sleeps(), [ms(500), ms(1000)]);
}

#[tokio::test]
async fn retry_after_as_an_http_date() {
    let (fake, sleeper, claude) = setup().await;
    let in_30s = (chrono::Utc::now() + chrono::Duration::seconds(30)).to_rfc2822();
    let in_1h = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc2822();
    fake.push(
        FakeResponse::error(429, "rate_limit_error", "wait").with_header("retry-after", &in_30s),
    );
    fake.push(
        FakeResponse::error(429, "rate_limit_error", "wait longer")
            .with_header("retry-after", &in_1h),
    );
    let e = claude
        .complete(&CompletionRequest::new("x"))
        .await
        .unwrap_err();
    let sleeps = sleeper.sleeps();
    assert_eq!(sleeps.len(), 1);
    assert!(
        sleeps[0] > Duration::from_secs(27) && sleeps[0] <= Duration::from_secs(30),
        "{sleeps:?}"
    );
    let asked = e.retry_after().unwrap();
    assert!(
        asked > Duration::from_secs(3590) && asked <= Duration::from_secs(3600),
        "{asked:?}"
    );
    assert_eq!(fake.requests().len(), 2);
}

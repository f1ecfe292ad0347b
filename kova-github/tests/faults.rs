//! Rate limits, retries and failures, against a fake GitHub with a recording sleeper: every
//! wait is asserted, none is really taken.

mod common;

use common::*;
use kova_core::{Error, RepoRef, SourceHost};
use kova_github::testing::FakeResponse;
use serde_json::json;
use std::time::Duration;

fn r() -> RepoRef {
    "o/r".parse().unwrap()
}

fn repo_json() -> serde_json::Value {
    json!({"full_name": "o/r", "default_branch": "main"})
}

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

#[tokio::test]
async fn exhausted_primary_limit_waits_until_reset() {
    let h = harness().await;
    h.fake.on_sequence(
        "GET",
        "/repos/o/r",
        vec![
            FakeResponse::error(403, "API rate limit exceeded for user ID 1.").with_rate_limit(
                0,
                5000,
                START + 120,
            ),
            FakeResponse::ok(repo_json()).with_rate_limit(4999, 5000, START + 3600),
        ],
    );
    let repo = h.github.get_repo(&r()).await.unwrap();
    assert_eq!(repo.repo, r());
    // Until the reset, plus a second of grace for clock skew.
    assert_eq!(h.sleeper.sleeps(), [secs(121)]);
    assert_eq!(h.fake.requests().len(), 2);
    let stats = h.github.stats();
    assert_eq!((stats.rate_limit_waits, stats.retries), (1, 0));
    assert_eq!(stats.rate_limit.remaining, Some(4999));
}

#[tokio::test]
async fn a_429_with_remaining_zero_is_the_primary_limit_too() {
    let h = harness().await;
    h.fake.on_sequence(
        "GET",
        "/repos/o/r",
        vec![
            FakeResponse::error(429, "API rate limit exceeded").with_rate_limit(0, 60, START + 10),
            FakeResponse::ok(repo_json()),
        ],
    );
    h.github.get_repo(&r()).await.unwrap();
    assert_eq!(h.sleeper.sleeps(), [secs(11)]);
}

#[tokio::test]
async fn a_reset_too_far_away_is_rate_limited_with_retry_after() {
    let h = harness_with(|b| b.max_rate_limit_wait(secs(300))).await;
    h.fake.on(
        "GET",
        "/repos/o/r",
        FakeResponse::error(403, "API rate limit exceeded").with_rate_limit(0, 5000, START + 3600),
    );
    let err = h.github.get_repo(&r()).await.unwrap_err();
    match err {
        Error::RateLimited {
            retry_after,
            ref service,
        } => {
            assert_eq!(service, "github");
            assert_eq!(retry_after, Some(secs(3601)));
        }
        other => panic!("{other:?}"),
    }
    assert!(err.is_retryable());
    assert!(h.sleeper.sleeps().is_empty());
    assert_eq!(h.fake.requests().len(), 1);

    // The next request does not even go out: the client knows the limit is exhausted.
    let err = h.github.get_languages(&r()).await.unwrap_err();
    assert!(matches!(err, Error::RateLimited { .. }));
    assert_eq!(h.fake.requests().len(), 1);
}

#[tokio::test]
async fn the_last_request_of_a_window_makes_the_next_one_wait() {
    let h = harness().await;
    h.fake.on(
        "GET",
        "/repos/o/r",
        FakeResponse::ok(repo_json()).with_rate_limit(0, 5000, START + 30),
    );
    h.fake.on(
        "GET",
        "/repos/o/r/languages",
        FakeResponse::ok(json!({})).with_rate_limit(4999, 5000, START + 3600),
    );
    h.github.get_repo(&r()).await.unwrap();
    assert!(h.sleeper.sleeps().is_empty());
    h.github.get_languages(&r()).await.unwrap();
    assert_eq!(h.sleeper.sleeps(), [secs(31)]);
    assert_eq!(
        h.fake.requests().len(),
        2,
        "no request was wasted on a certain 403"
    );
}

#[tokio::test]
async fn an_exhausted_search_limit_does_not_hold_back_other_requests() {
    let h = harness().await;
    h.fake.on(
        "GET",
        "/search/repositories",
        FakeResponse::ok(json!({"items": []}))
            .with_rate_limit(0, 30, START + 60)
            .with_header("x-ratelimit-resource", "search"),
    );
    h.fake
        .on("GET", "/repos/o/r", FakeResponse::ok(repo_json()));
    h.github.search_repos("kova").await.unwrap();
    h.github.get_repo(&r()).await.unwrap();
    assert!(h.sleeper.sleeps().is_empty());
    h.github.search_repos("kova").await.unwrap();
    assert_eq!(h.sleeper.sleeps(), [secs(61)]);
}

#[tokio::test]
async fn a_429_with_retry_after_is_honoured() {
    let h = harness().await;
    h.fake.on_sequence(
        "GET",
        "/repos/o/r",
        vec![
            FakeResponse::error(429, "Too Many Requests").with_header("retry-after", "7"),
            FakeResponse::ok(repo_json()),
        ],
    );
    h.github.get_repo(&r()).await.unwrap();
    assert_eq!(h.sleeper.sleeps(), [secs(7)]);
    assert_eq!(h.fake.requests().len(), 2);
}

#[tokio::test]
async fn a_secondary_limit_without_retry_after_waits_a_minute_then_longer() {
    let h = harness().await;
    let secondary = || {
        FakeResponse::error(
            403,
            "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
        )
        .with_rate_limit(4000, 5000, START + 3600)
    };
    h.fake.on_sequence(
        "GET",
        "/repos/o/r",
        vec![secondary(), secondary(), FakeResponse::ok(repo_json())],
    );
    h.github.get_repo(&r()).await.unwrap();
    assert_eq!(h.sleeper.sleeps(), [secs(60), secs(120)]);
    assert_eq!(h.github.stats().rate_limit_waits, 2);
}

#[tokio::test]
async fn a_secondary_limit_on_a_write_waits_and_sends_it_once_more() {
    // A refused request was not performed, so sending it again cannot duplicate it.
    let h = harness().await;
    h.fake.on_sequence(
        "POST",
        "/repos/o/r/issues/1/comments",
        vec![
            FakeResponse::error(403, "You have exceeded a secondary rate limit")
                .with_header("retry-after", "30"),
            FakeResponse::json(201, &json!({"id": 1, "body": "x"})),
        ],
    );
    h.github.create_issue_comment(&r(), 1, "x").await.unwrap();
    assert_eq!(h.sleeper.sleeps(), [secs(30)]);
    assert_eq!(h.fake.requests().len(), 2);
}

#[tokio::test]
async fn rate_limit_waits_are_bounded() {
    let h = harness_with(|b| b.max_rate_limit_retries(2)).await;
    h.fake.on(
        "GET",
        "/repos/o/r",
        FakeResponse::error(429, "slow down").with_header("retry-after", "5"),
    );
    let err = h.github.get_repo(&r()).await.unwrap_err();
    assert!(
        matches!(err, Error::RateLimited { retry_after: Some(d), .. } if d == secs(5)),
        "{err}"
    );
    assert_eq!(h.fake.requests().len(), 3);
    assert_eq!(h.sleeper.sleeps(), [secs(5), secs(5)]);
}

#[tokio::test]
async fn a_502_on_a_get_is_retried_with_backoff() {
    let h = harness_with(|b| b.backoff(Duration::from_millis(200), secs(10))).await;
    h.fake.on_sequence(
        "GET",
        "/repos/o/r",
        vec![
            FakeResponse::error(502, "Bad Gateway"),
            FakeResponse::ok(repo_json()),
        ],
    );
    h.github.get_repo(&r()).await.unwrap();
    assert_eq!(h.fake.requests().len(), 2);
    let sleeps = h.sleeper.sleeps();
    assert_eq!(sleeps.len(), 1);
    assert!(
        sleeps[0] >= Duration::from_millis(100) && sleeps[0] <= Duration::from_millis(200),
        "{sleeps:?}"
    );
    assert_eq!(h.github.stats().retries, 1);
}

#[tokio::test]
async fn a_503_with_retry_after_is_retried_after_that_long() {
    let h = harness().await;
    h.fake.on_sequence(
        "GET",
        "/repos/o/r",
        vec![
            FakeResponse::error(503, "Service Unavailable").with_header("retry-after", "45"),
            FakeResponse::ok(repo_json()),
        ],
    );
    h.github.get_repo(&r()).await.unwrap();
    assert_eq!(h.sleeper.sleeps(), [secs(45)]);
}

#[tokio::test]
async fn a_503_asking_for_longer_than_the_patience_hands_the_wait_to_the_caller() {
    let h = harness().await;
    h.fake.on_sequence(
        "GET",
        "/repos/o/r",
        vec![
            FakeResponse::error(503, "Service Unavailable").with_header("retry-after", "3600"),
            FakeResponse::ok(repo_json()),
        ],
    );
    let err = h.github.get_repo(&r()).await.unwrap_err();
    assert!(matches!(err, Error::Upstream { status: 503, .. }), "{err}");
    assert!(err.is_retryable());
    assert_eq!(err.retry_after(), Some(secs(3600)));
    // Never asked again sooner than told.
    assert_eq!(h.fake.requests().len(), 1);
    assert!(h.sleeper.sleeps().is_empty());
}

#[tokio::test]
async fn persistent_5xx_gives_up_after_max_retries_with_growing_waits() {
    let h = harness_with(|b| {
        b.max_retries(3)
            .backoff(Duration::from_millis(100), secs(10))
    })
    .await;
    h.fake.on(
        "GET",
        "/repos/o/r",
        FakeResponse::error(503, "Service Unavailable"),
    );
    let err = h.github.get_repo(&r()).await.unwrap_err();
    assert!(matches!(err, Error::Upstream { status: 503, .. }), "{err}");
    assert!(err.is_retryable());
    assert_eq!(h.fake.requests().len(), 4);
    let sleeps = h.sleeper.sleeps();
    assert_eq!(sleeps.len(), 3);
    for (i, s) in sleeps.iter().enumerate() {
        let full = Duration::from_millis(100 << i);
        assert!(*s >= full / 2 && *s <= full, "attempt {i}: {s:?}");
    }
}

#[tokio::test]
async fn a_502_on_a_post_is_not_retried() {
    let h = harness().await;
    h.fake.on_sequence(
        "POST",
        "/repos/o/r/issues/1/comments",
        vec![
            FakeResponse::error(502, "Bad Gateway"),
            FakeResponse::json(201, &json!({"id": 1})),
        ],
    );
    let err = h
        .github
        .create_issue_comment(&r(), 1, "hello")
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Upstream { status: 502, ref service, .. } if service == "github"),
        "{err}"
    );
    assert_eq!(h.fake.requests().len(), 1);
    assert!(h.sleeper.sleeps().is_empty());
}

#[tokio::test]
async fn malformed_json_is_a_protocol_error_and_not_retried() {
    let h = harness().await;
    h.fake.on(
        "GET",
        "/repos/o/r",
        FakeResponse::raw(200, "{\"full_name\": \"o/r\", ")
            .with_header("content-type", "application/json"),
    );
    let err = h.github.get_repo(&r()).await.unwrap_err();
    assert!(
        matches!(err, Error::Protocol { ref service, .. } if service == "github"),
        "{err}"
    );
    assert_eq!(h.fake.requests().len(), 1);
}

#[tokio::test]
async fn a_connection_reset_is_retried_for_a_get() {
    let h = harness().await;
    h.fake.on_sequence(
        "GET",
        "/repos/o/r",
        vec![FakeResponse::reset(), FakeResponse::ok(repo_json())],
    );
    h.github.get_repo(&r()).await.unwrap();
    assert_eq!(h.fake.requests().len(), 2);
    assert_eq!(h.github.stats().retries, 1);
}

#[tokio::test]
async fn a_connection_reset_is_a_connection_error() {
    let h = harness_with(|b| b.max_retries(1)).await;
    h.fake.on("GET", "/repos/o/r", FakeResponse::reset());
    let err = h.github.get_repo(&r()).await.unwrap_err();
    assert!(matches!(err, Error::Connection { .. }), "{err}");
    assert_eq!(h.fake.requests().len(), 2);
    // A write whose connection dropped may have been performed: it is reported, not repeated.
    h.fake.on(
        "POST",
        "/repos/o/r/issues/1/comments",
        FakeResponse::reset(),
    );
    let err = h
        .github
        .create_issue_comment(&r(), 1, "x")
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Connection { .. }), "{err}");
    assert_eq!(h.fake.requests_to("/repos/o/r/issues/1/comments").len(), 1);
}

#[tokio::test]
async fn nothing_listens_is_a_connection_error() {
    let addr = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let sleeper = std::sync::Arc::new(kova_github::testing::RecordingSleeper::new());
    let gh = kova_github::GitHub::builder()
        .base_url(format!("http://{addr}"))
        .sleeper(sleeper.clone())
        .max_retries(2)
        .build()
        .unwrap();
    let err = gh.get_repo(&r()).await.unwrap_err();
    assert!(matches!(err, Error::Connection { .. }), "{err}");
    assert_eq!(sleeper.sleeps().len(), 2, "retried twice");
}

#[tokio::test]
async fn a_slow_answer_times_out() {
    let h = harness_with(|b| b.timeout(Duration::from_millis(300)).max_retries(1)).await;
    h.fake.on_sequence(
        "GET",
        "/repos/o/r",
        vec![
            FakeResponse::ok(repo_json()).with_delay(secs(5)),
            FakeResponse::ok(repo_json()).with_delay(secs(5)),
        ],
    );
    let err = h.github.get_repo(&r()).await.unwrap_err();
    assert!(
        matches!(err, Error::Timeout { ref service } if service == "github"),
        "{err}"
    );
    assert_eq!(h.fake.requests().len(), 2);
}

#[tokio::test]
async fn client_errors_map_by_status_and_are_not_retried() {
    let h = harness().await;
    h.fake.on(
        "GET",
        "/repos/o/missing",
        FakeResponse::error(404, "Not Found"),
    );
    h.fake.on(
        "GET",
        "/repos/o/private",
        FakeResponse::error(401, "Bad credentials"),
    );
    h.fake.on(
        "GET",
        "/repos/o/forbidden",
        FakeResponse::error(403, "Resource not accessible by integration").with_rate_limit(
            4000,
            5000,
            START + 60,
        ),
    );
    h.fake.on(
        "GET",
        "/repos/o/teapot",
        FakeResponse::error(418, "I'm a teapot"),
    );

    let err = h
        .github
        .get_repo(&"o/missing".parse().unwrap())
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::NotFound { what: "repository", ref id } if id == "o/missing"),
        "{err}"
    );
    let err = h
        .github
        .get_repo(&"o/private".parse().unwrap())
        .await
        .unwrap_err();
    match &err {
        Error::Unauthenticated { service, message } => {
            assert_eq!(service, "github");
            assert_eq!(message, "Bad credentials");
        }
        other => panic!("{other:?}"),
    }
    assert!(!err.to_string().contains(TOKEN));
    let err = h
        .github
        .get_repo(&"o/forbidden".parse().unwrap())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::PermissionDenied { .. }), "{err}");
    let err = h
        .github
        .get_repo(&"o/teapot".parse().unwrap())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Upstream { status: 418, .. }), "{err}");
    assert!(!err.is_retryable());
    assert_eq!(h.fake.requests().len(), 4);
    assert!(h.sleeper.sleeps().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrency_is_bounded() {
    let h = harness_with(|b| b.max_concurrency(2)).await;
    h.fake.on(
        "GET",
        "/repos/o/r",
        FakeResponse::ok(repo_json()).with_delay(Duration::from_millis(250)),
    );
    let calls: Vec<_> = (0..8)
        .map(|_| {
            let gh = h.github.clone();
            tokio::spawn(async move { gh.get_repo(&r()).await })
        })
        .collect();
    for c in calls {
        c.await.unwrap().unwrap();
    }
    assert_eq!(h.fake.requests().len(), 8);
    assert_eq!(h.fake.max_concurrent(), 2);
}

#[tokio::test]
async fn the_token_never_shows() {
    let h = harness().await;
    let dbg = format!("{:?}", h.github);
    assert!(!dbg.contains(TOKEN), "{dbg}");
    let builder_dbg = format!("{:?}", kova_github::GitHub::builder().token(TOKEN));
    assert!(!builder_dbg.contains(TOKEN), "{builder_dbg}");
}

#[tokio::test]
async fn a_responder_answers_ahead_of_the_routes_and_can_keep_state() {
    use std::sync::{Arc, Mutex};
    let h = harness_with(|b| b.write_interval(Duration::ZERO)).await;
    h.fake
        .on("GET", "/repos/o/r", FakeResponse::ok(repo_json()))
        .on(
            "GET",
            "/repos/o/r/issues/7/comments",
            FakeResponse::ok(json!([])),
        );
    // A tiny stateful GitHub: comments created through the API are listed afterwards, and the
    // first write is refused by a secondary limit.
    let comments = Arc::new(Mutex::new(Vec::<serde_json::Value>::new()));
    let writes = Arc::new(Mutex::new(0u32));
    let (c, w) = (comments.clone(), writes.clone());
    h.fake
        .set_responder(move |req| match (req.method.as_str(), req.path.as_str()) {
            ("POST", "/repos/o/r/issues/7/comments") => {
                let mut n = w.lock().unwrap();
                *n += 1;
                if *n == 1 {
                    return Some(
                        FakeResponse::error(403, "You have exceeded a secondary rate limit.")
                            .with_header("retry-after", "7"),
                    );
                }
                let mut c = c.lock().unwrap();
                let comment = json!({"id": 100 + c.len(), "body": req.json()["body"]});
                c.push(comment.clone());
                Some(FakeResponse::json(201, &comment))
            }
            ("GET", "/repos/o/r/issues/7/comments") => {
                Some(FakeResponse::ok(json!(*c.lock().unwrap())))
            }
            _ => None,
        });
    let created = h
        .github
        .create_issue_comment(&r(), 7, "hello")
        .await
        .unwrap();
    assert_eq!(created.id, 100);
    assert_eq!(
        h.sleeper.sleeps(),
        [secs(7)],
        "the retry-after was honoured"
    );
    let listed = h.github.list_issue_comments(&r(), 7).await.unwrap();
    assert_eq!(listed.len(), 1, "the responder won over the route");
    assert_eq!(listed[0].body, "hello");
    // `None` falls through to the routes.
    assert_eq!(h.github.get_repo(&r()).await.unwrap().repo, r());

    h.fake.clear_responder();
    assert!(h
        .github
        .list_issue_comments(&r(), 7)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(*writes.lock().unwrap(), 2);
}

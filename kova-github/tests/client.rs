//! The REST client against a fake GitHub: what it sends, how it pages, caches and converts.

mod common;

use common::*;
use kova_core::{Error, SourceHost};
use kova_github::testing::FakeResponse;
use kova_github::GitHub;
use serde_json::json;

const REPO_PATH: &str = "/repos/octokit-fixture-org/hello-world";

#[tokio::test]
async fn get_repo_sends_githubs_headers_and_converts_a_recorded_response() {
    let h = harness().await;
    h.fake
        .load_octokit_scenario(&fixture("get-repository.json"))
        .unwrap();
    let got = h.github.get_repo(&repo()).await.unwrap();
    assert_eq!(got.repo, repo());
    assert_eq!(got.default_branch, "master");
    assert_eq!(
        got.html_url.as_deref(),
        Some("https://github.com/octokit-fixture-org/hello-world")
    );

    let reqs = h.fake.requests();
    assert_eq!(reqs.len(), 1);
    let r = &reqs[0];
    assert_eq!((r.method.as_str(), r.path.as_str()), ("GET", REPO_PATH));
    assert_eq!(
        r.header("authorization"),
        Some(format!("Bearer {TOKEN}").as_str())
    );
    assert_eq!(r.header("accept"), Some("application/vnd.github+json"));
    assert_eq!(r.header("x-github-api-version"), Some("2022-11-28"));
    assert_eq!(r.header("user-agent"), Some("kova-tests"));
    assert_eq!(r.header("if-none-match"), None);
}

#[tokio::test]
async fn an_unchanged_resource_costs_a_304_and_returns_the_cached_value() {
    let h = harness().await;
    h.fake
        .load_octokit_scenario(&fixture("get-repository.json"))
        .unwrap();
    let first = h.github.get_repo(&repo()).await.unwrap();
    let second = h.github.get_repo(&repo()).await.unwrap();
    assert_eq!(first, second);
    let reqs = h.fake.requests();
    assert_eq!(reqs.len(), 2);
    // The recorded ETag is sent back, and the fake answered 304.
    assert_eq!(
        reqs[1].header("if-none-match"),
        Some("\"00000000000000000000000000000000\"")
    );
    let stats = h.github.stats();
    assert_eq!(
        (stats.requests, stats.not_modified, stats.retries),
        (2, 1, 0)
    );
    assert_eq!(stats.rate_limit.remaining, Some(4999));
    assert_eq!(stats.rate_limit.limit, Some(5000));
}

#[tokio::test]
async fn a_changed_resource_replaces_the_cached_one() {
    let h = harness().await;
    let body = |stars: u64| json!({"full_name": "o/r", "default_branch": "main", "stargazers_count": stars});
    h.fake.on_sequence(
        "GET",
        "/repos/o/r",
        vec![
            FakeResponse::ok(body(1)).with_etag("\"v1\""),
            FakeResponse::ok(body(2)).with_etag("\"v2\""),
        ],
    );
    let r: kova_core::RepoRef = "o/r".parse().unwrap();
    assert_eq!(h.github.get_repo(&r).await.unwrap().stars, 1);
    assert_eq!(h.github.get_repo(&r).await.unwrap().stars, 2);
    assert_eq!(h.github.get_repo(&r).await.unwrap().stars, 2);
    let inm: Vec<_> = h
        .fake
        .requests()
        .iter()
        .map(|r| r.header("if-none-match").map(str::to_string))
        .collect();
    assert_eq!(
        inm,
        vec![None, Some("\"v1\"".into()), Some("\"v2\"".into())]
    );
    assert_eq!(h.github.stats().not_modified, 1);
}

#[tokio::test]
async fn enterprise_server_base_path_is_kept() {
    let h = harness_with(|b| b).await;
    let ghes = GitHub::builder()
        .base_url(format!("{}/api/v3", h.fake.url()))
        .token(TOKEN)
        .build()
        .unwrap();
    h.fake.on(
        "GET",
        "/api/v3/repos/o/r/languages",
        FakeResponse::ok(json!({"Rust": 1200, "Shell": 30})),
    );
    let langs = ghes.get_languages(&"o/r".parse().unwrap()).await.unwrap();
    assert_eq!(langs.get("Rust"), Some(&1200));
    assert_eq!(h.fake.requests()[0].path, "/api/v3/repos/o/r/languages");
}

#[tokio::test]
async fn listings_follow_link_headers_not_page_numbers() {
    let h = harness().await;
    h.fake.on(
        "GET",
        "/users/octo-org",
        FakeResponse::ok(json!({"login": "octo-org", "type": "Organization"})),
    );
    let repo = |n: u32| json!({"full_name": format!("octo-org/r{n}"), "default_branch": "main"});
    // GitHub's links carry opaque parameters; the client must use them as given.
    h.fake.on(
        "GET",
        "/orgs/octo-org/repos",
        FakeResponse::ok(json!([repo(1), repo(2)]))
            .with_next("{base}/organizations/99/repos?type=all&per_page=100&after=Y3Vyc29y"),
    );
    h.fake.on(
        "GET",
        "/organizations/99/repos?after=Y3Vyc29y",
        FakeResponse::ok(json!([repo(3)])).with_header(
            "link",
            "<{base}/organizations/99/repos?before=abc>; rel=\"prev\"",
        ),
    );
    let repos = h.github.list_owner_repos("octo-org").await.unwrap();
    let names: Vec<_> = repos.iter().map(|r| r.repo.to_string()).collect();
    assert_eq!(names, ["octo-org/r1", "octo-org/r2", "octo-org/r3"]);
    let reqs = h.fake.requests();
    assert_eq!(reqs.len(), 3);
    assert_eq!(reqs[1].path, "/orgs/octo-org/repos");
    assert_eq!(reqs[1].query_param("per_page").as_deref(), Some("100"));
    assert_eq!(reqs[1].query_param("type").as_deref(), Some("all"));
    assert_eq!(reqs[2].path, "/organizations/99/repos");
    assert_eq!(reqs[2].query_param("after").as_deref(), Some("Y3Vyc29y"));
    assert!(reqs[2].query_param("page").is_none());
}

#[tokio::test]
async fn a_user_owner_lists_through_users_repos() {
    let h = harness().await;
    h.fake.on(
        "GET",
        "/users/octocat",
        FakeResponse::ok(json!({"login": "octocat", "type": "User"})),
    );
    h.fake.on(
        "GET",
        "/users/octocat/repos",
        FakeResponse::ok(json!([{"full_name": "octocat/hello"}])),
    );
    let repos = h.github.list_owner_repos("octocat").await.unwrap();
    assert_eq!(repos.len(), 1);
    let r = &h.fake.requests_to("/users/octocat/repos")[0];
    assert_eq!(r.query_param("type").as_deref(), Some("owner"));
}

#[tokio::test]
async fn pagination_links_to_another_host_are_refused() {
    let h = harness().await;
    h.fake.on(
        "GET",
        "/repos/o/r/issues/1/comments",
        FakeResponse::ok(json!([])).with_next("https://evil.example.com/steal"),
    );
    let err = h
        .github
        .list_issue_comments(&"o/r".parse().unwrap(), 1)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Protocol { .. }), "{err}");
    assert_eq!(h.fake.requests().len(), 1);
}

#[tokio::test]
async fn recorded_pages_are_followed_to_the_end() {
    // The recorded paginate-issues pages, served for a comments listing: five pages of three.
    let h = harness().await;
    let scenario: serde_json::Value =
        serde_json::from_str(&fixture("paginate-issues.json")).unwrap();
    let pages = scenario.as_array().unwrap();
    let first = &pages[0];
    let mut resp = FakeResponse::ok(first["response"].clone());
    resp = resp.with_header(
        "link",
        &first["headers"]["link"]
            .as_str()
            .unwrap()
            .replace("https://api.github.com", "{base}"),
    );
    h.fake.on("GET", "/repos/o/r/issues/7/comments", resp);
    for page in &pages[1..] {
        let mut r = FakeResponse::ok(page["response"].clone());
        if let Some(link) = page["headers"]["link"].as_str() {
            r = r.with_header("link", &link.replace("https://api.github.com", "{base}"));
        }
        h.fake.on("GET", page["path"].as_str().unwrap(), r);
    }
    let comments = h
        .github
        .list_issue_comments(&"o/r".parse().unwrap(), 7)
        .await
        .unwrap();
    assert_eq!(comments.len(), 13);
    let paths: Vec<_> = h
        .fake
        .requests()
        .iter()
        .map(|r| r.query_param("page"))
        .collect();
    assert_eq!(
        paths,
        [
            None,
            Some("2".into()),
            Some("3".into()),
            Some("4".into()),
            Some("5".into())
        ]
    );
}

#[tokio::test]
async fn search_stops_at_githubs_thousand_result_cap() {
    let h = harness().await;
    let items: Vec<_> = (0..100)
        .map(|i| json!({"full_name": format!("o/r{i}")}))
        .collect();
    // Every page says there is a next one; the client must stop at 1000 results anyway.
    h.fake.on(
        "GET",
        "/search/repositories",
        FakeResponse::ok(json!({"total_count": 5000, "incomplete_results": false, "items": items}))
            .with_next("{base}/search/repositories?q=topic%3Akova&per_page=100&page=next"),
    );
    let repos = h.github.search_repos("topic:kova org:octo").await.unwrap();
    assert_eq!(repos.len(), 1000);
    let reqs = h.fake.requests();
    assert_eq!(reqs.len(), 10);
    assert_eq!(
        reqs[0].query_param("q").as_deref(),
        Some("topic:kova org:octo")
    );
}

#[tokio::test]
async fn an_unchanged_listing_costs_only_304s_and_keeps_paging() {
    let h = harness().await;
    h.fake.on(
        "GET",
        "/users/octocat",
        FakeResponse::ok(json!({"login": "octocat", "type": "User"})).with_etag("\"u\""),
    );
    h.fake.on(
        "GET",
        "/users/octocat/repos",
        FakeResponse::ok(json!([{"full_name": "octocat/a"}]))
            .with_etag("\"p1\"")
            .with_next("{base}/user/1/repos?page=2"),
    );
    h.fake.on(
        "GET",
        "/user/1/repos",
        FakeResponse::ok(json!([{"full_name": "octocat/b"}])).with_etag("\"p2\""),
    );
    let first = h.github.list_owner_repos("octocat").await.unwrap();
    let again = h.github.list_owner_repos("octocat").await.unwrap();
    assert_eq!(first, again);
    assert_eq!(again.len(), 2);
    let stats = h.github.stats();
    assert_eq!((stats.requests, stats.not_modified), (6, 3));
    let second_round = &h.fake.requests()[3..];
    assert!(second_round
        .iter()
        .all(|r| r.header("if-none-match").is_some()));
}

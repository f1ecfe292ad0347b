//! The REST client against a fake GitHub: what it sends, how it pages, caches and converts.

mod common;

use common::*;
use kova_core::{CommitQuery, EntryKind, Error, SourceHost};
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
async fn a_truncated_tree_is_completed_by_walking_subtrees() {
    let h = harness().await;
    let e = |path: &str, kind: &str, sha: &str| json!({"path": path, "type": kind, "sha": sha, "mode": "100644", "size": 1});
    h.fake.on(
        "GET",
        "/repos/o/r/git/trees/main?recursive=1",
        FakeResponse::ok(
            json!({"sha": "root", "truncated": true, "tree": [e("README.md", "blob", "b0")]}),
        ),
    );
    h.fake.on("GET", "/repos/o/r/git/trees/root", FakeResponse::ok(json!({"sha": "root", "truncated": false,
        "tree": [e("README.md", "blob", "b0"), e("src", "tree", "t-src"), e("docs", "tree", "t-docs"), e("vendor", "commit", "c0")]})));
    // src is small enough for one recursive listing.
    h.fake.on(
        "GET",
        "/repos/o/r/git/trees/t-src?recursive=1",
        FakeResponse::ok(json!({"sha": "t-src", "truncated": false,
        "tree": [e("lib.rs", "blob", "b1"), e("a", "tree", "t-a"), e("a/mod.rs", "blob", "b2")]})),
    );
    // docs is truncated even on its own: it is listed level by level.
    h.fake.on(
        "GET",
        "/repos/o/r/git/trees/t-docs?recursive=1",
        FakeResponse::ok(json!({"sha": "t-docs", "truncated": true, "tree": []})),
    );
    h.fake.on(
        "GET",
        "/repos/o/r/git/trees/t-docs",
        FakeResponse::ok(json!({"sha": "t-docs", "truncated": false,
        "tree": [e("index.md", "blob", "b3"), e("img", "tree", "t-img")]})),
    );
    h.fake.on(
        "GET",
        "/repos/o/r/git/trees/t-img?recursive=1",
        FakeResponse::ok(json!({"sha": "t-img", "truncated": false,
        "tree": [e("logo.png", "blob", "b4")]})),
    );
    let tree = h
        .github
        .get_tree(&"o/r".parse().unwrap(), "main")
        .await
        .unwrap();
    assert!(!tree.truncated);
    assert_eq!(tree.sha, "root");
    let paths: Vec<_> = tree
        .entries
        .iter()
        .map(|e| (e.path.as_str(), e.kind))
        .collect();
    assert_eq!(
        paths,
        [
            ("README.md", EntryKind::Blob),
            ("docs", EntryKind::Tree),
            ("docs/img", EntryKind::Tree),
            ("docs/img/logo.png", EntryKind::Blob),
            ("docs/index.md", EntryKind::Blob),
            ("src", EntryKind::Tree),
            ("src/a", EntryKind::Tree),
            ("src/a/mod.rs", EntryKind::Blob),
            ("src/lib.rs", EntryKind::Blob),
            ("vendor", EntryKind::Commit),
        ]
    );
}

#[tokio::test]
async fn a_tree_that_cannot_be_completed_says_so() {
    let h = harness().await;
    h.fake.on(
        "GET",
        "/repos/o/r/git/trees/main?recursive=1",
        FakeResponse::ok(json!({"sha": "root", "truncated": true, "tree": []})),
    );
    h.fake.on(
        "GET",
        "/repos/o/r/git/trees/root",
        FakeResponse::ok(json!({"sha": "root", "truncated": true,
        "tree": [{"path": "a.txt", "type": "blob", "sha": "x"}]})),
    );
    let tree = h
        .github
        .get_tree(&"o/r".parse().unwrap(), "main")
        .await
        .unwrap();
    assert!(tree.truncated);
    assert_eq!(tree.entries.len(), 1);
}

#[tokio::test]
async fn files_are_base64_decoded_and_big_ones_fetched_raw() {
    let h = harness().await;
    h.fake.on(
        "GET",
        "/repos/o/r/contents/docs/READ%20ME.md?ref=dev",
        FakeResponse::ok(json!({
        "type": "file", "path": "docs/READ ME.md", "sha": "abc", "size": 13, "encoding": "base64",
        "content": "IyBoZWxsby13\nb3JsZA==\n"})),
    );
    let f = h
        .github
        .get_file(&"o/r".parse().unwrap(), "docs/READ ME.md", Some("dev"))
        .await
        .unwrap();
    assert_eq!(f.text(), Some("# hello-world"));
    assert_eq!(
        (f.path.as_str(), f.sha.as_str()),
        ("docs/READ ME.md", "abc")
    );

    // Over 1 MB, GitHub sends `encoding: none` and no content: the raw media type is needed.
    let big = vec![b'x'; 2 << 20];
    h.fake.on("GET", "/repos/o/r/contents/big.bin", FakeResponse::ok(json!({
        "type": "file", "path": "big.bin", "sha": "big", "size": big.len(), "encoding": "none", "content": ""})));
    h.fake.clear_requests();
    let raw_route = FakeResponse::raw(200, big.clone())
        .with_header("content-type", "application/vnd.github.raw+json");
    // Same path: told apart by the Accept header the fake records; routes cannot see it, so
    // the second answer is sequenced.
    h.fake.on_sequence("GET", "/repos/o/r/contents/big.bin", vec![
        FakeResponse::ok(json!({"type": "file", "path": "big.bin", "sha": "big", "size": big.len(), "encoding": "none", "content": ""})),
        raw_route,
    ]);
    let f = h
        .github
        .get_file(&"o/r".parse().unwrap(), "big.bin", None)
        .await
        .unwrap();
    assert_eq!(f.content.len(), big.len());
    assert_eq!(f.sha, "big");
    let reqs = h.fake.requests();
    assert_eq!(reqs.len(), 2);
    assert_eq!(
        reqs[1].header("accept"),
        Some("application/vnd.github.raw+json")
    );
}

#[tokio::test]
async fn a_directory_is_not_a_file_and_a_missing_file_is_not_found() {
    let h = harness().await;
    // The recorded listing of the repository root, served for a directory.
    let scenario: serde_json::Value = serde_json::from_str(&fixture("get-content.json")).unwrap();
    h.fake.on(
        "GET",
        "/repos/octokit-fixture-org/hello-world/contents/docs",
        FakeResponse::ok(scenario[0]["response"].clone()),
    );
    let err = h.github.get_file(&repo(), "docs", None).await.unwrap_err();
    assert!(matches!(err, Error::Invalid { .. }), "{err}");
    for bad in ["", "/", "../secrets.txt", "a/./b"] {
        let err = h.github.get_file(&repo(), bad, None).await.unwrap_err();
        assert!(matches!(err, Error::Invalid { .. }), "{bad}: {err}");
    }
    let err = h
        .github
        .get_file(&repo(), "nope.txt", None)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotFound { what: "file", .. }), "{err}");
}

#[tokio::test]
async fn commits_honour_ref_since_and_limit() {
    let h = harness().await;
    let c = |i: u32| {
        json!({"sha": format!("s{i}"), "commit": {"message": format!("m{i}"),
        "author": {"name": "Mona", "date": "2024-01-01T00:00:00Z"}}, "author": {"login": "mona"}})
    };
    h.fake.on(
        "GET",
        "/repos/o/r/commits",
        FakeResponse::ok(json!([c(1), c(2), c(3)]))
            .with_next("{base}/repositories/1/commits?page=2"),
    );
    h.fake.on(
        "GET",
        "/repositories/1/commits",
        FakeResponse::ok(json!([c(4), c(5), c(6)]))
            .with_next("{base}/repositories/1/commits?page=3"),
    );
    let since = chrono::DateTime::from_timestamp(1_600_000_000, 0).unwrap();
    let q = CommitQuery::default()
        .with_ref("dev")
        .with_limit(5)
        .with_since(since);
    let commits = h
        .github
        .list_commits(&"o/r".parse().unwrap(), &q)
        .await
        .unwrap();
    assert_eq!(commits.len(), 5);
    assert_eq!(commits[0].author.as_deref(), Some("Mona"));
    let reqs = h.fake.requests();
    assert_eq!(reqs.len(), 2, "stops once the limit is reached");
    assert_eq!(reqs[0].query_param("sha").as_deref(), Some("dev"));
    assert_eq!(reqs[0].query_param("per_page").as_deref(), Some("5"));
    assert_eq!(
        reqs[0].query_param("since").as_deref(),
        Some("2020-09-13T12:26:40Z")
    );

    // An empty repository answers 409: no commits, not an error.
    h.fake.on(
        "GET",
        "/repos/o/empty/commits",
        FakeResponse::error(409, "Git Repository is empty."),
    );
    let none = h
        .github
        .list_commits(&"o/empty".parse().unwrap(), &CommitQuery::default())
        .await
        .unwrap();
    assert!(none.is_empty());
}

#[tokio::test]
async fn compare_pull_request_and_files() {
    let h = harness().await;
    let commit = |s: &str| json!({"sha": s, "commit": {"message": "m", "author": {"name": "a"}}});
    h.fake.on("GET", "/repos/o/r/compare/main...feature%2Fx", FakeResponse::ok(json!({
        "status": "ahead", "ahead_by": 3, "behind_by": 0, "commits": [commit("c1"), commit("c2")],
        "files": [{"filename": "a.rs", "status": "modified", "additions": 1, "deletions": 2, "patch": "@@"}]}))
        .with_next("{base}/repositories/1/compare/main...feature%2Fx?page=2"));
    h.fake.on(
        "GET",
        "/repositories/1/compare/main...feature%2Fx",
        FakeResponse::ok(json!({
        "status": "ahead", "ahead_by": 3, "behind_by": 0, "commits": [commit("c3")], "files": []})),
    );
    let cmp = h
        .github
        .compare(&"o/r".parse().unwrap(), "main", "feature/x")
        .await
        .unwrap();
    assert_eq!((cmp.status.as_str(), cmp.ahead_by), ("ahead", 3));
    let shas: Vec<_> = cmp.commits.iter().map(|c| c.sha.as_str()).collect();
    assert_eq!(shas, ["c1", "c2", "c3"]);
    assert_eq!(cmp.files.len(), 1);

    h.fake.on("GET", "/repos/o/r/pulls/5", FakeResponse::ok(json!({"number": 5, "title": "T", "state": "open",
        "draft": true, "head": {"ref": "feature/x", "sha": "h"}, "base": {"ref": "main", "sha": "b"}, "user": {"login": "mona"}})));
    let pr = h
        .github
        .get_pull_request(&"o/r".parse().unwrap(), 5)
        .await
        .unwrap();
    assert_eq!(
        (pr.head_ref.as_str(), pr.base_sha.as_str(), pr.draft),
        ("feature/x", "b", true)
    );
    assert_eq!(pr.author.as_deref(), Some("mona"));

    h.fake.on("GET", "/repos/o/r/pulls/5/files", FakeResponse::ok(json!([
        {"filename": "new.rs", "status": "renamed", "previous_filename": "old.rs", "additions": 0, "deletions": 0},
        {"filename": "img.png", "status": "added", "additions": 0, "deletions": 0}])));
    let files = h
        .github
        .pull_request_files(&"o/r".parse().unwrap(), 5)
        .await
        .unwrap();
    assert_eq!(files[0].previous_filename.as_deref(), Some("old.rs"));
    assert_eq!(files[1].patch, None);
    let err = h
        .github
        .get_pull_request(&"o/r".parse().unwrap(), 6)
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::NotFound { what: "pull request", ref id } if id == "o/r#6"),
        "{err}"
    );
}

#[tokio::test]
async fn comments_are_posted_serially_at_least_a_second_apart() {
    let h = harness().await;
    h.fake.on(
        "POST",
        "/repos/o/r/issues/3/comments",
        FakeResponse::json(
            201,
            &json!({"id": 11, "body": "hi", "user": {"login": "kova[bot]"}}),
        ),
    );
    h.fake.on(
        "PATCH",
        "/repos/o/r/issues/comments/11",
        FakeResponse::ok(json!({"id": 11, "body": "edited"})),
    );
    let r: kova_core::RepoRef = "o/r".parse().unwrap();
    let c = h.github.create_issue_comment(&r, 3, "hi").await.unwrap();
    assert_eq!((c.id, c.author.as_deref()), (11, Some("kova[bot]")));
    let c = h
        .github
        .update_issue_comment(&r, 11, "edited")
        .await
        .unwrap();
    assert_eq!(c.body, "edited");
    let reqs = h.fake.requests();
    assert_eq!(reqs[0].json(), json!({"body": "hi"}));
    assert_eq!(reqs[1].method, "PATCH");
    // The second write waited for the pacing interval (the clock had not moved).
    assert_eq!(h.sleeper.sleeps(), [std::time::Duration::from_secs(1)]);
    // Reads are not paced.
    h.fake.on(
        "GET",
        "/repos/o/r/issues/3/comments",
        FakeResponse::ok(json!([])),
    );
    h.github.list_issue_comments(&r, 3).await.unwrap();
    h.github.list_issue_comments(&r, 3).await.unwrap();
    assert_eq!(h.sleeper.sleeps().len(), 1);
}

#[tokio::test]
async fn validation_errors_keep_githubs_message() {
    let h = harness().await;
    h.fake.on("POST", "/repos/o/r/issues/3/comments", FakeResponse::json(422, &json!({
        "message": "Validation Failed", "errors": [{"resource": "IssueComment", "code": "missing_field", "field": "body"}]})));
    let err = h
        .github
        .create_issue_comment(&"o/r".parse().unwrap(), 3, "")
        .await
        .unwrap_err();
    match err {
        Error::Invalid { message, .. } => assert!(
            message.contains("Validation Failed") && message.contains("body"),
            "{message}"
        ),
        other => panic!("{other:?}"),
    }
    assert_eq!(h.fake.requests().len(), 1);
}

#[tokio::test]
async fn hook_deliveries_list_by_cursor_and_redeliver() {
    let h = harness().await;
    let d = |id: u64, code: u16| {
        json!({"id": id, "guid": format!("g{id}"), "delivered_at": "2024-05-01T10:00:00Z",
        "redelivery": false, "duration": 0.2, "status": "OK", "status_code": code, "event": "push", "action": null,
        "installation_id": null, "repository_id": 1})
    };
    h.fake.on(
        "GET",
        "/repos/o/r/hooks/9/deliveries",
        FakeResponse::ok(json!([d(3, 200), d(2, 502)]))
            .with_next("{base}/repos/o/r/hooks/9/deliveries?per_page=100&cursor=v1_2"),
    );
    h.fake.on(
        "GET",
        "/repos/o/r/hooks/9/deliveries?cursor=v1_2",
        FakeResponse::ok(json!([d(1, 0)])),
    );
    h.fake.on(
        "POST",
        "/repos/o/r/hooks/9/deliveries/2/attempts",
        FakeResponse::json(202, &json!({})),
    );
    let r: kova_core::RepoRef = "o/r".parse().unwrap();
    let all = h.github.list_hook_deliveries(&r, 9, None).await.unwrap();
    let failed: Vec<_> = all.iter().filter(|d| d.failed()).map(|d| d.id).collect();
    assert_eq!(failed, [2, 1]);
    h.github.redeliver(&r, 9, 2).await.unwrap();
    let last = h.fake.requests().pop().unwrap();
    assert_eq!(
        (last.method.as_str(), last.path.as_str()),
        ("POST", "/repos/o/r/hooks/9/deliveries/2/attempts")
    );
    let limited = h.github.list_hook_deliveries(&r, 9, Some(1)).await.unwrap();
    assert_eq!(limited.len(), 1);
}

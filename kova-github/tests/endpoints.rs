//! Each SourceHost endpoint (and the hook-delivery methods) against a fake GitHub.

mod common;

use common::*;
use kova_core::{CommitQuery, EntryKind, Error, SourceHost};
use kova_github::testing::FakeResponse;
use serde_json::json;

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

#[tokio::test]
async fn the_fake_keeps_issue_comments_when_asked() {
    let h = harness().await;
    h.fake.serve_issue_comments();
    let r: kova_core::RepoRef = "o/r".parse().unwrap();
    assert!(h
        .github
        .list_issue_comments(&r, 4)
        .await
        .unwrap()
        .is_empty());
    let c = h.github.create_issue_comment(&r, 4, "first").await.unwrap();
    h.github
        .create_issue_comment(&r, 5, "elsewhere")
        .await
        .unwrap();
    let edited = h
        .github
        .update_issue_comment(&r, c.id, "edited")
        .await
        .unwrap();
    assert_eq!((edited.id, edited.body.as_str()), (c.id, "edited"));
    let listed = h.github.list_issue_comments(&r, 4).await.unwrap();
    assert_eq!(
        listed
            .iter()
            .map(|c| (c.id, c.body.as_str()))
            .collect::<Vec<_>>(),
        [(c.id, "edited")]
    );
    assert_eq!(h.fake.issue_comments("o/r", 5)[0].body, "elsewhere");
    let missing = h.github.update_issue_comment(&r, 999, "x").await;
    assert!(
        matches!(missing, Err(Error::NotFound { .. })),
        "{missing:?}"
    );
}

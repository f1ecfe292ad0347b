//! Issue comments kept in memory by [`FakeGitHub`](super::FakeGitHub), so code that finds its
//! own comment again and edits it (instead of posting a second one) can be tested against a
//! server that remembers what was posted.

use super::fake::FakeResponse;
use kova_core::IssueComment;
use serde_json::json;
use std::collections::BTreeMap;

/// Comments by (`owner/repo`, issue number), oldest first; ids are unique across issues.
#[derive(Debug, Default)]
pub(crate) struct Comments {
    next_id: u64,
    by_issue: BTreeMap<(String, u64), Vec<IssueComment>>,
}

/// What a path under `/repos/{owner}/{repo}/issues/` asks for.
enum Target {
    /// `/issues/{number}/comments`
    Issue(String, u64),
    /// `/issues/comments/{id}`
    Comment(String, u64),
}

fn target(path: &str) -> Option<Target> {
    // Enterprise Server clients put `/api/v3` in front of every path.
    let path = path.strip_prefix("/api/v3").unwrap_or(path);
    let rest = path.strip_prefix("/repos/")?;
    let parts: Vec<&str> = rest.split('/').collect();
    match parts.as_slice() {
        [owner, repo, "issues", "comments", id] => {
            Some(Target::Comment(format!("{owner}/{repo}"), id.parse().ok()?))
        }
        [owner, repo, "issues", number, "comments"] => Some(Target::Issue(
            format!("{owner}/{repo}"),
            number.parse().ok()?,
        )),
        _ => None,
    }
}

fn comment_json(base: &str, repo: &str, number: u64, c: &IssueComment) -> serde_json::Value {
    json!({
        "id": c.id,
        "body": c.body,
        "user": {"login": "kova-bot[bot]", "id": 1, "type": "Bot"},
        "html_url": format!("{base}/{repo}/issues/{number}#issuecomment-{}", c.id),
    })
}

impl Comments {
    /// Answers list, create and edit requests; `None` for any other request.
    pub(crate) fn answer(
        &mut self,
        method: &str,
        path: &str,
        body: &[u8],
        base: &str,
    ) -> Option<FakeResponse> {
        let new_body = || {
            serde_json::from_slice::<serde_json::Value>(body)
                .ok()
                .and_then(|v| v["body"].as_str().map(str::to_string))
        };
        match (method, target(path)?) {
            ("GET", Target::Issue(repo, number)) => {
                let list: Vec<_> = self
                    .by_issue
                    .get(&(repo.clone(), number))
                    .map(|cs| {
                        cs.iter()
                            .map(|c| comment_json(base, &repo, number, c))
                            .collect()
                    })
                    .unwrap_or_default();
                Some(FakeResponse::ok(json!(list)))
            }
            ("POST", Target::Issue(repo, number)) => {
                let Some(text) = new_body() else {
                    return Some(FakeResponse::error(422, "Invalid request: body is missing"));
                };
                self.next_id += 1;
                let c = IssueComment {
                    id: self.next_id,
                    body: text,
                    author: Some("kova-bot[bot]".into()),
                    html_url: None,
                };
                let out = comment_json(base, &repo, number, &c);
                self.by_issue.entry((repo, number)).or_default().push(c);
                Some(FakeResponse::json(201, &out))
            }
            ("PATCH", Target::Comment(repo, id)) => {
                let Some(text) = new_body() else {
                    return Some(FakeResponse::error(422, "Invalid request: body is missing"));
                };
                let found = self
                    .by_issue
                    .iter_mut()
                    .filter(|((r, _), _)| *r == repo)
                    .find_map(|((_, n), cs)| cs.iter_mut().find(|c| c.id == id).map(|c| (*n, c)));
                Some(match found {
                    Some((number, c)) => {
                        c.body = text;
                        FakeResponse::ok(comment_json(base, &repo, number, c))
                    }
                    None => FakeResponse::error(404, "Not Found"),
                })
            }
            _ => None,
        }
    }

    /// The comments on one issue or pull request, oldest first.
    pub(crate) fn on(&self, repo: &str, number: u64) -> Vec<IssueComment> {
        self.by_issue
            .get(&(repo.to_string(), number))
            .cloned()
            .unwrap_or_default()
    }
}

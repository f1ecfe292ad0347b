//! The fake GitHub and fake Anthropic a scenario's servers talk to.

use super::{READ_KEY, REPO, WEBHOOK_SECRET};
use kova::claude::testing::{FakeAnthropic, FakeResponse as LlmResponse};
use kova::github::testing::{FakeGitHub, FakeResponse};
use std::collections::HashMap;
use std::time::Duration;

/// The fake GitHub and fake Anthropic one scenario's servers talk to.
pub struct Fakes {
    pub github: FakeGitHub,
    pub anthropic: FakeAnthropic,
}

/// The review every fake LLM call answers.
pub const REVIEW_TEXT: &str = "No issues found.";

impl Fakes {
    /// GitHub serves the changed files of pull requests `numbers` and keeps comments; the LLM
    /// answers every call with [`REVIEW_TEXT`] after `llm_delay` (so jobs are in flight).
    pub async fn for_reviews(numbers: std::ops::Range<u64>, llm_delay: Duration) -> Fakes {
        let github = FakeGitHub::start().await;
        github.serve_issue_comments();
        let files = FakeResponse::ok(serde_json::json!([{
            "sha": "bbcd538c8e72b8c175046e27cc8f907076331401",
            "filename": "README.md",
            "status": "modified",
            "additions": 1,
            "deletions": 0,
            "changes": 1,
            "patch": "@@ -1 +1,2 @@\n # Hello-World\n+More information.",
        }]));
        for n in numbers {
            github.on(
                "GET",
                &format!("/repos/{REPO}/pulls/{n}/files"),
                files.clone(),
            );
        }
        let anthropic = FakeAnthropic::start().await;
        anthropic.set_fallback(LlmResponse::text(REVIEW_TEXT).with_delay(llm_delay));
        Fakes { github, anthropic }
    }

    /// The server variables that point at these fakes.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("KOVA_GITHUB_API_URL", self.github.url()),
            ("GITHUB_TOKEN", "ghp_process_test_token".into()),
            ("KOVA_GITHUB_WRITE_INTERVAL_MS", "0".into()),
            ("KOVA_ANTHROPIC_BASE_URL", self.anthropic.base_url()),
            ("ANTHROPIC_API_KEY", "sk-ant-process-test".into()),
        ]
    }

    /// How many LLM calls asked about each pull request (by the number in the prompt).
    pub fn llm_calls_per_pr(&self) -> HashMap<u64, usize> {
        let mut out = HashMap::new();
        for r in self.anthropic.requests() {
            let body = String::from_utf8_lossy(&r.body).into_owned();
            if let Some(n) = pr_number_in(&body) {
                *out.entry(n).or_default() += 1;
            }
        }
        out
    }

    /// How many comments were created on each pull request.
    pub fn comment_posts_per_pr(&self) -> HashMap<u64, usize> {
        let mut out = HashMap::new();
        let prefix = format!("/repos/{REPO}/issues/");
        for r in self.github.requests() {
            if r.method != "POST" {
                continue;
            }
            let n = r
                .path
                .strip_prefix(&prefix)
                .and_then(|rest| rest.strip_suffix("/comments"))
                .and_then(|n| n.parse::<u64>().ok());
            if let Some(n) = n {
                *out.entry(n).or_default() += 1;
            }
        }
        out
    }
}

/// The pull request a review prompt is about: `Pull request #N in owner/repo`.
pub fn pr_number_in(text: &str) -> Option<u64> {
    let rest = &text[text.find("Pull request #")? + "Pull request #".len()..];
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

impl Fakes {
    /// A reviewing server's variables: these fakes, the store at `database_url`, signed
    /// webhooks, a read key, comments on for every repository (a repositories file written in
    /// `dir`) and no rate limit. The tests add their workers and leases.
    pub fn review_server_env(
        &self,
        database_url: String,
        dir: &std::path::Path,
    ) -> Vec<(&'static str, String)> {
        let mut env = self.env();
        env.extend([
            ("DATABASE_URL", database_url),
            ("GITHUB_WEBHOOK_SECRET", WEBHOOK_SECRET.to_string()),
            ("KOVA_API_KEYS", format!("read:{READ_KEY}")),
            ("KOVA_REPOS_CONFIG", respond_config(dir)),
            ("KOVA_RATE_LIMIT", "off".to_string()),
        ]);
        env
    }
}

/// A repositories file that turns comments on for every repository.
fn respond_config(dir: &std::path::Path) -> String {
    let path = dir.join("kova_repos_config.json");
    std::fs::write(
        &path,
        r#"{"github_owner": "Codertocat", "integration_settings": {"respond": true}}"#,
    )
    .expect("write the repositories file");
    path.display().to_string()
}

//! The deliveries: real GitHub payloads (the vendored `@octokit/webhooks-examples` subset),
//! edited so each one is a distinct piece of work, signed as GitHub signs them.

use crate::fakes::{OUTAGE, REJECT};
use bytes::Bytes;
use kova::github::{webhook::sign, Secret};
use serde_json::{json, Value};

/// The webhook secret of the test.
pub const SECRET: &str = "fault-injection-secret";

const DIR: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/kova-github/tests/fixtures/webhooks"
);

/// What a delivery is meant to exercise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `pull_request` opened: files from GitHub, a review from the LLM, a comment.
    PrOpened,
    /// `pull_request` synchronize (of a pull request not reviewed before): the same path.
    PrSynchronize,
    /// `issues` opened: a triage from the LLM, a comment.
    IssueOpened,
    /// `issue_comment` with `/kova ask …`: an answer from the LLM, a comment.
    Ask,
    /// `push` to the default branch: a summary from the LLM.
    Push,
    /// `workflow_run` completed with `failure`: a repository error and a fix suggestion.
    WorkflowFailed,
    /// An event no handler wants (star, watch, label): stored `ignored`, no job.
    Ignored,
    /// A pull request GitHub no longer has (404): dead at once, not retried.
    GonePr,
    /// An issue whose prompt the LLM refuses (400): dead at once, not retried.
    RejectedIssue,
    /// A push whose summary meets an LLM outage (529 every time): dead after every attempt.
    OutagePush,
}

impl Kind {
    /// Whether the delivery's job must end dead whatever the luck.
    pub fn doomed(self) -> bool {
        matches!(self, Kind::GonePr | Kind::RejectedIssue | Kind::OutagePush)
    }

    /// Whether the job posts a comment on GitHub when it succeeds.
    pub fn comments(self) -> bool {
        matches!(
            self,
            Kind::PrOpened | Kind::PrSynchronize | Kind::IssueOpened | Kind::Ask
        )
    }
}

/// One signed delivery.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// `X-GitHub-Delivery`.
    pub id: String,
    /// `X-GitHub-Event`.
    pub event: &'static str,
    /// What it exercises.
    pub kind: Kind,
    /// The issue or pull request number it is about (distinct per delivery).
    pub number: u64,
    /// The payload.
    pub body: Bytes,
}

impl Delivery {
    /// The headers GitHub sends.
    pub fn headers(&self) -> Vec<(String, String)> {
        vec![
            ("X-GitHub-Event".into(), self.event.into()),
            ("X-GitHub-Delivery".into(), self.id.clone()),
            ("X-GitHub-Hook-ID".into(), "424242".into()),
            (
                "X-Hub-Signature-256".into(),
                sign(&Secret::new(SECRET), &self.body),
            ),
            ("Content-Type".into(), "application/json".into()),
        ]
    }
}

fn load(name: &str) -> Value {
    let path = format!("{DIR}/{name}.json");
    serde_json::from_slice(&std::fs::read(&path).expect(&path)).expect("fixture JSON")
}

/// The kind of delivery `i`: a fixed mix, so every seed sees the same work.
pub fn kind_of(i: usize) -> Kind {
    match i % 10 {
        0 | 1 => Kind::PrOpened,
        2 => Kind::PrSynchronize,
        3 | 4 => Kind::IssueOpened,
        5 => Kind::Ask,
        6 => Kind::Push,
        7 => Kind::WorkflowFailed,
        8 => Kind::Ignored,
        _ => match (i / 10) % 3 {
            0 => Kind::GonePr,
            1 => Kind::RejectedIssue,
            _ => Kind::OutagePush,
        },
    }
}

/// `n` deliveries with distinct ids, numbers, head commits, comment and run ids.
pub fn deliveries(n: usize) -> Vec<Delivery> {
    (0..n).map(delivery).collect()
}

fn delivery(i: usize) -> Delivery {
    let kind = kind_of(i);
    let number = 1000 + i as u64;
    let sha = format!("{:040x}", 0xfa01_7000_0000u64 + i as u64);
    let (event, body) = match kind {
        Kind::PrOpened | Kind::PrSynchronize | Kind::GonePr => {
            let mut p = load("pull_request.opened");
            p["action"] = if kind == Kind::PrSynchronize {
                "synchronize"
            } else {
                "opened"
            }
            .into();
            p["number"] = number.into();
            p["pull_request"]["number"] = number.into();
            p["pull_request"]["title"] = format!("Change {i}: tidy the module").into();
            p["pull_request"]["head"]["sha"] = sha.clone().into();
            ("pull_request", p)
        }
        Kind::IssueOpened | Kind::RejectedIssue => {
            let mut p = load("issues.pinned");
            p["action"] = "opened".into();
            p["issue"]["number"] = number.into();
            p["issue"]["title"] = format!("Saving file {i} fails").into();
            // The marker goes in the body: other issues' prompts list titles only.
            let marker = if kind == Kind::RejectedIssue {
                REJECT
            } else {
                ""
            };
            p["issue"]["body"] = format!("Steps to reproduce case {i}. {marker}").into();
            ("issues", p)
        }
        Kind::Ask => {
            let mut p = load("issue_comment.created");
            p["issue"]["number"] = number.into();
            p["comment"]["id"] = (7_000_000 + i as u64).into();
            p["comment"]["body"] = format!("/kova ask why does case {i} fail?").into();
            ("issue_comment", p)
        }
        Kind::Push | Kind::OutagePush => {
            let mut p = load("push.default");
            p["ref"] = "refs/heads/master".into();
            p["deleted"] = false.into();
            p["after"] = sha.clone().into();
            let marker = if kind == Kind::OutagePush { OUTAGE } else { "" };
            p["commits"] = json!([{
                "id": sha,
                "message": format!("Update case {i} {marker}"),
                "author": {"name": "Codertocat"},
                "added": [], "removed": [], "modified": [format!("case_{i}.md")],
            }]);
            ("push", p)
        }
        Kind::WorkflowFailed => {
            let mut p = load("workflow_run.completed");
            p["workflow_run"]["conclusion"] = "failure".into();
            p["workflow_run"]["id"] = (90_000_000 + i as u64).into();
            p["workflow_run"]["name"] = format!("CI {i}").into();
            p["workflow_run"]["head_sha"] = sha.into();
            ("workflow_run", p)
        }
        Kind::Ignored => {
            let (event, name) = [
                ("star", "star.created"),
                ("watch", "watch.started"),
                ("label", "label.deleted"),
            ][(i / 10) % 3];
            (event, load(name))
        }
    };
    Delivery {
        id: format!("f00d{i:04}-0000-4000-8000-{:012x}", i * 7919),
        event,
        kind,
        number,
        body: Bytes::from(serde_json::to_vec(&body).expect("JSON")),
    }
}

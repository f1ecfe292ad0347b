//! `workflow_run`: a GitHub Actions run requested, in progress or completed.

use super::common::{lenient_timestamp, InstallationRef, Repository, User};
use kova_core::Timestamp;
use serde::Deserialize;

/// A `workflow_run` payload.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct WorkflowRunEvent {
    /// `requested`, `in_progress` or `completed`.
    pub action: String,
    /// The run.
    pub workflow_run: WorkflowRun,
    /// The workflow.
    pub workflow: Option<Workflow>,
    /// The repository.
    pub repository: Repository,
    /// Who triggered it.
    pub sender: Option<User>,
    /// GitHub App installation.
    pub installation: Option<InstallationRef>,
}

impl WorkflowRunEvent {
    /// True for a completed run whose conclusion is `failure` or `timed_out`.
    pub fn failed(&self) -> bool {
        self.action == "completed"
            && matches!(
                self.workflow_run.conclusion.as_deref(),
                Some("failure" | "timed_out" | "startup_failure")
            )
    }
}

/// A workflow run.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct WorkflowRun {
    /// Run id.
    pub id: u64,
    /// Workflow name.
    pub name: Option<String>,
    /// Branch.
    pub head_branch: Option<String>,
    /// Commit.
    pub head_sha: String,
    /// Run number.
    pub run_number: u64,
    /// Attempt.
    pub run_attempt: Option<u64>,
    /// The triggering event (`push`, `pull_request`…).
    pub event: String,
    /// `queued`, `in_progress`, `completed`…
    pub status: Option<String>,
    /// `success`, `failure`, `cancelled`, `timed_out`… (when completed).
    pub conclusion: Option<String>,
    /// Workflow id.
    pub workflow_id: u64,
    /// Web address.
    pub html_url: String,
    /// Logs download address.
    pub logs_url: Option<String>,
    /// Jobs address.
    pub jobs_url: Option<String>,
    /// Pull requests the run is for.
    pub pull_requests: Vec<RunPullRequest>,
    /// Created.
    #[serde(deserialize_with = "lenient_timestamp")]
    pub created_at: Option<Timestamp>,
    /// Last updated.
    #[serde(deserialize_with = "lenient_timestamp")]
    pub updated_at: Option<Timestamp>,
}

/// A pull request a run belongs to.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct RunPullRequest {
    /// Number.
    pub number: u64,
    /// Id.
    pub id: u64,
}

/// A workflow definition.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct Workflow {
    /// Id.
    pub id: u64,
    /// Name.
    pub name: String,
    /// Path of the workflow file.
    pub path: String,
    /// `active`, `disabled_manually`…
    pub state: Option<String>,
}

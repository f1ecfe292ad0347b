//! Webhook deliveries of a repository hook: list them and ask for a redelivery (what to do
//! after downtime: find the failed deliveries and have GitHub send them again).

use super::transport::Request;
use super::GitHub;
use kova_core::{RepoRef, Result, Timestamp};
use reqwest::Method;
use serde::Deserialize;

/// One delivery attempt of a hook, as GitHub lists it.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct HookDelivery {
    /// The delivery attempt's id (for redelivery).
    pub id: u64,
    /// The `X-GitHub-Delivery` GUID (shared by redeliveries).
    pub guid: String,
    /// When it was sent.
    pub delivered_at: Option<Timestamp>,
    /// A redelivery.
    pub redelivery: bool,
    /// Seconds the receiver took.
    pub duration: f64,
    /// `OK`, or what went wrong.
    pub status: String,
    /// The receiver's HTTP status (0 when it could not be reached).
    pub status_code: u16,
    /// The event.
    pub event: String,
    /// The payload's action.
    pub action: Option<String>,
    /// The GitHub App installation.
    pub installation_id: Option<u64>,
    /// The repository.
    pub repository_id: Option<u64>,
}

impl HookDelivery {
    /// True when the receiver did not answer with a 2xx.
    pub fn failed(&self) -> bool {
        !(200..300).contains(&self.status_code)
    }
}

impl GitHub {
    /// The most recent deliveries of a repository hook, newest first, following GitHub's
    /// cursor links up to `limit` (all when `None`).
    pub async fn list_hook_deliveries(
        &self,
        repo: &RepoRef,
        hook_id: u64,
        limit: Option<usize>,
    ) -> Result<Vec<HookDelivery>> {
        let hook = hook_id.to_string();
        let mut url = self.inner.repo_url(repo, &["hooks", &hook, "deliveries"]);
        let per_page = limit.map_or(100, |l| l.clamp(1, 100));
        url.query_pairs_mut()
            .append_pair("per_page", &per_page.to_string());
        self.inner
            .get_pages(
                url,
                "hook",
                &format!("{repo} hook {hook_id}"),
                limit,
                |resp| resp.json(),
            )
            .await
    }

    /// Asks GitHub to send a delivery again (it answers 202 and sends it shortly).
    pub async fn redeliver(&self, repo: &RepoRef, hook_id: u64, delivery_id: u64) -> Result<()> {
        let hook = hook_id.to_string();
        let delivery = delivery_id.to_string();
        let url = self
            .inner
            .repo_url(repo, &["hooks", &hook, "deliveries", &delivery, "attempts"]);
        let mut req = Request::get(
            url,
            "hook delivery",
            format!("{repo} hook {hook_id} delivery {delivery_id}"),
        );
        req.method = Method::POST;
        self.inner.send(req).await.map(|_| ())
    }
}

//! The sync service as the `sync` action of AI commands sees it.

use crate::artifacts::RepoSyncer;
use crate::config::ReposConfig;
use crate::error::{Error, Result};
use crate::model::RepoRef;
use crate::sync::{SyncRequest, SyncService};
use async_trait::async_trait;
use serde_json::Value;

#[async_trait]
impl RepoSyncer for SyncService {
    async fn sync_one(&self, repo: &RepoRef) -> Result<Value> {
        let report = self.sync(SyncRequest::repos(vec![repo.clone()])).await?;
        serde_json::to_value(&report).map_err(|e| Error::Internal(format!("sync report: {e}")))
    }

    fn repos_config(&self) -> Option<ReposConfig> {
        self.config()
    }
}

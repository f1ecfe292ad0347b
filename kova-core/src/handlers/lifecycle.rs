//! Webhook lifecycle events: `ping` (the hook works) and `installation` /
//! `installation_repositories` (repositories added to or removed from the GitHub App).

use super::payload::{self, InstallationEvent, InstallationRepo, PingEvent};
use super::HandlerSettings;
use crate::error::Result;
use crate::handler::{EventHandler, HandlerContext, HandlerOutcome};
use crate::model::{ArtifactKind, NewArtifact, RepoRef, Repository, WebhookEvent};
use async_trait::async_trait;
use serde_json::json;
use std::sync::Arc;

/// Records that a webhook was set up and reaches Kova.
#[derive(Debug, Default)]
pub struct Ping;

#[async_trait]
impl EventHandler for Ping {
    fn name(&self) -> &str {
        "ping"
    }

    fn accepts(&self, event: &str, _action: Option<&str>) -> bool {
        event == "ping"
    }

    async fn handle(&self, _ctx: &HandlerContext, event: &WebhookEvent) -> Result<HandlerOutcome> {
        let p: PingEvent = payload::parse("ping", &event.delivery.body)?;
        let hook_id = p.hook_id.or(p.hook.id).or(event.delivery.hook_id);
        let record = json!({
            "hook_id": hook_id,
            "events": p.hook.events,
            "active": p.hook.active,
            "zen": p.zen,
            "target_type": event.delivery.target_type,
            "received_at": event.delivery.received_at,
        });
        let mut a = NewArtifact::new("webhook ping", ArtifactKind::Data, record.to_string());
        a.language = Some("json".into());
        a.metadata.extra.insert("purpose".into(), json!("ping"));
        Ok(HandlerOutcome::empty().with_artifact(a))
    }
}

/// Adds repositories installed into the GitHub App (as planned, until a sync finds them) and
/// disables removed ones, keeping their history.
#[derive(Debug)]
pub struct Installation {
    settings: Arc<HandlerSettings>,
}

impl Installation {
    /// An installation handler with the given settings.
    pub fn new(settings: Arc<HandlerSettings>) -> Self {
        Installation { settings }
    }
}

#[async_trait]
impl EventHandler for Installation {
    fn name(&self) -> &str {
        "installation"
    }

    fn accepts(&self, event: &str, _action: Option<&str>) -> bool {
        event == "installation" || event == "installation_repositories"
    }

    async fn handle(&self, ctx: &HandlerContext, event: &WebhookEvent) -> Result<HandlerOutcome> {
        let p: InstallationEvent = payload::parse(&event.delivery.event, &event.delivery.body)?;
        let (add, remove): (&[InstallationRepo], &[InstallationRepo]) =
            match (event.delivery.event.as_str(), p.action.as_str()) {
                ("installation", "created" | "unsuspend") => (&p.repositories, &[]),
                ("installation", "deleted" | "suspend") => (&[], &p.repositories),
                ("installation_repositories", _) => {
                    (&p.repositories_added, &p.repositories_removed)
                }
                _ => (&[], &[]),
            };
        let now = ctx.clock.now();
        let mut added = Vec::new();
        let mut disabled = Vec::new();
        for r in add {
            let Ok(repo) = r.full_name.parse::<RepoRef>() else {
                continue;
            };
            let row = match ctx.store.get_repository(&repo).await? {
                Some(mut existing) => {
                    existing.enabled = true;
                    existing.updated_at = now;
                    existing
                }
                None => Repository::new(repo.clone(), self.settings.installed_repo_kind, now),
            };
            ctx.store.upsert_repository(&row).await?;
            added.push(repo.to_string());
        }
        for r in remove {
            let Ok(repo) = r.full_name.parse::<RepoRef>() else {
                continue;
            };
            if let Some(mut existing) = ctx.store.get_repository(&repo).await? {
                existing.enabled = false;
                existing.updated_at = now;
                ctx.store.upsert_repository(&existing).await?;
                disabled.push(repo.to_string());
            }
        }
        let mut a = NewArtifact::new(
            format!("{} {}", event.delivery.event, p.action),
            ArtifactKind::Data,
            json!({"added": added, "disabled": disabled}).to_string(),
        );
        a.language = Some("json".into());
        a.metadata
            .extra
            .insert("purpose".into(), json!("installation"));
        Ok(HandlerOutcome::empty().with_artifact(a))
    }
}

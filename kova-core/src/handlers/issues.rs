//! Issue triage: a summary, suggested labels and likely duplicates among the repository's
//! stored issues.

use super::payload::{self, IssuesEvent};
use super::respond::upsert_comment;
use super::HandlerSettings;
use crate::error::Result;
use crate::handler::{EventHandler, HandlerContext, HandlerOutcome};
use crate::model::{ArtifactKind, ListOptions, NewArtifact, RepoRef, Validation, WebhookEvent};
use crate::provider::CompletionRequest;
use crate::store::EventFilter;
use async_trait::async_trait;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

/// Job kind and artifact purpose of triage.
pub const ISSUE_TRIAGE: &str = "issue_triage";

/// How many stored issues are compared, and how many candidates go to the model.
const COMPARED: usize = 500;
const CANDIDATES: usize = 5;

/// Triage of opened and edited issues.
#[derive(Debug)]
pub struct IssueTriage {
    settings: Arc<HandlerSettings>,
}

impl IssueTriage {
    /// A triager with the given settings.
    pub fn new(settings: Arc<HandlerSettings>) -> Self {
        IssueTriage { settings }
    }
}

#[async_trait]
impl EventHandler for IssueTriage {
    fn name(&self) -> &str {
        ISSUE_TRIAGE
    }

    fn accepts(&self, event: &str, action: Option<&str>) -> bool {
        event == "issues" && matches!(action, Some("opened" | "edited"))
    }

    async fn handle(&self, ctx: &HandlerContext, event: &WebhookEvent) -> Result<HandlerOutcome> {
        let p: IssuesEvent = payload::parse("issues", &event.delivery.body)?;
        let repo: RepoRef = p.repository.full_name.parse()?;
        let issue = &p.issue;
        let text = format!("{}\n{}", issue.title, issue.body.as_deref().unwrap_or(""));
        let candidates = similar_issues(ctx, &repo, issue.number, &text).await?;
        let mut prompt =
            format!(
            "Triage this GitHub issue of {repo}.\n\nIssue #{}: {}\n\n{}\n\nCurrent labels: {}\n",
            issue.number,
            issue.title,
            issue.body.as_deref().unwrap_or("(no description)"),
            issue.labels.iter().map(|l| l.name.as_str()).collect::<Vec<_>>().join(", ")
        );
        if !candidates.is_empty() {
            prompt.push_str("\nPossibly related issues already filed:\n");
            for (n, title, score) in &candidates {
                prompt.push_str(&format!("- #{n} {title} (similarity {score:.2})\n"));
            }
        }
        prompt.push_str(
            "\nAnswer with one JSON object only: {\"summary\": string, \"labels\": [string], \
             \"duplicates\": [issue numbers from the list above that report the same problem]}.",
        );
        let req = CompletionRequest::new(prompt).with_max_tokens(1024);
        let c = ctx.complete(ISSUE_TRIAGE, Some(&repo), &req).await?;
        let parsed = first_json_object(&c.text);
        let mut a = NewArtifact::new(
            format!("triage of #{}", issue.number),
            ArtifactKind::Analysis,
            String::new(),
        );
        a.validation = match &parsed {
            Some(_) => Validation::Valid,
            None => Validation::Invalid("the model did not answer with a JSON object".into()),
        };
        let summary = parsed
            .as_ref()
            .and_then(|v| v["summary"].as_str())
            .unwrap_or(&c.text)
            .to_string();
        let labels: Vec<String> = parsed
            .as_ref()
            .and_then(|v| v["labels"].as_array())
            .map(|l| {
                l.iter()
                    .filter_map(|x| x.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        let known: HashSet<u64> = candidates.iter().map(|(n, _, _)| *n).collect();
        let duplicates: Vec<u64> = parsed
            .as_ref()
            .and_then(|v| v["duplicates"].as_array())
            .map(|d| {
                d.iter()
                    .filter_map(Value::as_u64)
                    .filter(|n| known.contains(n))
                    .collect()
            })
            .unwrap_or_default();
        let mut content = format!("{summary}\n");
        if !labels.is_empty() {
            content.push_str(&format!("\nSuggested labels: {}\n", labels.join(", ")));
        }
        if !duplicates.is_empty() {
            let refs: Vec<String> = duplicates.iter().map(|n| format!("#{n}")).collect();
            content.push_str(&format!("\nLikely duplicates: {}\n", refs.join(", ")));
        }
        a.content = content.clone();
        a.language = Some("markdown".into());
        a.repo = Some(repo.clone());
        a.metadata.model = Some(c.model);
        a.metadata.usage = c.usage;
        a.metadata.cost_usd = c.cost_usd;
        let x = &mut a.metadata.extra;
        x.insert("purpose".into(), json!(ISSUE_TRIAGE));
        x.insert("issue_number".into(), json!(issue.number));
        x.insert("labels".into(), json!(labels));
        x.insert("duplicates".into(), json!(duplicates));
        x.insert(
            "candidates".into(),
            json!(candidates
                .iter()
                .map(|(n, t, s)| json!({"number": n, "title": t, "similarity": s}))
                .collect::<Vec<_>>()),
        );
        if self.settings.respond.allows(&repo) {
            let source = ctx.source()?;
            upsert_comment(
                source.as_ref(),
                &repo,
                issue.number,
                ISSUE_TRIAGE,
                &format!("### Kova triage\n\n{content}"),
            )
            .await?;
        }
        Ok(HandlerOutcome::empty().with_artifact(a))
    }
}

/// Stored issues of the repository most similar to `text` (word-set Jaccard), best first.
async fn similar_issues(
    ctx: &HandlerContext,
    repo: &RepoRef,
    number: u64,
    text: &str,
) -> Result<Vec<(u64, String, f64)>> {
    let filter = EventFilter::default()
        .with_repo(repo.clone())
        .with_event("issues");
    let page = ctx
        .store
        .list_events(&filter, &ListOptions::default().with_limit(COMPARED))
        .await?;
    let mine = words(text);
    // Latest text per issue number: an issue edited several times counts once.
    let mut latest: BTreeMap<u64, String> = BTreeMap::new();
    let mut titles: BTreeMap<u64, String> = BTreeMap::new();
    for e in page.items {
        let Ok(p) = payload::parse::<IssuesEvent>("issues", &e.delivery.body) else {
            continue;
        };
        let n = p.issue.number;
        if n == number || latest.contains_key(&n) {
            continue;
        }
        latest.insert(
            n,
            format!("{}\n{}", p.issue.title, p.issue.body.unwrap_or_default()),
        );
        titles.insert(n, p.issue.title);
    }
    let mut scored: Vec<(u64, String, f64)> = latest
        .into_iter()
        .map(|(n, t)| {
            let other = words(&t);
            let inter = mine.intersection(&other).count() as f64;
            let union = mine.union(&other).count().max(1) as f64;
            (n, titles.remove(&n).unwrap_or_default(), inter / union)
        })
        .filter(|(_, _, s)| *s >= 0.15)
        .collect();
    scored.sort_by(|a, b| b.2.total_cmp(&a.2));
    scored.truncate(CANDIDATES);
    Ok(scored)
}

fn words(text: &str) -> HashSet<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.len() > 2)
        .map(str::to_lowercase)
        .collect()
}

/// The first balanced `{...}` in a text that parses as a JSON object.
pub(crate) fn first_json_object(text: &str) -> Option<Value> {
    let bytes = text.as_bytes();
    let mut start = 0;
    while let Some(off) = text[start..].find('{') {
        let open = start + off;
        let (mut depth, mut in_str, mut escaped) = (0i32, false, false);
        for (i, &b) in bytes.iter().enumerate().skip(open) {
            match (in_str, b) {
                (true, _) if escaped => escaped = false,
                (true, b'\\') => escaped = true,
                (true, b'"') => in_str = false,
                (false, b'"') => in_str = true,
                (false, b'{') => depth += 1,
                (false, b'}') => {
                    depth -= 1;
                    if depth == 0 {
                        if let Ok(v @ Value::Object(_)) = serde_json::from_str(&text[open..=i]) {
                            return Some(v);
                        }
                        break;
                    }
                }
                _ => {}
            }
        }
        start = open + 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_json_in_prose() {
        let v = first_json_object(
            "Sure! ```json\n{\"summary\": \"a {b}\", \"labels\": [\"bug\"]}\n```",
        )
        .unwrap();
        assert_eq!(v["labels"][0], "bug");
        assert_eq!(v["summary"], "a {b}");
        assert!(first_json_object("no json {here").is_none());
    }
}

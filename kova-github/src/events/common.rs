//! Objects that many payloads share: users, repositories, installations, labels.

use kova_core::Timestamp;
use serde::{Deserialize, Deserializer};

/// A user, bot or organisation as payloads show it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct User {
    /// Login.
    pub login: String,
    /// Numeric id.
    pub id: u64,
    /// `User`, `Bot` or `Organization`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Web address.
    pub html_url: Option<String>,
}

/// A repository as payloads show it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct Repository {
    /// Numeric id.
    pub id: u64,
    /// Name without the owner.
    pub name: String,
    /// `owner/name`.
    pub full_name: String,
    /// The owner.
    pub owner: User,
    /// Private repository.
    pub private: bool,
    /// A fork.
    pub fork: bool,
    /// Archived.
    pub archived: bool,
    /// Description.
    pub description: Option<String>,
    /// Default branch.
    pub default_branch: String,
    /// Web address.
    pub html_url: String,
    /// Clone address.
    pub clone_url: Option<String>,
    /// Primary language.
    pub language: Option<String>,
    /// Topics.
    pub topics: Vec<String>,
    /// Last push (push payloads give epoch seconds, the others ISO 8601: both accepted).
    #[serde(deserialize_with = "lenient_timestamp")]
    pub pushed_at: Option<Timestamp>,
}

/// The installation of a GitHub App that a delivery is for.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct InstallationRef {
    /// Installation id.
    pub id: u64,
}

/// A label.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct Label {
    /// Name.
    pub name: String,
    /// Hex color without `#`.
    pub color: String,
    /// Description.
    pub description: Option<String>,
}

/// A branch reference of a pull request (`head` or `base`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct BranchRef {
    /// Branch name.
    #[serde(rename = "ref")]
    pub git_ref: String,
    /// Commit id.
    pub sha: String,
    /// `owner:branch`.
    pub label: Option<String>,
    /// The repository the branch lives in (absent when a fork was deleted).
    pub repo: Option<Repository>,
}

/// Accepts an ISO 8601 string, epoch seconds, or null; anything unreadable becomes `None`
/// rather than failing the whole payload, since views are lenient by design.
pub(crate) fn lenient_timestamp<'de, D>(d: D) -> Result<Option<Timestamp>, D::Error>
where
    D: Deserializer<'de>,
{
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Text(String),
        Seconds(i64),
        Float(f64),
        Other(serde::de::IgnoredAny),
    }
    Ok(match Raw::deserialize(d)? {
        Raw::Text(s) => chrono::DateTime::parse_from_rfc3339(&s)
            .ok()
            .map(|t| t.with_timezone(&chrono::Utc)),
        Raw::Seconds(s) => chrono::DateTime::from_timestamp(s, 0),
        Raw::Float(f) => chrono::DateTime::from_timestamp(f as i64, 0),
        Raw::Other(_) => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_in_either_form() {
        let a: Repository = serde_json::from_str(r#"{"pushed_at":1557933565}"#).unwrap();
        let b: Repository =
            serde_json::from_str(r#"{"pushed_at":"2019-05-15T15:19:25Z"}"#).unwrap();
        assert_eq!(a.pushed_at, b.pushed_at);
        assert!(a.pushed_at.is_some());
        let c: Repository = serde_json::from_str(r#"{"pushed_at":null,"unknown":[1]}"#).unwrap();
        assert_eq!(c.pushed_at, None);
    }
}

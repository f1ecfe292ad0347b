//! Typed row identifiers, so an event id can never be passed where a job id is expected.

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! row_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

row_id!(
    /// Identifies a stored webhook event.
    EventId
);
row_id!(
    /// Identifies a job in the queue.
    JobId
);
row_id!(
    /// Identifies a stored artifact.
    ArtifactId
);
row_id!(
    /// Identifies a recorded LLM interaction.
    InteractionId
);
row_id!(
    /// Identifies a sync log entry.
    SyncLogId
);
row_id!(
    /// Identifies a recorded repository error.
    RepoErrorId
);

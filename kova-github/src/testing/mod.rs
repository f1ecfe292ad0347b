//! Test doubles for code that talks to GitHub (feature `testing`): [`FakeGitHub`], a local fake
//! of the REST API (optionally keeping issue comments), and [`RecordingSleeper`], which records
//! the client's waits instead of waiting.

mod comments;
mod fake;
mod sleeper;

pub use fake::{FakeGitHub, FakeResponse, RecordedRequest, Responder};
pub use sleeper::RecordingSleeper;

//! Process-level reliability tests: the example server (`examples/server.rs`, the README's
//! first command) runs as a real child process, configured only by environment variables,
//! against a fake GitHub and a fake Anthropic that live in this test process.
//!
//! - `crash`: signed deliveries under load, SIGKILL mid-load, restart on the same store; every
//!   acknowledged delivery is stored once and processed, and re-run jobs have no duplicate
//!   effects (SQLite and PostgreSQL).
//! - `scale_out`: two servers with workers on one PostgreSQL schema; every job runs once.
//! - `secrets`: known secrets in every secret setting, every error path driven; none appears
//!   in logs, response bodies or headers.
//!
//! The child is this test binary run again with `--exact server_child --include-ignored` and
//! `KOVA_PROCESS_CHILD=1`: it runs the example's own `main`, so no nested cargo build is needed.
//! PostgreSQL variants run when `KOVA_TEST_POSTGRES_URL` is set, each in a fresh schema, and
//! print a skip notice otherwise.
//!
//! Sizes (defaults keep each test well under a minute in a debug build):
//! - `KOVA_CRASH_DELIVERIES` (default 1000): deliveries per crash test; the kill comes after
//!   30% of them were acknowledged;
//! - `KOVA_SCALE_OUT_DELIVERIES` (default 2000): deliveries of the scale-out test.

mod crash;
mod scale_out;
mod secrets;
mod support;

#[path = "../../examples/server.rs"]
mod server;

/// The server child process: runs the example server with the environment the parent set.
#[test]
#[ignore = "the process tests' server child; runs only with KOVA_PROCESS_CHILD set"]
fn server_child() {
    if std::env::var_os(support::CHILD_ENV).is_none() {
        return;
    }
    server::main();
}

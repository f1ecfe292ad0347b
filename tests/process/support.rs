//! What the process tests share: server child processes, the fakes they talk to, signed
//! deliveries and the load that sends them, test databases, and reading a store back.

mod child;
mod db;
mod fakes;
mod load;

pub use child::Server;
pub use db::*;
pub use fakes::*;
pub use load::*;

use std::sync::{Mutex, MutexGuard};

/// Set in the child's environment: run the server.
pub const CHILD_ENV: &str = "KOVA_PROCESS_CHILD";
/// The repository of every delivery.
pub const REPO: &str = "Codertocat/Hello-World";
/// The webhook secret of the load tests.
pub const WEBHOOK_SECRET: &str = "process-test-webhook-secret";
/// The read key the load tests poll the queue with.
pub const READ_KEY: &str = "process-test-read-key-0123456789";

/// Runs one scenario on a two-thread runtime (the fakes and the load run there), one scenario
/// at a time: each runs server processes that want both cores, and the crash test's timing
/// (leases) should not depend on what another test does meanwhile.
pub fn scenario<F: std::future::Future>(f: F) -> F::Output {
    static ONE: Mutex<()> = Mutex::new(());
    let _one = lock(&ONE);
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(f)
}

/// A number from the environment, or the default.
pub fn size(var: &str, default: usize) -> usize {
    match std::env::var(var) {
        Ok(v) => v
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("{var} must be a whole number, not '{v}'")),
        Err(_) => default,
    }
}

/// Locks a mutex, poisoned or not (a panicking test thread must not hide the first error).
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

//! Test support (feature `testing`): the Store conformance suite every backend runs, and test
//! doubles for the other plugin traits.

pub mod conformance;
mod fake_source;
mod manual_clock;
mod scripted_llm;

pub use fake_source::FakeSource;
pub use manual_clock::ManualClock;
pub use scripted_llm::ScriptedLlm;

/// Generates one `#[tokio::test]` per conformance behaviour for a backend.
///
/// `$make` is an async expression evaluated once per test that yields something that derefs to
/// a `dyn Store` (e.g. `Arc<dyn Store>`), fresh for each test. The calling crate needs `tokio`
/// (with `macros` and `rt-multi-thread`) as a dev-dependency.
///
/// With `optional:`, `$make` yields an `Option` of such a store; `None` means the backend is
/// not available here (e.g. no `KOVA_TEST_POSTGRES_URL`), and each test prints a notice and
/// passes without running.
///
/// ```ignore
/// kova_core::conformance_suite!(async { std::sync::Arc::new(MemoryStore::new()) });
/// kova_core::conformance_suite!(optional: async { postgres_store_or_none().await });
/// ```
#[macro_export]
macro_rules! conformance_suite {
    (optional: $make:expr) => {
        $crate::conformance_suite!(@list @optional $make);
    };
    ($make:expr) => {
        $crate::conformance_suite!(@list @required $make);
    };
    (@list @$mode:ident $make:expr) => {
        $crate::conformance_suite!(@tests $mode $make;
            repository_upsert_get_list,
            snapshots_are_history,
            record_delivery_is_idempotent,
            concurrent_duplicate_deliveries_make_one_row_and_one_job,
            delivery_and_job_are_written_together,
            invalid_input_writes_nothing,
            claim_hands_each_job_to_one_claimer,
            claim_respects_due_time_and_order,
            expired_lease_is_reclaimed,
            only_the_lease_holder_may_finish,
            retry_reschedules_then_dies_after_max_attempts,
            lease_expired_on_last_attempt_makes_job_dead,
            release_returns_job_without_spending_an_attempt,
            defer_waits_without_spending_an_attempt,
            renew_lease_extends_it,
            dedupe_key_prevents_repeat_work,
            coalesce_key_supersedes_queued_work,
            events_follow_their_jobs,
            jobs_summary_counts_by_status,
            pagination_is_stable_under_concurrent_inserts,
            filters_narrow_lists,
            artifacts_round_trip_with_versions_and_idempotency,
            interactions_round_trip_with_usage_totals,
            sync_logs_and_repo_errors_round_trip
        );
    };
    (@tests required $make:expr; $($name:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let store = $make.await;
                $crate::testing::conformance::$name(&*store).await;
            }
        )*
    };
    (@tests optional $make:expr; $($name:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                match $make.await {
                    Some(store) => $crate::testing::conformance::$name(&*store).await,
                    None => eprintln!(
                        "notice: skipping conformance::{}: backend not available",
                        stringify!($name)
                    ),
                }
            }
        )*
    };
}

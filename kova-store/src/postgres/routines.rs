//! The SQL functions Kova calls, and their installation.
//!
//! Enqueueing a job with a dedupe or coalescing key must take the key's advisory lock and only
//! then look for the jobs it would duplicate or supersede. Done from the client, that is a
//! transaction of up to eight round trips (BEGIN, the event, each lock, the lookup, the
//! supersession, the job, COMMIT), with the key locked for most of them; on a busy machine each
//! round trip waits for both processes to get a CPU, so every delivery on a busy key (one pull
//! request's events) queued behind the last one for milliseconds. As functions they are one
//! round trip, and the lock is held for the function and the commit only.
//!
//! Every statement of a `VOLATILE` function takes a fresh snapshot (at PostgreSQL's default
//! READ COMMITTED), so the lookup after a lock wait sees what the lock's previous holder
//! committed. Keys are locked dedupe before coalescing, the order every caller keeps, so no two
//! transactions wait for each other in a cycle; the lock names are those of
//! [`super::jobs::lock_key`], so processes of an older Kova that lock from the client still
//! take turns with these.

use super::error::PgResultExt;
use kova_core::{Error, Result};

/// A function this build calls: its name, argument types (for `COMMENT ON FUNCTION`) and its
/// `CREATE` statement.
struct Routine {
    name: &'static str,
    args: &'static str,
    sql: String,
}

/// Dedupe, coalesce, insert one job: `(o_deduplicated, o_job)`, the existing job's id when
/// deduplicated.
const ENQUEUE_JOB: &str = "
CREATE OR REPLACE FUNCTION kova_enqueue_job(p_kind TEXT, p_event BIGINT, p_payload TEXT,
    p_dedupe TEXT, p_coalesce TEXT, p_max_attempts BIGINT, p_run_at TIMESTAMPTZ,
    p_now TIMESTAMPTZ, OUT o_deduplicated BOOLEAN, OUT o_job BIGINT)
LANGUAGE plpgsql VOLATILE AS $kova$
BEGIN
    IF p_dedupe IS NOT NULL THEN
        PERFORM pg_advisory_xact_lock(hashtextextended('kova:dedupe:' || p_dedupe, 0));
    END IF;
    IF p_coalesce IS NOT NULL THEN
        PERFORM pg_advisory_xact_lock(hashtextextended('kova:coalesce:' || p_coalesce, 0));
    END IF;
    IF p_dedupe IS NOT NULL THEN
        SELECT j.id INTO o_job FROM jobs j
        WHERE j.dedupe_key = p_dedupe AND j.status IN ('queued', 'running', 'done')
        ORDER BY j.id LIMIT 1;
        IF FOUND THEN
            o_deduplicated := true;
            RETURN;
        END IF;
    END IF;
    IF p_coalesce IS NOT NULL THEN
        WITH s AS (
            UPDATE jobs j SET status = 'superseded', updated_at = p_now
            WHERE j.coalesce_key = p_coalesce AND j.status = 'queued'
            RETURNING j.event_id)
        UPDATE events e SET status = 'ignored' WHERE e.id IN (SELECT s.event_id FROM s);
    END IF;
    INSERT INTO jobs (kind, event_id, payload, dedupe_key, coalesce_key, attempts,
        max_attempts, run_at, status, created_at, updated_at)
    VALUES (p_kind, p_event, p_payload, p_dedupe, p_coalesce, 0, p_max_attempts, p_run_at,
        'queued', p_now, p_now)
    RETURNING id INTO o_job;
    o_deduplicated := false;
END
$kova$";

/// One delivery and its job (`p_kind` NULL: none): `(o_event, o_duplicate, o_deduplicated,
/// o_job)`. A duplicate of a committed delivery is not inserted and gets the existing event's
/// id; an event whose job was deduplicated is `ignored`.
const RECORD_DELIVERY: &str = "
CREATE OR REPLACE FUNCTION kova_record_delivery(p_hook_id BIGINT, p_delivery TEXT,
    p_event TEXT, p_action TEXT, p_repo TEXT, p_installation BIGINT, p_sender TEXT,
    p_target_type TEXT, p_target_id BIGINT, p_user_agent TEXT, p_body BYTEA,
    p_body_codec SMALLINT, p_received TIMESTAMPTZ, p_status TEXT, p_kind TEXT,
    p_payload TEXT, p_dedupe TEXT, p_coalesce TEXT, p_max_attempts BIGINT,
    p_run_at TIMESTAMPTZ, OUT o_event BIGINT, OUT o_duplicate BOOLEAN,
    OUT o_deduplicated BOOLEAN, OUT o_job BIGINT)
LANGUAGE plpgsql VOLATILE AS $kova$
BEGIN
    INSERT INTO events (hook_id, hook_key, delivery_id, event, action, repo, installation_id,
        sender, target_type, target_id, user_agent, body, body_codec, received_at, status)
    VALUES (p_hook_id, COALESCE(p_hook_id, 0), p_delivery, p_event, p_action, p_repo,
        p_installation, p_sender, p_target_type, p_target_id, p_user_agent, p_body,
        p_body_codec, p_received, p_status)
    ON CONFLICT (hook_key, delivery_id) DO NOTHING
    RETURNING id INTO o_event;
    o_duplicate := NOT FOUND;
    IF o_duplicate THEN
        -- Another transaction recorded it and committed (ON CONFLICT waited for it).
        SELECT e.id INTO STRICT o_event FROM events e
        WHERE e.hook_key = COALESCE(p_hook_id, 0) AND e.delivery_id = p_delivery;
        RETURN;
    END IF;
    IF p_kind IS NULL THEN
        RETURN;
    END IF;
    SELECT q.o_deduplicated, q.o_job INTO o_deduplicated, o_job
    FROM kova_enqueue_job(p_kind, o_event, p_payload, p_dedupe, p_coalesce, p_max_attempts,
        COALESCE(p_run_at, p_received), p_received) q;
    IF o_deduplicated THEN
        -- The work is done or under way already: this event needs nothing more.
        UPDATE events SET status = 'ignored' WHERE id = o_event;
    END IF;
END
$kova$";

fn routines() -> [Routine; 3] {
    [
        Routine {
            name: "kova_claim_jobs",
            args: "TIMESTAMPTZ, TIMESTAMPTZ, TEXT, BIGINT",
            sql: super::jobs::claim_function_sql(),
        },
        Routine {
            name: "kova_enqueue_job",
            args: "TEXT, BIGINT, TEXT, TEXT, TEXT, BIGINT, TIMESTAMPTZ, TIMESTAMPTZ",
            sql: ENQUEUE_JOB.to_string(),
        },
        Routine {
            name: "kova_record_delivery",
            args: "BIGINT, TEXT, TEXT, TEXT, TEXT, BIGINT, TEXT, TEXT, BIGINT, TEXT, BYTEA, \
                   SMALLINT, TIMESTAMPTZ, TEXT, TEXT, TEXT, TEXT, TEXT, BIGINT, TIMESTAMPTZ",
            sql: RECORD_DELIVERY.to_string(),
        },
    ]
}

/// (Re)creates each function this build calls whose installed text differs: their text lives
/// in the code, so they always match the binary. The installed text is kept as the
/// function's comment to tell.
pub(super) async fn install(tx: &mut sqlx::PgConnection) -> Result<()> {
    for r in routines() {
        let installed: Option<String> = sqlx::query_scalar(
            "SELECT obj_description(p.oid, 'pg_proc') FROM pg_proc p
             WHERE p.proname = $1
               AND p.pronamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema())",
        )
        .bind(r.name)
        .fetch_optional(&mut *tx)
        .await
        .db()?
        .flatten();
        if installed.as_deref() == Some(r.sql.as_str()) {
            continue;
        }
        sqlx::raw_sql(&r.sql)
            .execute(&mut *tx)
            .await
            .map_err(|e| Error::backend("postgres", format!("cannot create {}: {e}", r.name)))?;
        let comment = format!(
            "COMMENT ON FUNCTION {}({}) IS {}",
            r.name,
            r.args,
            quote_literal(&r.sql)
        );
        sqlx::raw_sql(&comment).execute(&mut *tx).await.db()?;
    }
    Ok(())
}

/// A SQL string literal (COMMENT takes no parameters).
fn quote_literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

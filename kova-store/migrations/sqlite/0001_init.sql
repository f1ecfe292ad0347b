-- Kova schema v1 (SQLite). Timestamps are microseconds since the Unix epoch (UTC); JSON is
-- stored as text. Every list path has an index ending in `id`, so "newest first" pages are
-- index range scans.

CREATE TABLE repositories (
    full_name       TEXT PRIMARY KEY,
    description     TEXT,
    default_branch  TEXT,
    kind            TEXT NOT NULL,
    enabled         INTEGER NOT NULL,
    sync_priority   INTEGER NOT NULL,
    features        TEXT NOT NULL,
    topics          TEXT NOT NULL,
    language        TEXT,
    status          TEXT NOT NULL,
    last_synced_at  INTEGER,
    head_sha        TEXT,
    etag            TEXT,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE snapshots (
    id           INTEGER PRIMARY KEY,
    repo         TEXT NOT NULL,
    stars        INTEGER NOT NULL,
    forks        INTEGER NOT NULL,
    watchers     INTEGER NOT NULL,
    open_issues  INTEGER NOT NULL,
    size_kb      INTEGER NOT NULL,
    pushed_at    INTEGER,
    recorded_at  INTEGER NOT NULL
);
CREATE INDEX snapshots_repo ON snapshots (repo, id);

CREATE TABLE events (
    id               INTEGER PRIMARY KEY,
    -- hook_id as given (may be NULL); hook_key is the uniqueness key (NULL counts as 0).
    hook_id          INTEGER,
    hook_key         INTEGER NOT NULL,
    delivery_id      TEXT NOT NULL,
    event            TEXT NOT NULL,
    action           TEXT,
    repo             TEXT,
    installation_id  INTEGER,
    sender           TEXT,
    target_type      TEXT,
    target_id        INTEGER,
    user_agent       TEXT,
    body             BLOB NOT NULL,
    received_at      INTEGER NOT NULL,
    status           TEXT NOT NULL
);
CREATE UNIQUE INDEX events_delivery ON events (hook_key, delivery_id);
CREATE INDEX events_event ON events (event, id);
CREATE INDEX events_repo ON events (repo, id);
CREATE INDEX events_status ON events (status, id);

CREATE TABLE jobs (
    id            INTEGER PRIMARY KEY,
    kind          TEXT NOT NULL,
    event_id      INTEGER,
    payload       TEXT NOT NULL,
    dedupe_key    TEXT,
    coalesce_key  TEXT,
    attempts      INTEGER NOT NULL,
    max_attempts  INTEGER NOT NULL,
    run_at        INTEGER NOT NULL,
    lease_until   INTEGER,
    leased_by     TEXT,
    status        TEXT NOT NULL,
    last_error    TEXT,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);
-- The claim paths: due queued jobs in due order, and expired leases.
CREATE INDEX jobs_queued ON jobs (run_at, id) WHERE status = 'queued';
CREATE INDEX jobs_running ON jobs (lease_until, id) WHERE status = 'running';
CREATE INDEX jobs_dedupe ON jobs (dedupe_key)
    WHERE dedupe_key IS NOT NULL AND status IN ('queued', 'running', 'done');
CREATE INDEX jobs_coalesce ON jobs (coalesce_key) WHERE coalesce_key IS NOT NULL AND status = 'queued';
CREATE INDEX jobs_status ON jobs (status, id);
CREATE INDEX jobs_kind ON jobs (kind, id);

CREATE TABLE artifacts (
    id               INTEGER PRIMARY KEY,
    name             TEXT NOT NULL,
    kind             TEXT NOT NULL,
    content          TEXT NOT NULL,
    language         TEXT,
    repo             TEXT,
    -- repo or '' : the version series key, so "no repository" is an ordinary indexable value.
    repo_key         TEXT NOT NULL,
    source           TEXT NOT NULL,
    source_event_id  INTEGER,
    validation       TEXT NOT NULL,
    metadata         TEXT NOT NULL,
    content_hash     TEXT NOT NULL,
    version          INTEGER NOT NULL,
    idempotency_key  TEXT UNIQUE,
    created_at       INTEGER NOT NULL
);
CREATE UNIQUE INDEX artifacts_version ON artifacts (repo_key, kind, name, version);
CREATE INDEX artifacts_repo ON artifacts (repo, id);
CREATE INDEX artifacts_kind ON artifacts (kind, id);
CREATE INDEX artifacts_event ON artifacts (source_event_id, id);

CREATE TABLE interactions (
    id                     INTEGER PRIMARY KEY,
    purpose                TEXT NOT NULL,
    provider               TEXT NOT NULL,
    model                  TEXT NOT NULL,
    prompt_digest          TEXT NOT NULL,
    prompt                 TEXT NOT NULL,
    response               TEXT NOT NULL,
    input_tokens           INTEGER NOT NULL,
    output_tokens          INTEGER NOT NULL,
    cache_read_tokens      INTEGER NOT NULL,
    cache_creation_tokens  INTEGER NOT NULL,
    cost_usd               REAL,
    duration_ms            INTEGER NOT NULL,
    success                INTEGER NOT NULL,
    error                  TEXT,
    repo                   TEXT,
    event_id               INTEGER,
    created_at             INTEGER NOT NULL
);
CREATE INDEX interactions_repo ON interactions (repo, id);
CREATE INDEX interactions_purpose ON interactions (purpose, id);
CREATE INDEX interactions_model ON interactions (model, id);
CREATE INDEX interactions_event ON interactions (event_id, id);

CREATE TABLE sync_logs (
    id            INTEGER PRIMARY KEY,
    repo          TEXT NOT NULL,
    outcome       TEXT NOT NULL,
    started_at    INTEGER NOT NULL,
    duration_ms   INTEGER NOT NULL,
    requests      INTEGER NOT NULL,
    not_modified  INTEGER NOT NULL,
    files         INTEGER NOT NULL,
    manifests     INTEGER NOT NULL,
    attempts      INTEGER NOT NULL,
    error         TEXT
);
CREATE INDEX sync_logs_repo ON sync_logs (repo, id);

CREATE TABLE repo_errors (
    id          INTEGER PRIMARY KEY,
    repo        TEXT NOT NULL,
    source      TEXT NOT NULL,
    title       TEXT NOT NULL,
    detail      TEXT NOT NULL,
    head_sha    TEXT,
    url         TEXT,
    analysis    TEXT,
    created_at  INTEGER NOT NULL
);
CREATE INDEX repo_errors_repo ON repo_errors (repo, id);

-- Events by type and by repository move from SQLite indexes to lookup tables that the writer
-- fills in batches (see kova-store/src/sqlite/lookups.rs). A new event's index entry lands on
-- the leaf page of its type or repository, so a group commit of a few deliveries rewrote a
-- dozen scattered pages of these two indexes into the WAL: 40% of the bytes each delivery cost
-- the writer and the checkpointer. Events after `indexed_to` are found by scanning the table's
-- newest rows instead.
CREATE TABLE events_by_type (
    event_type  TEXT NOT NULL,
    event_id    INTEGER NOT NULL,
    PRIMARY KEY (event_type, event_id)
) WITHOUT ROWID;

CREATE TABLE events_by_repo (
    repo_name  TEXT NOT NULL,
    event_id   INTEGER NOT NULL,
    PRIMARY KEY (repo_name, event_id)
) WITHOUT ROWID;

-- One row: every event with an id up to `indexed_to` is in both lookup tables.
CREATE TABLE event_lookup_mark (
    one         INTEGER PRIMARY KEY CHECK (one = 1),
    indexed_to  INTEGER NOT NULL
);

INSERT INTO events_by_type (event_type, event_id) SELECT event, id FROM events ORDER BY event, id;
INSERT INTO events_by_repo (repo_name, event_id)
    SELECT repo, id FROM events WHERE repo IS NOT NULL ORDER BY repo, id;
INSERT INTO event_lookup_mark (one, indexed_to) SELECT 1, COALESCE(MAX(id), 0) FROM events;

DROP INDEX events_event;
DROP INDEX events_repo;

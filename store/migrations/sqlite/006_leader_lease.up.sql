-- The leader lease (SPEC §14): one row; the replica named in holder leads
-- until expires_at on the database's clock; epoch grows at every change of
-- leader, and every write of a leader checks it (store.WithEpoch). A SQLite
-- store has one daemon (LockDaemon), which takes the lease at once; the
-- table is here so both stores hold the same schema and the same fencing.
CREATE TABLE leader_lease (
    name       TEXT PRIMARY KEY,
    holder     TEXT    NOT NULL DEFAULT '',
    epoch      INTEGER NOT NULL DEFAULT 0,
    expires_at TEXT    NOT NULL,
    renewed_at TEXT
);
INSERT INTO leader_lease (name, holder, epoch, expires_at) VALUES ('leader', '', 0, '1970-01-01T00:00:00.000Z');

-- pushed_events: an event pushed to a follower (Glue EventBridge, TROCCO
-- notification), kept for the leader, which takes it on its next pass.
CREATE TABLE pushed_events (
    id            INTEGER PRIMARY KEY,
    resource_type TEXT NOT NULL,
    connection    TEXT NOT NULL DEFAULT '',
    resource_id   TEXT NOT NULL,
    external_id   TEXT NOT NULL DEFAULT '',
    state         TEXT NOT NULL,
    started_at    TEXT,
    finished_at   TEXT,
    message       TEXT NOT NULL DEFAULT '',
    received_at   TEXT NOT NULL
);

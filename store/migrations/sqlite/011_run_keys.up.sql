-- Run keys (SPEC §19): a pipeline has one run per gate, named by its key:
-- the logical date of a daily run (as before), the fire time of a
-- sub-daily one ("2026-06-01T13:00"). runs becomes unique on
-- (pipeline, run_key) instead of (pipeline, logical_date), so an hourly
-- pipeline holds 24 runs a day. Every existing run is daily: its key is its
-- logical date, and nothing else about it changes.
--
-- SQLite cannot drop a table's UNIQUE constraint, so runs is rebuilt with
-- the same ids: a copy, the old table dropped, the new one filled from the
-- copy. The tables that reference runs(id) are left alone; deferring the
-- foreign key checks to the commit lets their rows point at no run for the
-- moment between the drop and the refill (the migration's transaction).
PRAGMA defer_foreign_keys = ON;
DROP VIEW slo_daily;
DROP VIEW run_summary;
CREATE TABLE runs_011 AS SELECT * FROM runs;
DROP TABLE runs;
CREATE TABLE runs (
    id                INTEGER PRIMARY KEY,
    pipeline          TEXT    NOT NULL,
    logical_date      TEXT    NOT NULL,
    attempt           INTEGER NOT NULL DEFAULT 1,
    state             TEXT    NOT NULL,
    gate_at           TEXT    NOT NULL,
    attempt_at        TEXT    NOT NULL,
    timeout_at        TEXT    NOT NULL,
    deadline          TEXT,
    recover_by        TEXT,
    intent_at         TEXT,
    triggered_at      TEXT,
    started_at        TEXT,
    finished_at       TEXT,
    external_id       TEXT    NOT NULL DEFAULT '',
    message           TEXT    NOT NULL DEFAULT '',
    spec              TEXT    NOT NULL,
    updated_at        TEXT    NOT NULL,
    first_success_at  TEXT,
    version           INTEGER NOT NULL DEFAULT 1,
    -- the run's key: logical_date for a daily run, the fire time for a sub-daily one
    run_key           TEXT    NOT NULL,
    UNIQUE (pipeline, run_key)
);
INSERT INTO runs SELECT *, logical_date FROM runs_011;
DROP TABLE runs_011;
CREATE INDEX runs_open ON runs (state) WHERE state IN ('waiting','blocked','triggered','running');
CREATE INDEX runs_date ON runs (logical_date, pipeline);
CREATE INDEX runs_slo ON runs (pipeline, logical_date, state, attempt, gate_at, deadline,
    recover_by, first_success_at, finished_at);


-- The views gain run_key after logical_date: one row per run, so a
-- sub-daily pipeline has a row per interval.
CREATE VIEW slo_daily AS
SELECT
    r.pipeline,
    r.logical_date,
    r.run_key,
    r.deadline,
    COALESCE(r.first_success_at, r.finished_at) AS finished_at,
    CASE
        WHEN r.state = 'skipped' OR r.deadline IS NULL THEN NULL
        WHEN r.first_success_at IS NOT NULL THEN (r.first_success_at <= r.deadline)
        WHEN r.deadline > strftime('%Y-%m-%dT%H:%M:%fZ', 'now') THEN NULL
        ELSE 0
    END AS slo_met,
    CASE
        WHEN r.state = 'skipped' THEN NULL
        WHEN r.first_success_at IS NOT NULL THEN (r.first_success_at <= r.recover_by)
        WHEN r.recover_by > strftime('%Y-%m-%dT%H:%M:%fZ', 'now') THEN NULL
        ELSE 0
    END AS sla_met,
    r.state,
    r.attempt AS attempts,
    CASE WHEN r.first_success_at IS NOT NULL
        THEN CAST(ROUND((julianday(r.first_success_at) - julianday(r.gate_at)) * 86400) AS INTEGER)
    END AS duration_seconds
FROM runs r;

CREATE VIEW run_summary AS
SELECT
    r.id AS run_id,
    r.pipeline,
    r.logical_date,
    r.run_key,
    r.state,
    r.attempt AS attempts,
    r.gate_at,
    r.triggered_at,
    r.started_at,
    r.finished_at,
    r.deadline,
    r.external_id,
    r.message,
    (SELECT COUNT(*) FROM transitions t WHERE t.run_id = r.id) AS transitions,
    (SELECT COUNT(*) FROM notices n WHERE n.run_id = r.id) AS notices
FROM runs r;

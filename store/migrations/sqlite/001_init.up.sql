-- Runs: one row per (pipeline, logical date); the current attempt's facts.
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
    -- first time the run reached succeeded (kept across reruns for SLO/SLA)
    first_success_at  TEXT,
    version           INTEGER NOT NULL DEFAULT 1,
    UNIQUE (pipeline, logical_date)
);
CREATE INDEX runs_open ON runs (state) WHERE state IN ('waiting','blocked','triggered','running');
CREATE INDEX runs_date ON runs (logical_date, pipeline);

-- Transitions: append-only history of every state change.
CREATE TABLE transitions (
    id           INTEGER PRIMARY KEY,
    run_id       INTEGER NOT NULL REFERENCES runs(id),
    pipeline     TEXT    NOT NULL,
    logical_date TEXT    NOT NULL,
    attempt      INTEGER NOT NULL,
    from_state   TEXT    NOT NULL DEFAULT '',
    to_state     TEXT    NOT NULL,
    at           TEXT    NOT NULL,
    reason       TEXT    NOT NULL,
    detail       TEXT    NOT NULL DEFAULT '{}'
);
CREATE INDEX transitions_run ON transitions (run_id, id);
CREATE TRIGGER transitions_no_update BEFORE UPDATE ON transitions
BEGIN SELECT RAISE(ABORT, 'transitions are append-only'); END;
CREATE TRIGGER transitions_no_delete BEFORE DELETE ON transitions
BEGIN SELECT RAISE(ABORT, 'transitions are append-only'); END;

-- Upstream observations: a row each time what sekisho knows of an upstream changes.
CREATE TABLE upstream_observations (
    id           INTEGER PRIMARY KEY,
    run_id       INTEGER NOT NULL REFERENCES runs(id),
    attempt      INTEGER NOT NULL,
    upstream     TEXT    NOT NULL,
    type         TEXT    NOT NULL,
    state        TEXT    NOT NULL,
    external_id  TEXT    NOT NULL DEFAULT '',
    started_at   TEXT,
    finished_at  TEXT,
    message      TEXT    NOT NULL DEFAULT '',
    error        TEXT    NOT NULL DEFAULT '',
    observed_at  TEXT    NOT NULL
);
CREATE INDEX upstream_observations_run ON upstream_observations (run_id, upstream, id);

-- Notices: the durable Slack outbox.
CREATE TABLE notices (
    id           INTEGER PRIMARY KEY,
    run_id       INTEGER REFERENCES runs(id),
    pipeline     TEXT    NOT NULL DEFAULT '',
    logical_date TEXT    NOT NULL DEFAULT '',
    attempt      INTEGER NOT NULL DEFAULT 0,
    kind         TEXT    NOT NULL,
    dedupe_key   TEXT    NOT NULL UNIQUE,
    facts        TEXT    NOT NULL DEFAULT '{}',
    text         TEXT    NOT NULL DEFAULT '',
    created_at   TEXT    NOT NULL,
    sent_at      TEXT,
    tries        INTEGER NOT NULL DEFAULT 0,
    next_try_at  TEXT    NOT NULL,
    last_error   TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX notices_pending ON notices (next_try_at, id) WHERE sent_at IS NULL;
CREATE INDEX notices_run ON notices (run_id, id);

-- Slack threads (bot mode): the root message of each run's thread.
CREATE TABLE slack_threads (
    run_id     INTEGER PRIMARY KEY REFERENCES runs(id),
    channel    TEXT NOT NULL,
    ts         TEXT NOT NULL,
    created_at TEXT NOT NULL
);

-- Job ids learned without a list endpoint (TROCCO workflow jobs).
CREATE TABLE learned_jobs (
    resource   TEXT NOT NULL,
    job_id     TEXT NOT NULL,
    learned_at TEXT NOT NULL,
    PRIMARY KEY (resource, job_id)
);

-- slo_daily: one row per run, the numbers an SLO review needs.
-- slo_met: succeeded at or before the deadline (NULL without a deadline or when skipped).
-- sla_met: succeeded at or before recover_by (NULL when skipped).
CREATE VIEW slo_daily AS
SELECT
    r.pipeline,
    r.logical_date,
    r.deadline,
    COALESCE(r.first_success_at, r.finished_at) AS finished_at,
    CASE
        WHEN r.state = 'skipped' OR r.deadline IS NULL THEN NULL
        WHEN r.first_success_at IS NOT NULL AND r.first_success_at <= r.deadline THEN 1
        ELSE 0
    END AS slo_met,
    CASE
        WHEN r.state = 'skipped' THEN NULL
        WHEN r.first_success_at IS NOT NULL AND r.first_success_at <= r.recover_by THEN 1
        ELSE 0
    END AS sla_met,
    r.state,
    r.attempt AS attempts,
    CASE WHEN r.first_success_at IS NOT NULL
        THEN CAST(ROUND((julianday(r.first_success_at) - julianday(r.gate_at)) * 86400) AS INTEGER)
    END AS duration_seconds
FROM runs r;

-- run_summary: one row per run with its counts, for dashboards.
CREATE VIEW run_summary AS
SELECT
    r.id AS run_id,
    r.pipeline,
    r.logical_date,
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

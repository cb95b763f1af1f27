-- Incidents (SPEC §17): one row per root cause. incident_key is the
-- cause's identity (a failed job run: "job:<resource>#<run id>"; a troubled
-- pipeline run: "run:<pipeline>#<date>"), unique so that writing the same
-- cause again, after a restart or a replay, finds the first row.
CREATE TABLE incidents (
    id                INTEGER PRIMARY KEY,
    incident_key      TEXT    NOT NULL UNIQUE,
    logical_date      TEXT    NOT NULL,
    cause_kind        TEXT    NOT NULL,
    cause_pipeline    TEXT    NOT NULL DEFAULT '',
    cause_upstream    TEXT    NOT NULL DEFAULT '',
    cause_resource    TEXT    NOT NULL DEFAULT '',
    cause_external_id TEXT    NOT NULL DEFAULT '',
    cause_state       TEXT    NOT NULL DEFAULT '',
    cause_message     TEXT    NOT NULL DEFAULT '',
    opened_at         TEXT    NOT NULL,
    resolved_at       TEXT,
    -- the last message posted about it (webhook mode: one per slack.group_wait)
    notified_at       TEXT
);
CREATE INDEX incidents_date ON incidents (logical_date, id);
CREATE INDEX incidents_open ON incidents (id) WHERE resolved_at IS NULL;

-- The pipeline runs in an incident: its cause (a troubled run) and the
-- runs it holds back. kind is the notice the member would have sent on its
-- own; state follows the member's run.
CREATE TABLE incident_members (
    incident_id  INTEGER NOT NULL REFERENCES incidents(id),
    pipeline     TEXT    NOT NULL,
    logical_date TEXT    NOT NULL,
    run_id       INTEGER NOT NULL DEFAULT 0,
    role         TEXT    NOT NULL,
    kind         TEXT    NOT NULL,
    state        TEXT    NOT NULL,
    joined_at    TEXT    NOT NULL,
    updated_at   TEXT    NOT NULL,
    PRIMARY KEY (incident_id, pipeline, logical_date)
);
CREATE INDEX incident_members_run ON incident_members (pipeline, logical_date);

-- Slack threads (bot mode) of incidents: the root message of each.
CREATE TABLE incident_threads (
    incident_id INTEGER PRIMARY KEY REFERENCES incidents(id),
    channel     TEXT NOT NULL,
    ts          TEXT NOT NULL,
    created_at  TEXT NOT NULL
);

-- Silences (maintenance windows): a silenced pipeline's notices are kept
-- but not sent. expired_at is set when one is ended early.
CREATE TABLE silences (
    id         TEXT PRIMARY KEY,
    reason     TEXT NOT NULL,
    starts_at  TEXT NOT NULL,
    ends_at    TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expired_at TEXT
);
CREATE TABLE silence_pipelines (
    silence_id TEXT NOT NULL REFERENCES silences(id),
    pipeline   TEXT NOT NULL,
    PRIMARY KEY (silence_id, pipeline)
);
CREATE INDEX silence_pipelines_pipeline ON silence_pipelines (pipeline);

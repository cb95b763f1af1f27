-- Operator actions (SPEC §20): one row per rerun, skip, silence or
-- acknowledgement, whoever asked (slack:<user id>, api, cli). It is the
-- incident's history and, through its key, what makes an action from Slack
-- happen once: Slack may deliver the same click twice, and both deliveries
-- carry the same action_ts. request is that action_ts for Slack, a fresh id
-- for the API and the CLI.
CREATE TABLE operator_actions (
    action       TEXT NOT NULL,
    pipeline     TEXT NOT NULL,
    run_key      TEXT NOT NULL,
    request      TEXT NOT NULL,
    actor        TEXT NOT NULL,
    incident_key TEXT NOT NULL DEFAULT '',
    detail       TEXT NOT NULL DEFAULT '',
    at           TEXT NOT NULL,
    PRIMARY KEY (action, pipeline, run_key, request)
);
CREATE INDEX operator_actions_incident ON operator_actions (incident_key, at);
CREATE INDEX operator_actions_run ON operator_actions (pipeline, run_key, at);

-- Acknowledgements of incidents: who is on it since when, and when they
-- expect it fixed (eta, optional). acknowledged_by is slack:<user id> or
-- what the API was told; name is how the board shows them (@name). A later
-- acknowledgement replaces the earlier one; the history stays in
-- operator_actions.
CREATE TABLE incident_acks (
    incident_key    TEXT PRIMARY KEY,
    acknowledged_by TEXT NOT NULL,
    name            TEXT NOT NULL DEFAULT '',
    acknowledged_at TEXT NOT NULL,
    eta             TEXT
);

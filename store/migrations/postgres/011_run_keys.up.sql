-- Run keys (SPEC §19), as in ../sqlite/011_run_keys.up.sql: runs becomes
-- unique on (pipeline, run_key); every existing run is daily and its key is
-- its logical date. PostgreSQL drops the old constraint in place.
DROP VIEW slo_daily;
DROP VIEW run_summary;
ALTER TABLE runs ADD COLUMN run_key TEXT COLLATE "C";
UPDATE runs SET run_key = logical_date;
ALTER TABLE runs ALTER COLUMN run_key SET NOT NULL;
ALTER TABLE runs DROP CONSTRAINT runs_pipeline_logical_date_key;
ALTER TABLE runs ADD CONSTRAINT runs_pipeline_run_key_key UNIQUE (pipeline, run_key);


CREATE VIEW slo_daily AS
SELECT
    r.pipeline,
    r.logical_date,
    r.run_key,
    r.deadline,
    COALESCE(r.first_success_at, r.finished_at) AS finished_at,
    CASE
        WHEN r.state = 'skipped' OR r.deadline IS NULL THEN NULL
        WHEN r.first_success_at IS NOT NULL THEN (r.first_success_at <= r.deadline)::INTEGER
        WHEN r.deadline > to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') THEN NULL
        ELSE 0
    END::BIGINT AS slo_met,
    CASE
        WHEN r.state = 'skipped' THEN NULL
        WHEN r.first_success_at IS NOT NULL THEN (r.first_success_at <= r.recover_by)::INTEGER
        WHEN r.recover_by > to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') THEN NULL
        ELSE 0
    END::BIGINT AS sla_met,
    r.state,
    r.attempt AS attempts,
    CASE WHEN r.first_success_at IS NOT NULL
        THEN FLOOR((sqlite_julianday(r.first_success_at) - sqlite_julianday(r.gate_at)) * 86400.0::FLOAT8 + 0.5::FLOAT8)::BIGINT
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

-- slo_daily: a day that has not succeeded yet is undecided (NULL), not
-- missed, until its deadline (for slo_met) or recover_by (for sla_met) has
-- passed (../sqlite/003_slo_daily_undecided.up.sql). A comparison with a
-- NULL bound stays NULL, as in SQLite.
DROP VIEW slo_daily;
CREATE VIEW slo_daily AS
SELECT
    r.pipeline,
    r.logical_date,
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

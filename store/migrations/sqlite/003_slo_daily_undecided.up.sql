-- slo_daily: a day that has not succeeded yet is undecided (NULL), not
-- missed, until its deadline (for slo_met) or recover_by (for sla_met) has
-- passed, so a BI query at 03:00 does not count today's open run as a miss.
DROP VIEW slo_daily;
CREATE VIEW slo_daily AS
SELECT
    r.pipeline,
    r.logical_date,
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

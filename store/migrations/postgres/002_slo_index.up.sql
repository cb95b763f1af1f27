-- runs_slo covers the SLO report's read of one pipeline over a date range
-- (slo.Compute, slo.Daily), as in ../sqlite/002_slo_index.up.sql.
CREATE INDEX runs_slo ON runs (pipeline, logical_date, state, attempt, gate_at, deadline,
    recover_by, first_success_at, finished_at);

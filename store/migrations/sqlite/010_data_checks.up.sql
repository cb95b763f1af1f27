-- Data checks (SPEC §21): a sql upstream's number and why a check is
-- pending although its query answered (expectation_failed,
-- reconcile_mismatch) or passed with a notice (data_anomaly). The values of
-- succeeded days are the history vs_history compares with.
ALTER TABLE upstream_observations ADD COLUMN value REAL;
ALTER TABLE upstream_observations ADD COLUMN reason TEXT NOT NULL DEFAULT '';

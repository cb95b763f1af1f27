-- Retention (SPEC §19): store.retention prunes finished runs past an age,
-- with their transitions, observations, notices and Slack threads. The
-- SLO report must give the same answer over pruned days, so before a
-- pipeline's day is pruned its runs' SLO records (store.SLORecordFields,
-- the very text the report reads from runs) are kept here, one row per
-- pipeline and logical date; the report reads both.
CREATE TABLE slo_days (
    pipeline     TEXT NOT NULL,
    logical_date TEXT NOT NULL,
    -- the day's runs as SLO records, ';'-separated (store/slo.go)
    records      TEXT NOT NULL,
    pruned_at    TEXT NOT NULL,
    PRIMARY KEY (pipeline, logical_date)
);

-- transitions stay append-only except for pruning: a transition may only
-- be deleted once its day's SLO summary is written and its run is
-- finished. The rule lives in the database, so no other code path can
-- delete history, and pruning cannot lose a day a report still needs.
DROP TRIGGER transitions_no_delete;
CREATE TRIGGER transitions_no_delete BEFORE DELETE ON transitions
WHEN NOT EXISTS (SELECT 1 FROM slo_days s WHERE s.pipeline = OLD.pipeline AND s.logical_date = OLD.logical_date)
    OR EXISTS (SELECT 1 FROM runs r WHERE r.id = OLD.run_id AND r.state IN ('waiting','blocked','triggered','running'))
BEGIN SELECT RAISE(ABORT, 'transitions are append-only: only pruning deletes them, after their day''s SLO summary (slo_days)'); END;

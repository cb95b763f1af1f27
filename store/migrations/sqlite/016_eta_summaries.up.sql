-- Kept ETA histories (SPEC §21; issue 23). A projection learns from each
-- pipeline's last runs before a date (policy/eta.HistoryRuns of them) and
-- their upstreams' finishes: at 10,000 pipelines with a month of runs that
-- read walks 300,000 runs and 1.2 million observations, ~2 s, and every
-- process (the daemon after a restart, a replica, `sekisho status`) paid it
-- again. Its summary (the medians, policy/eta) is kept here per pipeline,
-- date and run count, and read back in one pass.
--
-- A summary is valid while its row exists: the triggers below delete a
-- pipeline's summaries of every later date whenever what they were made
-- of changes (a run inserted, deleted, or its gate, trigger or first
-- success changed; a succeeded observation of its upstreams recorded or
-- pruned), in the writer's own transaction, whoever writes. The rule lives
-- in the database, so no write path can leave a stale summary behind.
--
-- A reader claims a row (summary NULL, its own claim number) before it
-- reads the times a summary is made of, and fills it only under that
-- claim (store/kepthistory.go): a write committed after the claim deletes
-- the row, so a summary of times read before that write is never kept.
--
-- A migration that rebuilds runs or upstream_observations (a table copy)
-- drops these triggers with the table and must create them again.
CREATE TABLE eta_summaries (
    pipeline    TEXT    NOT NULL,
    before_date TEXT    NOT NULL,   -- the history is of runs before this logical date
    runs        INTEGER NOT NULL,   -- of the last this many runs
    claim       INTEGER NOT NULL,   -- the reader that claimed the row
    summary     TEXT,               -- policy/eta's encoding; NULL while claimed
    PRIMARY KEY (pipeline, before_date, runs)
);
-- Old dates are pruned as new ones are claimed.
CREATE INDEX eta_summaries_date ON eta_summaries (before_date);

CREATE TRIGGER runs_eta_insert AFTER INSERT ON runs
BEGIN
    DELETE FROM eta_summaries WHERE pipeline = NEW.pipeline AND before_date > NEW.logical_date;
END;
CREATE TRIGGER runs_eta_update AFTER UPDATE ON runs
WHEN NEW.first_success_at IS NOT OLD.first_success_at OR NEW.gate_at IS NOT OLD.gate_at
    OR NEW.triggered_at IS NOT OLD.triggered_at OR NEW.logical_date IS NOT OLD.logical_date
    OR NEW.pipeline IS NOT OLD.pipeline
BEGIN
    DELETE FROM eta_summaries WHERE pipeline = OLD.pipeline AND before_date > OLD.logical_date;
    DELETE FROM eta_summaries WHERE pipeline = NEW.pipeline AND before_date > NEW.logical_date;
END;
CREATE TRIGGER runs_eta_delete AFTER DELETE ON runs
BEGIN
    DELETE FROM eta_summaries WHERE pipeline = OLD.pipeline AND before_date > OLD.logical_date;
END;
CREATE TRIGGER upstream_observations_eta_insert AFTER INSERT ON upstream_observations
WHEN NEW.state = 'succeeded'
BEGIN
    DELETE FROM eta_summaries WHERE pipeline = (SELECT pipeline FROM runs WHERE id = NEW.run_id)
        AND before_date > (SELECT logical_date FROM runs WHERE id = NEW.run_id);
END;
CREATE TRIGGER upstream_observations_eta_delete AFTER DELETE ON upstream_observations
WHEN OLD.state = 'succeeded'
BEGIN
    DELETE FROM eta_summaries WHERE pipeline = (SELECT pipeline FROM runs WHERE id = OLD.run_id)
        AND before_date > (SELECT logical_date FROM runs WHERE id = OLD.run_id);
END;

-- Kept ETA histories, as in ../sqlite/016_eta_summaries.up.sql: a
-- pipeline's summaries of every later date are deleted by triggers when
-- what they were made of changes, and a reader fills only the row it
-- claimed.
CREATE TABLE eta_summaries (
    pipeline    TEXT COLLATE "C" NOT NULL,
    before_date TEXT COLLATE "C" NOT NULL,
    runs        INTEGER NOT NULL,
    claim       BIGINT  NOT NULL,
    summary     TEXT COLLATE "C",
    PRIMARY KEY (pipeline, before_date, runs)
);
CREATE INDEX eta_summaries_date ON eta_summaries (before_date);

-- A run inserted or deleted: statement triggers over the rows' transition
-- table. A gate opening inserts thousands of today's runs, and no summary
-- is of a later date then: the statement costs one probe of
-- eta_summaries_date instead of a function call a row.
CREATE FUNCTION eta_summaries_forget_runs() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM eta_summaries WHERE before_date > (SELECT min(logical_date) FROM changed_runs)) THEN
        DELETE FROM eta_summaries s USING changed_runs r WHERE s.pipeline = r.pipeline AND s.before_date > r.logical_date;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER runs_eta_insert AFTER INSERT ON runs REFERENCING NEW TABLE AS changed_runs
    FOR EACH STATEMENT EXECUTE FUNCTION eta_summaries_forget_runs();
CREATE TRIGGER runs_eta_delete AFTER DELETE ON runs REFERENCING OLD TABLE AS changed_runs
    FOR EACH STATEMENT EXECUTE FUNCTION eta_summaries_forget_runs();

-- A run's update: a row trigger, fired only when a column the history
-- reads changed (a trigger time, a first success: once a run).
CREATE FUNCTION eta_summaries_forget_run() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM eta_summaries WHERE pipeline = OLD.pipeline AND before_date > OLD.logical_date;
    DELETE FROM eta_summaries WHERE pipeline = NEW.pipeline AND before_date > NEW.logical_date;
    RETURN NULL;
END
$$;
CREATE TRIGGER runs_eta_update AFTER UPDATE ON runs FOR EACH ROW
    WHEN (NEW.first_success_at IS DISTINCT FROM OLD.first_success_at OR NEW.gate_at IS DISTINCT FROM OLD.gate_at
        OR NEW.triggered_at IS DISTINCT FROM OLD.triggered_at OR NEW.logical_date IS DISTINCT FROM OLD.logical_date
        OR NEW.pipeline IS DISTINCT FROM OLD.pipeline)
    EXECUTE FUNCTION eta_summaries_forget_run();

CREATE FUNCTION eta_summaries_forget_observation() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    o_run BIGINT;
BEGIN
    IF TG_OP = 'DELETE' THEN o_run := OLD.run_id; ELSE o_run := NEW.run_id; END IF;
    DELETE FROM eta_summaries s USING runs r
        WHERE r.id = o_run AND s.pipeline = r.pipeline AND s.before_date > r.logical_date;
    RETURN NULL;
END
$$;
CREATE TRIGGER upstream_observations_eta_insert AFTER INSERT ON upstream_observations FOR EACH ROW
    WHEN (NEW.state = 'succeeded') EXECUTE FUNCTION eta_summaries_forget_observation();
CREATE TRIGGER upstream_observations_eta_delete AFTER DELETE ON upstream_observations FOR EACH ROW
    WHEN (OLD.state = 'succeeded') EXECUTE FUNCTION eta_summaries_forget_observation();

-- Retention (SPEC §19), as in ../sqlite/015_retention.up.sql: the SLO
-- records of a pipeline's day are kept in slo_days before its runs are
-- pruned, and transitions may only be deleted once their day's summary is
-- written and their run is finished.
CREATE TABLE slo_days (
    pipeline     TEXT COLLATE "C" NOT NULL,
    logical_date TEXT COLLATE "C" NOT NULL,
    records      TEXT COLLATE "C" NOT NULL,
    pruned_at    TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (pipeline, logical_date)
);

CREATE FUNCTION transitions_prune_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM slo_days s WHERE s.pipeline = OLD.pipeline AND s.logical_date = OLD.logical_date)
        AND NOT EXISTS (SELECT 1 FROM runs r WHERE r.id = OLD.run_id AND r.state IN ('waiting','blocked','triggered','running')) THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'transitions are append-only: only pruning deletes them, after their day''s SLO summary (slo_days)';
END
$$;
DROP TRIGGER transitions_no_delete ON transitions;
CREATE TRIGGER transitions_no_delete BEFORE DELETE ON transitions
    FOR EACH ROW EXECUTE FUNCTION transitions_prune_only();

-- The latest observation of each upstream of each run, as in
-- ../sqlite/017_latest_observations.up.sql: one row an upstream, its texts
-- packed into one, kept by triggers that hold the row of the highest
-- observation id. Statement triggers over the rows' transition table: a
-- poll cycle records thousands of observations in a few statements. An
-- insert replaces a row only with a later id, so two writers committing
-- out of id order still leave the latest.

-- An observation's texts as one: each as the length in bytes of what the
-- client reads (UTF-8, whatever the server's encoding), ':' and itself. A
-- function of the row, so the insert trigger packs the transition table's
-- rows without looking each up again.
CREATE FUNCTION packed_observation(o upstream_observations) RETURNS text LANGUAGE sql STABLE AS $$
    SELECT
        octet_length(convert_to(o.upstream, 'UTF8')) || ':' || o.upstream || octet_length(convert_to(o.type, 'UTF8')) || ':' || o.type ||
        octet_length(convert_to(o.state, 'UTF8')) || ':' || o.state || octet_length(convert_to(o.external_id, 'UTF8')) || ':' || o.external_id ||
        octet_length(convert_to(COALESCE(o.started_at, ''), 'UTF8')) || ':' || COALESCE(o.started_at, '') || octet_length(convert_to(COALESCE(o.finished_at, ''), 'UTF8')) || ':' || COALESCE(o.finished_at, '') ||
        octet_length(convert_to(o.message, 'UTF8')) || ':' || o.message || octet_length(convert_to(o.error, 'UTF8')) || ':' || o.error ||
        octet_length(convert_to(o.observed_at, 'UTF8')) || ':' || o.observed_at || octet_length(convert_to(o.reason, 'UTF8')) || ':' || o.reason
$$;
CREATE VIEW packed_observations AS SELECT id, run_id, upstream, value, packed_observation(o) AS packed
    FROM upstream_observations o;

CREATE TABLE latest_observations (
    run_id   BIGINT NOT NULL,
    upstream TEXT COLLATE "C" NOT NULL,
    obs_id   BIGINT NOT NULL,
    value    DOUBLE PRECISION,
    packed   TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (run_id, upstream)
);

INSERT INTO latest_observations (run_id, upstream, obs_id, value, packed)
    SELECT DISTINCT ON (run_id, upstream) run_id, upstream, id, value, packed FROM packed_observations
    ORDER BY run_id, upstream, id DESC;

CREATE FUNCTION latest_observations_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO latest_observations (run_id, upstream, obs_id, value, packed)
        SELECT DISTINCT ON (n.run_id, n.upstream) n.run_id, n.upstream, n.id, n.value, packed_observation(n)
        FROM new_observations n
        ORDER BY n.run_id, n.upstream, n.id DESC
        ON CONFLICT (run_id, upstream) DO UPDATE SET obs_id = excluded.obs_id, value = excluded.value, packed = excluded.packed
        WHERE excluded.obs_id > latest_observations.obs_id;
    RETURN NULL;
END
$$;
CREATE TRIGGER upstream_observations_latest_insert AFTER INSERT ON upstream_observations
    REFERENCING NEW TABLE AS new_observations FOR EACH STATEMENT EXECUTE FUNCTION latest_observations_insert();

-- A deleted latest row gives way to the one before it, found by the index
-- upstream_observations_run for each upstream whose latest row went (a
-- pruned run has none left).
CREATE FUNCTION latest_observations_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM latest_observations l USING old_observations o
        WHERE l.run_id = o.run_id AND l.upstream = o.upstream AND l.obs_id = o.id;
    INSERT INTO latest_observations (run_id, upstream, obs_id, value, packed)
        SELECT p.run_id, p.upstream, p.id, p.value, p.packed
        FROM (SELECT DISTINCT run_id, upstream FROM old_observations) d
        CROSS JOIN LATERAL (SELECT * FROM packed_observations u WHERE u.run_id = d.run_id AND u.upstream = d.upstream
            ORDER BY u.id DESC LIMIT 1) p
        ON CONFLICT (run_id, upstream) DO NOTHING;
    RETURN NULL;
END
$$;
CREATE TRIGGER upstream_observations_latest_delete AFTER DELETE ON upstream_observations
    REFERENCING OLD TABLE AS old_observations FOR EACH STATEMENT EXECUTE FUNCTION latest_observations_delete();

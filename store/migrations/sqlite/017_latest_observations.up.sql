-- The latest observation of each upstream of each run, kept as its
-- observations are recorded (issue 23). A listing shows every run's
-- upstreams as last seen: at 10,000 pipelines with three upstreams each,
-- picking the latest of the observation rows (a MAX(id) grouped by run and
-- upstream) and handing each of their eleven columns over database/sql
-- was most of the first GET /api/v1/status after a start. Here that read
-- is one row an upstream and three columns: the observation's texts
-- packed into one (packed_observations below; store/latest.go unpacks
-- them, and its packedObservation packs the same for a store not
-- migrated yet), and the value in a column of its own, since a REAL
-- written as text keeps 15 digits.
--
-- The triggers below keep the row of the highest observation id, whoever
-- writes: an insert replaces the row only with a later id, and deleting
-- the latest row puts the one before it back. Observations are never
-- updated. A migration that rebuilds upstream_observations (a table copy)
-- drops these triggers with the table and must create them again.

-- An observation's texts as one: each as its length in bytes, ':' and
-- itself, in obsColumns' order without the value.
CREATE VIEW packed_observations AS SELECT id, run_id, upstream, value,
        octet_length(upstream) || ':' || upstream || octet_length(type) || ':' || type ||
        octet_length(state) || ':' || state || octet_length(external_id) || ':' || external_id ||
        octet_length(COALESCE(started_at, '')) || ':' || COALESCE(started_at, '') || octet_length(COALESCE(finished_at, '')) || ':' || COALESCE(finished_at, '') ||
        octet_length(message) || ':' || message || octet_length(error) || ':' || error ||
        octet_length(observed_at) || ':' || observed_at || octet_length(reason) || ':' || reason AS packed
    FROM upstream_observations;

CREATE TABLE latest_observations (
    run_id   INTEGER NOT NULL,
    upstream TEXT    NOT NULL,
    obs_id   INTEGER NOT NULL,   -- the upstream_observations row it is
    value    REAL,
    packed   TEXT    NOT NULL,
    PRIMARY KEY (run_id, upstream)
) WITHOUT ROWID;

INSERT INTO latest_observations (run_id, upstream, obs_id, value, packed)
    SELECT run_id, upstream, id, value, packed FROM packed_observations
    WHERE id IN (SELECT MAX(id) FROM upstream_observations GROUP BY run_id, upstream);

CREATE TRIGGER upstream_observations_latest_insert AFTER INSERT ON upstream_observations
BEGIN
    INSERT INTO latest_observations (run_id, upstream, obs_id, value, packed)
        SELECT run_id, upstream, id, value, packed FROM packed_observations WHERE id = NEW.id
        ON CONFLICT (run_id, upstream) DO UPDATE SET obs_id = excluded.obs_id, value = excluded.value, packed = excluded.packed
        WHERE excluded.obs_id > latest_observations.obs_id;
END;
CREATE TRIGGER upstream_observations_latest_delete AFTER DELETE ON upstream_observations
WHEN OLD.id = (SELECT obs_id FROM latest_observations WHERE run_id = OLD.run_id AND upstream = OLD.upstream)
BEGIN
    DELETE FROM latest_observations WHERE run_id = OLD.run_id AND upstream = OLD.upstream;
    INSERT INTO latest_observations (run_id, upstream, obs_id, value, packed)
        SELECT run_id, upstream, id, value, packed FROM packed_observations
        WHERE run_id = OLD.run_id AND upstream = OLD.upstream ORDER BY id DESC LIMIT 1;
END;

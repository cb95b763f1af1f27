-- The leader lease (SPEC §14): one row; the replica named in holder leads
-- until expires_at on the database's clock; epoch grows at every change of
-- leader, and every write of a leader checks it (store.WithEpoch).
CREATE TABLE leader_lease (
    name       TEXT COLLATE "C" PRIMARY KEY,
    holder     TEXT COLLATE "C" NOT NULL DEFAULT '',
    epoch      BIGINT NOT NULL DEFAULT 0,
    expires_at TEXT COLLATE "C" NOT NULL,
    renewed_at TEXT COLLATE "C"
);
INSERT INTO leader_lease (name, holder, epoch, expires_at) VALUES ('leader', '', 0, '1970-01-01T00:00:00.000Z');

-- data_versions: PostgreSQL's stand-in for SQLite's PRAGMA data_version
-- (store.DataVersion). Each write transaction of a store names its writer
-- (set_config('sekisho.writer', …, true)); a statement-level trigger on the
-- tables the engine caches counts it under that writer, so a store sees
-- other writers' commits without counting its own. Writers that did not
-- name themselves (psql, an older binary) count under ''.
CREATE TABLE data_versions (
    writer TEXT COLLATE "C" PRIMARY KEY,
    n      BIGINT NOT NULL DEFAULT 0,
    at     TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE FUNCTION bump_data_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO data_versions (writer, n, at)
    VALUES (COALESCE(current_setting('sekisho.writer', true), ''), 1, now())
    ON CONFLICT (writer) DO UPDATE SET n = data_versions.n + 1, at = EXCLUDED.at;
    RETURN NULL;
END
$$;
CREATE TRIGGER runs_data_version AFTER INSERT OR UPDATE OR DELETE ON runs
    FOR EACH STATEMENT EXECUTE FUNCTION bump_data_version();
CREATE TRIGGER notices_data_version AFTER INSERT OR UPDATE OR DELETE ON notices
    FOR EACH STATEMENT EXECUTE FUNCTION bump_data_version();

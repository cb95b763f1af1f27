-- Incidents name the interval (SPEC §19): a member of an incident is a
-- pipeline run, named by its run key, so two hours of one sub-daily
-- pipeline in one incident are two members; an incident's cause run is
-- named by its key too ("run:<pipeline>#<key>"). Every existing row is
-- about a daily run, whose key is its logical date.
ALTER TABLE incidents ADD COLUMN run_key TEXT NOT NULL DEFAULT '';
UPDATE incidents SET run_key = logical_date;

-- SQLite cannot change a primary key: incident_members is rebuilt (no
-- table references it).
CREATE TABLE incident_members_014 AS SELECT * FROM incident_members;
DROP TABLE incident_members;
CREATE TABLE incident_members (
    incident_id  INTEGER NOT NULL REFERENCES incidents(id),
    pipeline     TEXT    NOT NULL,
    logical_date TEXT    NOT NULL,
    run_id       INTEGER NOT NULL DEFAULT 0,
    role         TEXT    NOT NULL,
    kind         TEXT    NOT NULL,
    state        TEXT    NOT NULL,
    joined_at    TEXT    NOT NULL,
    updated_at   TEXT    NOT NULL,
    -- the member run's key: logical_date for a daily run, the fire time for a sub-daily one
    run_key      TEXT    NOT NULL,
    PRIMARY KEY (incident_id, pipeline, run_key)
);
INSERT INTO incident_members SELECT *, logical_date FROM incident_members_014;
DROP TABLE incident_members_014;
CREATE INDEX incident_members_run ON incident_members (pipeline, logical_date);

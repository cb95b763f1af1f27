-- Incidents name the interval (SPEC §19), as in
-- ../sqlite/014_incident_run_keys.up.sql: a member is a pipeline run named
-- by its run key, and so is a cause run. Every existing row is about a
-- daily run, whose key is its logical date. PostgreSQL changes the primary
-- key in place.
ALTER TABLE incidents ADD COLUMN run_key TEXT NOT NULL DEFAULT '';
UPDATE incidents SET run_key = logical_date;
ALTER TABLE incident_members ADD COLUMN run_key TEXT COLLATE "C";
UPDATE incident_members SET run_key = logical_date;
ALTER TABLE incident_members ALTER COLUMN run_key SET NOT NULL;
ALTER TABLE incident_members DROP CONSTRAINT incident_members_pkey;
ALTER TABLE incident_members ADD PRIMARY KEY (incident_id, pipeline, run_key);

-- The status listing caches what it reads until the data changes
-- (store.ListingVersion). Another process's writes reach it through
-- data_versions (migration 006), which counted runs and notices only: the
-- upstream observations, incidents, their members and acknowledgements the
-- listing also reads bump it too now, so a replica serving the board sees
-- the leader's observations at once.
CREATE TRIGGER upstream_observations_data_version AFTER INSERT OR UPDATE OR DELETE ON upstream_observations
    FOR EACH STATEMENT EXECUTE FUNCTION bump_data_version();
CREATE TRIGGER incidents_data_version AFTER INSERT OR UPDATE OR DELETE ON incidents
    FOR EACH STATEMENT EXECUTE FUNCTION bump_data_version();
CREATE TRIGGER incident_members_data_version AFTER INSERT OR UPDATE OR DELETE ON incident_members
    FOR EACH STATEMENT EXECUTE FUNCTION bump_data_version();
CREATE TRIGGER incident_acks_data_version AFTER INSERT OR UPDATE OR DELETE ON incident_acks
    FOR EACH STATEMENT EXECUTE FUNCTION bump_data_version();

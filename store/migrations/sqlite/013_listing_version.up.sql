-- PostgreSQL's 013 extends its data_versions triggers to every table the
-- status listing reads (store.ListingVersion). SQLite needs nothing: PRAGMA
-- data_version already changes at any other connection's commit to any
-- table. The number is kept so both dialects hold the same migrations.
SELECT 1;

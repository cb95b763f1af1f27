-- watch_status: each standing watch's last listing (SPEC §15), one row per
-- watch: its error ('' when the listing worked), when it was checked, and
-- since when it has been failing (NULL while it works). The board reads it,
-- on followers too, so a watch that cannot see (a PostgreSQL role without
-- pg_read_all_stats) is not silently blind. The text is the watch's error
-- with the warehouse's secrets taken out.
CREATE TABLE watch_status (
    watch         TEXT PRIMARY KEY,
    warehouse     TEXT NOT NULL DEFAULT '',
    error         TEXT NOT NULL DEFAULT '',
    checked_at    TEXT NOT NULL,
    failing_since TEXT
);

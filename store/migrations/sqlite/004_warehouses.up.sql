-- query_alerts: one row per warehouse query a long_queries watch noticed
-- (SPEC §15). The unique key is what keeps a restart from notifying the
-- same query twice; ended_at is set when the query is no longer running.
CREATE TABLE query_alerts (
    id             INTEGER PRIMARY KEY,
    watch          TEXT NOT NULL,
    warehouse      TEXT NOT NULL,
    query_key      TEXT NOT NULL,
    user_name      TEXT NOT NULL DEFAULT '',
    pid            TEXT NOT NULL DEFAULT '',
    started_at     TEXT NOT NULL,
    query_text     TEXT NOT NULL DEFAULT '',
    alerted_at     TEXT NOT NULL,
    ended_at       TEXT,
    thread_channel TEXT NOT NULL DEFAULT '',
    thread_ts      TEXT NOT NULL DEFAULT '',
    UNIQUE (watch, query_key)
);
CREATE INDEX query_alerts_open ON query_alerts (watch) WHERE ended_at IS NULL;

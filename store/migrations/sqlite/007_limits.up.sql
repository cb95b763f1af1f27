-- poll_schedule: when each polled upstream resource is checked next (SPEC
-- §13), for status and the run API. One row per resource; the engine
-- writes it after each check.
CREATE TABLE poll_schedule (
    resource_key  TEXT PRIMARY KEY,
    next_check_at TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);

-- event_tests: when the last test send of a notification source (trocco)
-- arrived, for the board. It changes no run.
CREATE TABLE event_tests (
    source  TEXT PRIMARY KEY,
    last_at TEXT NOT NULL
);

-- budget_grants: every call a connection's request budget granted in the
-- last day, so a restarted daemon does not spend again what its window has
-- already spent. Pruned to a day.
CREATE TABLE budget_grants (
    connection TEXT NOT NULL,
    at         TEXT NOT NULL
);
CREATE INDEX budget_grants_at ON budget_grants (connection, at);

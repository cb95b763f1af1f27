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

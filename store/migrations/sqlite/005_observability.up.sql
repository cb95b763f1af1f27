-- Observability cursors: the services that derive traces and OpenLineage
-- events from the append-only transitions keep here the id of the last
-- transition they delivered. A cursor moves only after its delivery
-- succeeded, so a collector or Marquez outage delays events and loses none:
-- together with the transitions themselves, this is the durable outbox of
-- traces and lineage.
CREATE TABLE observe_cursors (
    name          TEXT    PRIMARY KEY,
    transition_id INTEGER NOT NULL,
    updated_at    TEXT    NOT NULL
);

package store

// Run keys (SPEC §19): migration 011 names every run by its key. A
// transition or a notice has its run's key, read through its run_id, so
// nothing about them changed. A store opened without migrating (`sekisho
// status` beside an older daemon) may predate the migration: all its runs
// are daily, whose key is the logical date, and the reads below say so.

// keysVersion is the migration that added run keys; incidentKeysVersion
// the one that named incident members and causes by them.
const (
	keysVersion         = 11
	incidentKeysVersion = 14
)

// keyed reports whether runs carry their key (migration 011).
func (s *Store) keyed() bool { return s.schema >= keysVersion }

// keyColumn is the column of table (incidents, incident_members) that
// holds its run key: logical_date, a daily run's key, in a store that
// predates migration 014.
func (s *Store) keyColumn() string {
	if s.schema >= incidentKeysVersion {
		return "run_key"
	}
	return "logical_date"
}

// runColumns are the columns scanRun reads, the key last.
func (s *Store) runColumns() string { return runColumnsBefore + s.runKeyColumn() }

// runKeyColumn is the column that holds a run's key.
func (s *Store) runKeyColumn() string {
	if s.keyed() {
		return "run_key"
	}
	return "logical_date"
}

// keyOf reads, in a query over table (transitions or notices), the key of
// each row's run; a notice about no run (a digest) has its logical date.
func (s *Store) keyOf(table string) string {
	if !s.keyed() {
		return table + ".logical_date"
	}
	return `COALESCE((SELECT k.run_key FROM runs k WHERE k.id = ` + table + `.run_id), ` + table + `.logical_date)`
}

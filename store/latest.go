package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/sekisho-dev/sekisho"
)

// The latest observations (migration 017): the one row of each upstream of
// each run that the listings read, kept by triggers as observations are
// recorded and pruned. Each row packs the observation's texts into one
// column, so a whole listing reads two columns an upstream instead of
// picking the latest of every observation row and handing over eleven
// (BENCHMARKS.md, issue #23). A store not migrated to 017 yet (a reader
// of an older daemon's store) gets the same columns packed from
// upstream_observations by the same expression.

// latestObservationsVersion is the migration that added latest_observations.
const latestObservationsVersion = 17

// packedTexts are the texts of an observation in the order packed holds
// them (obsColumns without the value, which is a column of its own).
var packedTexts = [...]string{"upstream", "type", "state", "external_id", "started_at", "finished_at", "message", "error",
	"observed_at", "reason"}

// packedObservation is the SQL expression that packs the observation row
// alias of d's store: each text (NULL as empty) as its length in bytes,
// ':' and itself. It packs what migration 017's packed_observations packs
// (TestLatestObservationsAreKeptByTheirTriggers compares their rows).
func packedObservation(d Dialect, alias string) string {
	var b strings.Builder
	for i, name := range packedTexts {
		c := "COALESCE(" + alias + "." + name + ", '')"
		if i > 0 {
			b.WriteString(" || ")
		}
		if d == Postgres {
			// The length of what the client reads, whatever the
			// server's encoding.
			fmt.Fprintf(&b, "octet_length(convert_to(%s, 'UTF8')) || ':' || %s", c, c)
		} else {
			fmt.Fprintf(&b, "octet_length(%s) || ':' || %s", c, c)
		}
	}
	return b.String()
}

// errPacked is a packed observation that does not unpack: a row written by
// something other than migration 017's triggers.
var errPacked = errors.New("store: latest observation: malformed packed row")

// unpackObservation is the observation packed holds, with value. Its
// texts are parts of packed: a caller that keeps one for long and not the
// rest clones it.
func unpackObservation(packed string, value sql.NullFloat64) (sekisho.Observation, error) {
	var f [len(packedTexts)]string
	for i := range f {
		n, rest, ok := strings.Cut(packed, ":")
		l, err := strconv.Atoi(n)
		if !ok || err != nil || l < 0 || l > len(rest) {
			return sekisho.Observation{}, errPacked
		}
		f[i], packed = rest[:l], rest[l:]
	}
	if packed != "" {
		return sekisho.Observation{}, errPacked
	}
	o := sekisho.Observation{Upstream: f[0], Type: f[1], State: sekisho.JobState(f[2]), ExternalID: f[3],
		StartedAt: recordTime(f[4]), FinishedAt: recordTime(f[5]), Message: f[6], Error: f[7], ObservedAt: recordTime(f[8]),
		Reason: f[9]}
	if value.Valid {
		v := value.Float64
		o.Value = &v
	}
	return o, nil
}

// eachLatest gives fn the latest observation of each upstream of the runs
// runs picks (a query of run ids, or a list of them, with args), by run
// id, read through q (the reader, or a write transaction): the one read
// of "latest" of every listing and of a batch of writes.
func (s *Store) eachLatest(ctx context.Context, q rowsQuerier, runs string, args []any, fn func(int64, sekisho.Observation)) error {
	query := `SELECT l.run_id, l.packed, l.value FROM latest_observations l WHERE l.run_id IN (` + runs + `)`
	if s.schema < latestObservationsVersion {
		query = `SELECT o.run_id, ` + packedObservation(s.dialect, "o") + `, o.value FROM upstream_observations o
			WHERE ` + latestAmong(runs)
	}
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("store: latest observations: %w", err)
	}
	defer rows.Close()
	var (
		run    int64
		packed string
		value  sql.NullFloat64
	)
	for rows.Next() {
		if err := rows.Scan(&run, &packed, &value); err != nil {
			return fmt.Errorf("store: latest observations: %w", err)
		}
		o, err := unpackObservation(packed, value)
		if err != nil {
			return fmt.Errorf("%w (run %d)", err, run)
		}
		fn(run, o)
	}
	return rows.Err()
}

// latestAmong is the condition on upstream_observations o that keeps the
// latest observation of each upstream of the runs runs picks, for a store
// without latest_observations. The ids come from the index
// upstream_observations_run (run_id, upstream, id) alone, grouped in its
// order, and only the rows kept are read. `o.id IN` and not a join with
// the ids: PostgreSQL merge-joins those with the whole primary key index,
// and today's observations come last in it.
func latestAmong(runs string) string {
	return `o.id IN (SELECT MAX(id) FROM upstream_observations WHERE run_id IN (` + runs + `) GROUP BY run_id, upstream)`
}

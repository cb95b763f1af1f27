package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/sekisho-dev/sekisho"
)

// Retention (SPEC §19, store.retention): a day of 10,000 pipelines can
// hold hundreds of thousands of runs, so the leader prunes finished runs
// past an age. Pruning goes by whole pipeline days, oldest first, and each
// call of Prune is one short transaction:
//
//  1. the day's runs' SLO records (SLORecordFields, the text the report
//     reads from runs) are written to slo_days, one row per pipeline day;
//  2. their transitions, observations, notices and Slack threads go;
//  3. the runs go.
//
// The SLO report reads slo_days beside runs (slo.go), so a range over
// pruned days gives the answer it gave before. The transitions_no_delete
// trigger (migration 015) refuses to delete a transition whose day has no
// summary or whose run is not finished: history stays append-only for
// every other path.

// retentionVersion is the migration that added slo_days.
const retentionVersion = 15

// PruneBatch is how many runs one Prune transaction removes at most (with
// their transitions, observations and notices, some ten rows each): short
// enough that the engine's writes, queued on the same writer, wait
// milliseconds, not seconds.
const PruneBatch = 200

// Pruned counts what pruning removed.
type Pruned struct {
	Days         int   // pipeline days summarized in slo_days
	Runs         int64 // runs deleted
	Transitions  int64
	Observations int64
	Notices      int64
}

// Add adds q's counts to p.
func (p *Pruned) Add(q Pruned) {
	p.Days += q.Days
	p.Runs += q.Runs
	p.Transitions += q.Transitions
	p.Observations += q.Observations
	p.Notices += q.Notices
}

// sloRecord is one run as an SLO record (SLORecordFields joined by '|'):
// the report reads runs through it, and pruning keeps it in slo_days.
const sloRecord = `concat(logical_date, '|', state, '|', attempt, '|', gate_at, '|', deadline, '|',
		recover_by, '|', first_success_at, '|', finished_at)`

// openStates is the SQL list of the open run states (sekisho.State.Open):
// OpenRuns reads the runs in them, and pruning leaves a day with one of
// them alone.
var openStates = func() string {
	var q []string
	for _, st := range sekisho.States {
		if st.Open() {
			q = append(q, "'"+string(st)+"'")
		}
	}
	return "(" + strings.Join(q, ",") + ")"
}()

// Prune removes up to limit finished runs (PruneBatch when limit <= 0) of
// logical dates before before (YYYY-MM-DD), whole pipeline days at a time,
// oldest first, in one transaction, after writing each day's SLO records
// to slo_days; at stamps the summaries. A day with a run still open is
// left alone. A single day holding more than limit runs is pruned whole.
// Zero Runs in the answer means nothing is left to prune: the caller
// calls again until then, and its other writes interleave between calls.
func (s *Store) Prune(ctx context.Context, before string, limit int, at time.Time) (Pruned, error) {
	if limit <= 0 {
		limit = PruneBatch
	}
	var out Pruned
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		out = Pruned{}
		days, err := pruneDays(ctx, tx, before, limit)
		if err != nil || len(days) == 0 {
			return err
		}
		pairs := make([]string, len(days))
		args := make([]any, 0, 2*len(days))
		for i, d := range days {
			pairs[i] = "(?, ?)"
			args = append(args, d[0], d[1])
		}
		var ids []any
		rows, err := tx.QueryContext(ctx, `SELECT id FROM runs WHERE (pipeline, logical_date) IN (VALUES `+
			strings.Join(pairs, ", ")+`)`, args...)
		if err != nil {
			return err
		}
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			ids = append(ids, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		in := `(` + placeholders(len(ids)) + `)`
		if _, err := tx.ExecContext(ctx, `INSERT INTO slo_days (pipeline, logical_date, records, pruned_at)
			SELECT pipeline, logical_date, string_agg(`+sloRecord+`, ';'), ? FROM runs WHERE id IN `+in+`
			GROUP BY pipeline, logical_date
			ON CONFLICT (pipeline, logical_date) DO UPDATE SET records = slo_days.records || ';' || excluded.records,
				pruned_at = excluded.pruned_at`, append([]any{ts(at)}, ids...)...); err != nil {
			return fmt.Errorf("summarize: %w", err)
		}
		out.Days = len(days)
		for _, d := range []struct {
			q string
			n *int64
		}{
			{`DELETE FROM transitions WHERE run_id IN ` + in, &out.Transitions},
			{`DELETE FROM upstream_observations WHERE run_id IN ` + in, &out.Observations},
			{`DELETE FROM notices WHERE run_id IN ` + in, &out.Notices},
			{`DELETE FROM slack_threads WHERE run_id IN ` + in, nil},
			{`DELETE FROM runs WHERE id IN ` + in, &out.Runs},
		} {
			res, err := tx.ExecContext(ctx, d.q, ids...)
			if err != nil {
				return err
			}
			if d.n != nil {
				*d.n, _ = res.RowsAffected()
			}
		}
		return nil
	})
	if err != nil {
		return Pruned{}, fmt.Errorf("store: prune: %w", err)
	}
	return out, nil
}

// pruneDays picks the oldest pipeline days before before whose runs are
// all finished, as many as fit in limit runs (at least one).
func pruneDays(ctx context.Context, tx *sql.Tx, before string, limit int) ([][2]string, error) {
	rows, err := tx.QueryContext(ctx, `SELECT pipeline, logical_date, COUNT(*) FROM runs WHERE logical_date < ?
		GROUP BY pipeline, logical_date
		HAVING SUM(CASE WHEN state IN `+openStates+` THEN 1 ELSE 0 END) = 0
		ORDER BY logical_date, pipeline LIMIT ?`, before, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out [][2]string
	total := 0
	for rows.Next() {
		var p, d string
		var n int
		if err := rows.Scan(&p, &d, &n); err != nil {
			return nil, err
		}
		if len(out) > 0 && total+n > limit {
			break
		}
		out = append(out, [2]string{p, d})
		total += n
	}
	return out, rows.Err()
}

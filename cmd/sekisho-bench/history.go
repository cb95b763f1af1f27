package main

import (
	"context"
	"database/sql"
	"fmt"
	"hash/fnv"
	"strings"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/store"
)

// History (-history-days): a daemon that has run for a month restarts on
// a store holding a month of runs, and what it reads at start, its ETA
// projections and its listings read that history. The scale run's store
// is otherwise empty, which flatters every read that grows with it.

// historyRows is what fillHistory wrote.
type historyRows struct {
	runs, transitions, observations int
	took                            time.Duration
}

// fillHistory writes days logical dates of cfg's pipelines before the
// date of gate into the store at location (a SQLite path or a PostgreSQL
// URL), as the engine leaves a day that went well: each gate's run
// succeeded, its upstreams observed succeeded, four transitions. Times
// vary from run to run (a hash of the pipeline and the date), so the ETA
// history has spread. Rows go in multi-row statements, one transaction a
// date, straight through a raw connection: through the store's API a
// month of 10,000 pipelines would be 1.2 million transactions.
func fillHistory(ctx context.Context, location string, cfg *config.Config, gate time.Time, days int) (historyRows, error) {
	var out historyRows
	start := time.Now()
	db, err := store.RawDB(location)
	if err != nil {
		return out, err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	today := gate.In(cfg.Location)
	for back := days; back >= 1; back-- {
		date := today.AddDate(0, 0, -back).Format(sekisho.DateLayout)
		if err := fillDate(ctx, db, cfg, date, &out); err != nil {
			return out, fmt.Errorf("history of %s: %w", date, err)
		}
	}
	out.took = time.Since(start)
	return out, nil
}

// spread is a deterministic jitter in [0, n) minutes for a run.
func spread(pipeline, key string, n int) time.Duration {
	h := fnv.New32a()
	h.Write([]byte(pipeline + key))
	return time.Duration(int(h.Sum32()%uint32(n))) * time.Minute
}

// histRun is one past run as fillDate writes it.
type histRun struct {
	p                                      *config.Pipeline
	key                                    string
	gate, upDone, triggered, running, done time.Time
}

func fillDate(ctx context.Context, db *sql.DB, cfg *config.Config, date string, out *historyRows) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	f := func(t time.Time) string { return t.UTC().Format(sekisho.TimeLayout) }
	var runs []histRun
	for _, p := range cfg.Pipelines {
		for _, g := range p.GatesOn(date) {
			key := p.RunKey(g)
			up := g.Add(10*time.Minute + spread(p.Name, key, 40))
			trig := up.Add(time.Minute)
			runs = append(runs, histRun{p: p, key: key, gate: g, upDone: up, triggered: trig, running: trig.Add(time.Minute),
				done: trig.Add(20*time.Minute + spread(key, p.Name, 30))})
		}
	}
	const rowsPerStatement = 400
	for i := 0; i < len(runs); i += rowsPerStatement {
		part := runs[i:min(i+rowsPerStatement, len(runs))]
		vals := make([]string, len(part))
		args := make([]any, 0, len(part)*17)
		for j, r := range part {
			vals[j] = "(?,?,?,1,'succeeded',?,?,?,?,?,?,?,?,?,?,?,?,?)"
			id := sekisho.DagRunID(r.p.Name, r.key, 1)
			args = append(args, r.p.Name, date, r.key, f(r.gate), f(r.gate), f(r.p.TimeoutOn(date, r.gate)),
				nullTime(r.p.Deadline(date, r.gate)), nullTime(r.p.RecoverBy(date, r.gate)), f(r.triggered), f(r.triggered),
				f(r.running), f(r.done), id, string(r.p.SpecFor(date, r.gate)), f(r.done), f(r.done))
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO runs (pipeline, logical_date, run_key, attempt, state, gate_at, attempt_at,
			timeout_at, deadline, recover_by, intent_at, triggered_at, started_at, finished_at, external_id, spec, updated_at,
			first_success_at) VALUES `+strings.Join(vals, ","), args...); err != nil {
			return err
		}
	}
	out.runs += len(runs)
	ids := map[[2]string]int64{}
	rows, err := tx.QueryContext(ctx, `SELECT id, pipeline, run_key FROM runs WHERE logical_date = ?`, date)
	if err != nil {
		return err
	}
	for rows.Next() {
		var id int64
		var p, k string
		if err := rows.Scan(&id, &p, &k); err != nil {
			rows.Close()
			return err
		}
		ids[[2]string{p, k}] = id
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	var trVals, obsVals []string
	var trArgs, obsArgs []any
	flush := func(force bool) error {
		if len(trVals) >= rowsPerStatement || force && len(trVals) > 0 {
			if _, err := tx.ExecContext(ctx, `INSERT INTO transitions (run_id, pipeline, logical_date, attempt, from_state, to_state, at, reason)
				VALUES `+strings.Join(trVals, ","), trArgs...); err != nil {
				return err
			}
			out.transitions += len(trVals)
			trVals, trArgs = trVals[:0], trArgs[:0]
		}
		if len(obsVals) >= rowsPerStatement || force && len(obsVals) > 0 {
			if _, err := tx.ExecContext(ctx, `INSERT INTO upstream_observations (run_id, attempt, upstream, type, state, external_id,
				started_at, finished_at, observed_at) VALUES `+strings.Join(obsVals, ","), obsArgs...); err != nil {
				return err
			}
			out.observations += len(obsVals)
			obsVals, obsArgs = obsVals[:0], obsArgs[:0]
		}
		return nil
	}
	for _, r := range runs {
		id, ok := ids[[2]string{r.p.Name, r.key}]
		if !ok {
			return fmt.Errorf("run %s %s was not written", r.p.Name, r.key)
		}
		for _, s := range []struct {
			from, to sekisho.State
			at       time.Time
			reason   string
		}{
			{"", sekisho.StateWaiting, r.gate, sekisho.ReasonGateOpened},
			{sekisho.StateWaiting, sekisho.StateTriggered, r.triggered, sekisho.ReasonConditionMet},
			{sekisho.StateTriggered, sekisho.StateRunning, r.running, sekisho.ReasonDownstreamRunning},
			{sekisho.StateRunning, sekisho.StateSucceeded, r.done, sekisho.ReasonDownstreamSuccess},
		} {
			trVals = append(trVals, "(?,?,?,1,?,?,?,?)")
			trArgs = append(trArgs, id, r.p.Name, date, string(s.from), string(s.to), f(s.at), s.reason)
		}
		for k, u := range r.p.Upstreams {
			done := r.upDone.Add(-time.Duration(k) * time.Minute)
			obsVals = append(obsVals, "(?,1,?,?,'succeeded',?,?,?,?)")
			obsArgs = append(obsArgs, id, u.Name, u.Type, fmt.Sprintf("run_%d_%d", id, k), f(done.Add(-8*time.Minute)), f(done), f(done))
		}
		if err := flush(false); err != nil {
			return err
		}
	}
	if err := flush(true); err != nil {
		return err
	}
	return tx.Commit()
}

func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format(sekisho.TimeLayout)
}

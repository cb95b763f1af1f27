package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/sekisho-dev/sekisho"
)

const runColumnsBefore = `id, pipeline, logical_date, attempt, state, gate_at, attempt_at, timeout_at,
	deadline, recover_by, intent_at, triggered_at, started_at, finished_at, external_id, message,
	spec, updated_at, first_success_at, version, `

// runListColumns are runColumns with an empty spec, for listings.
func (s *Store) runListColumns() string {
	return strings.Replace(s.runColumns(), "spec,", "'' AS spec,", 1)
}

type scanner interface{ Scan(...any) error }

func scanRun(sc scanner) (sekisho.Run, error) { return newRunDest().scan(sc) }

// runDest holds the destinations of one run's columns (runColumns). A
// query of many runs scans every row into one (queryEach with its scan):
// fresh locals put ~20 values and the argument list on the heap a row,
// 13 MB of a 10,000-run listing.
type runDest struct {
	r                                                       sekisho.Run
	state, spec, gate, attemptAt, timeout, updated          string
	deadline, recover, intent, triggered, started, finished sql.NullString
	firstOK                                                 sql.NullString
	dest                                                    []any
}

func newRunDest() *runDest {
	d := &runDest{}
	d.dest = []any{&d.r.ID, &d.r.Pipeline, &d.r.LogicalDate, &d.r.Attempt, &d.state, &d.gate, &d.attemptAt, &d.timeout,
		&d.deadline, &d.recover, &d.intent, &d.triggered, &d.started, &d.finished, &d.r.ExternalID, &d.r.Message,
		&d.spec, &d.updated, &d.firstOK, &d.r.Version, &d.r.Key}
	return d
}

func (d *runDest) scan(sc scanner) (sekisho.Run, error) {
	d.r = sekisho.Run{}
	if err := sc.Scan(d.dest...); err != nil {
		return sekisho.Run{}, err
	}
	r := d.r
	r.State = sekisho.State(d.state)
	r.Spec = []byte(d.spec)
	r.GateAt = parseTS(sql.NullString{String: d.gate, Valid: true})
	r.AttemptAt = parseTS(sql.NullString{String: d.attemptAt, Valid: true})
	r.TimeoutAt = parseTS(sql.NullString{String: d.timeout, Valid: true})
	r.UpdatedAt = parseTS(sql.NullString{String: d.updated, Valid: true})
	r.Deadline = parseTS(d.deadline)
	r.RecoverBy = parseTS(d.recover)
	r.IntentAt = parseTS(d.intent)
	r.TriggeredAt = parseTS(d.triggered)
	r.StartedAt = parseTS(d.started)
	r.FinishedAt = parseTS(d.finished)
	r.FirstSuccessAt = parseTS(d.firstOK)
	return r, nil
}

// OpenGate creates the run of (r.Pipeline, r.Key) in state waiting,
// with its first transition, unless it exists already. It returns the stored
// run and whether this call created it, so opening a gate twice (the
// scheduler and the catch-up both firing) is harmless.
func (s *Store) OpenGate(ctx context.Context, r sekisho.Run, detail map[string]any) (sekisho.Run, bool, error) {
	created, err := s.OpenGates(ctx, []Gate{{Run: r, Detail: detail}})
	if err != nil {
		return sekisho.Run{}, false, err
	}
	if len(created) == 1 {
		return created[0], true, nil
	}
	got, err := s.Run(ctx, r.Pipeline, r.Key)
	return got, false, err
}

// Gate is one gate to open: the run it creates and the detail of its
// first transition.
type Gate struct {
	Run    sekisho.Run
	Detail map[string]any
}

// OpenGates opens many gates in one transaction, as OpenGate opens one:
// each run is created in state waiting with its first transition unless it
// exists already. It returns the runs it created, in the order given; the
// ones that existed are left out. One transaction (one fsync) for a batch
// is what lets 10,000 gates due at one instant open in about a second
// instead of one fsync each.
func (s *Store) OpenGates(ctx context.Context, gates []Gate) ([]sekisho.Run, error) {
	if len(gates) == 0 {
		return nil, nil
	}
	// One statement for the runs and one for the transitions, not one
	// per gate: PostgreSQL's data-version trigger fires per statement and
	// updates one row, whose versions pile up within a transaction.
	args := make([]any, 0, len(gates)*11)
	index := make(map[string]int, len(gates))
	for i, g := range gates {
		r := g.Run
		if r.Key == "" || sekisho.KeyDate(r.Key) != r.LogicalDate {
			return nil, fmt.Errorf("store: open gate %s: key %q does not name a run of %s", r.Pipeline, r.Key, r.LogicalDate)
		}
		args = append(args, r.Pipeline, r.LogicalDate, r.Key, sekisho.StateWaiting, ts(r.GateAt), ts(r.GateAt), ts(r.TimeoutAt),
			nts(r.Deadline), nts(r.RecoverBy), string(r.Spec), ts(r.GateAt))
		index[runKey(r)] = i
	}
	q := `INSERT INTO runs (pipeline, logical_date, run_key, attempt, state, gate_at, attempt_at,
		timeout_at, deadline, recover_by, spec, updated_at, version) VALUES ` +
		valueRows("(?, ?, ?, 1, ?, ?, ?, ?, ?, ?, ?, ?, 1)", len(gates)) +
		` ON CONFLICT (pipeline, run_key) DO NOTHING RETURNING ` + s.runColumns()
	var created []sekisho.Run
	t := &touch{}
	err := s.touchTx(ctx, t, func(tx *sql.Tx) error {
		created = make([]sekisho.Run, 0, len(gates)) // most gates are new
		rows, err := tx.QueryContext(ctx, q, args...)
		if err != nil {
			return err
		}
		d := newRunDest() // one for the batch (runDest)
		for rows.Next() {
			r, err := d.scan(rows)
			if err != nil {
				rows.Close()
				return err
			}
			created = append(created, r)
		}
		if err := rows.Close(); err != nil {
			return err
		}
		if err := rows.Err(); err != nil {
			return err
		}
		// RETURNING promises no order: give the gates' own.
		sort.Slice(created, func(i, j int) bool {
			return index[runKey(created[i])] < index[runKey(created[j])]
		})
		trs := make([]sekisho.Transition, len(created))
		t.runs = make([][2]string, len(created))
		for i, r := range created {
			t.runs[i] = [2]string{r.Pipeline, r.LogicalDate}
			trs[i] = sekisho.Transition{RunID: r.ID, Pipeline: r.Pipeline, LogicalDate: r.LogicalDate, Key: r.Key, Attempt: 1,
				To: sekisho.StateWaiting, At: r.GateAt, Reason: sekisho.ReasonGateOpened,
				Detail: gates[index[runKey(r)]].Detail}
		}
		return insertTransitions(ctx, tx, trs)
	})
	if err != nil {
		return nil, fmt.Errorf("store: open %d gates: %w", len(gates), err)
	}
	return created, nil
}

func runKey(r sekisho.Run) string { return r.Pipeline + "/" + r.Key }

// Step is what goes with a run's change: the transition's reason and detail
// (used when the state or attempt changes) and the notices it causes, all
// written in one transaction.
type Step struct {
	Reason  string
	Detail  map[string]any
	Notices []sekisho.Notice
	// Incidents are incident.Decide's changes for this step (SPEC §17),
	// written in the same transaction; see incidents.go. The messages it
	// queued are among Notices.
	Incidents []sekisho.IncidentChange
	// Action is the operator action that asked for the step (SPEC §20),
	// recorded in the same transaction: one written before makes the step
	// ErrDuplicate, so a redelivered request changes nothing.
	Action *Action
}

// Apply writes next over prev if the stored run is still at prev.Version
// (compare-and-set), appends a transition when the state or attempt changes,
// and queues the step's notices, in one transaction. A lost race returns
// sekisho.ErrConflict and writes nothing.
func (s *Store) Apply(ctx context.Context, prev, next sekisho.Run, at time.Time, step Step) (sekisho.Run, error) {
	if prev.ID == 0 || prev.ID != next.ID || prev.Key != next.Key {
		return prev, errors.New("store: apply needs the same stored run")
	}
	next.UpdatedAt = at
	next.Version = prev.Version + 1
	var spec any // nil keeps the stored snapshot: callers may drop it from memory
	if len(next.Spec) > 0 {
		spec = string(next.Spec)
	}
	t := &touch{runs: [][2]string{{prev.Pipeline, prev.LogicalDate}}, incidents: len(step.Incidents) > 0}
	err := s.touchTx(ctx, t, func(tx *sql.Tx) error {
		if step.Action != nil {
			if err := insertAction(ctx, tx, *step.Action); err != nil {
				return err
			}
		}
		args := []any{next.Attempt, next.State, ts(next.AttemptAt), ts(next.TimeoutAt), nts(next.Deadline), nts(next.RecoverBy),
			nts(next.IntentAt), nts(next.TriggeredAt), nts(next.StartedAt), nts(next.FinishedAt),
			next.ExternalID, next.Message, ts(next.UpdatedAt), nts(next.FirstSuccessAt), next.Version,
			spec, prev.ID, prev.Version}
		res, err := s.exec(ctx, tx, s.stmts.applyRun, applyRunQuery, args...)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return sekisho.ErrConflict
		}
		if prev.State != next.State || prev.Attempt != next.Attempt {
			if step.Reason == "" {
				return errors.New("a state change needs a reason")
			}
			err := s.insertTransition(ctx, tx, sekisho.Transition{RunID: next.ID, Pipeline: next.Pipeline,
				LogicalDate: next.LogicalDate, Key: next.Key, Attempt: next.Attempt, From: prev.State, To: next.State,
				At: at, Reason: step.Reason, Detail: step.Detail})
			if err != nil {
				return err
			}
		}
		for _, n := range step.Notices {
			if n.RunID == 0 && !n.Kind.IsIncident() {
				n.RunID = next.ID // an incident's messages belong to no run
			}
			if _, err := insertNotice(ctx, tx, n, at); err != nil {
				return err
			}
		}
		return writeIncidents(ctx, tx, step.Incidents, at)
	})
	if err != nil {
		if errors.Is(err, sekisho.ErrConflict) {
			return prev, fmt.Errorf("store: %s %s: %w", prev.Pipeline, prev.Key, err)
		}
		return prev, fmt.Errorf("store: apply %s %s: %w", prev.Pipeline, prev.Key, err)
	}
	return next, nil
}

// applyRunQuery is Apply's update of a run, fenced by its version.
const applyRunQuery = `UPDATE runs SET attempt = ?, state = ?, attempt_at = ?, timeout_at = ?,
	deadline = ?, recover_by = ?, intent_at = ?, triggered_at = ?, started_at = ?, finished_at = ?,
	external_id = ?, message = ?, updated_at = ?, first_success_at = ?, version = ?, spec = COALESCE(?, spec)
	WHERE id = ? AND version = ?`

// insertTransitionsQuery is the insert of transitions, followed by a
// transitionRow for each.
const (
	insertTransitionsQuery = `INSERT INTO transitions (run_id, pipeline, logical_date, attempt, from_state, to_state, at, reason, detail) VALUES `
	transitionRow          = `(?, ?, ?, ?, ?, ?, ?, ?, ?)`
)

// insertTransition appends one transition: Apply's.
func (s *Store) insertTransition(ctx context.Context, tx *sql.Tx, t sekisho.Transition) error {
	args, err := appendTransition(nil, t)
	if err == nil {
		_, err = s.exec(ctx, tx, s.stmts.insertTransition, insertTransitionsQuery+transitionRow, args...)
	}
	return err
}

// insertTransitions appends transitions in one statement.
func insertTransitions(ctx context.Context, tx *sql.Tx, trs []sekisho.Transition) error {
	if len(trs) == 0 {
		return nil
	}
	args := make([]any, 0, len(trs)*9)
	for _, t := range trs {
		var err error
		if args, err = appendTransition(args, t); err != nil {
			return err
		}
	}
	_, err := tx.ExecContext(ctx, insertTransitionsQuery+valueRows(transitionRow, len(trs)), args...)
	return err
}

// appendTransition appends the values of t's transitionRow to args.
func appendTransition(args []any, t sekisho.Transition) ([]any, error) {
	detail := []byte("{}")
	if len(t.Detail) > 0 {
		var err error
		if detail, err = json.Marshal(t.Detail); err != nil {
			return args, fmt.Errorf("transition detail: %w", err)
		}
	}
	return append(args, t.RunID, t.Pipeline, t.LogicalDate, t.Attempt, string(t.From), string(t.To),
		ts(t.At), t.Reason, string(detail)), nil
}

// Run returns the run of one pipeline with the given key (sekisho.RunKey:
// the logical date of a daily run, the fire time of a sub-daily one), or an
// error wrapping sekisho.ErrNotFound.
func (s *Store) Run(ctx context.Context, pipeline, key string) (sekisho.Run, error) {
	r, err := scanRun(s.r.QueryRowContext(ctx, `SELECT `+s.runColumns()+` FROM runs WHERE pipeline = ? AND `+s.runKeyColumn()+` = ?`, pipeline, key))
	if errors.Is(err, sql.ErrNoRows) {
		return r, fmt.Errorf("no run of %s at %s: %w", pipeline, key, sekisho.ErrNotFound)
	}
	return r, err
}

// runByIDQuery is RunByID's query (runColumns, each text built once).
func (s *Store) runByIDQuery() string {
	if s.keyed() {
		return `SELECT ` + runColumnsBefore + `run_key FROM runs WHERE id = ?`
	}
	return `SELECT ` + runColumnsBefore + `logical_date FROM runs WHERE id = ?`
}

// RunByID returns one run by its id.
func (s *Store) RunByID(ctx context.Context, id int64) (sekisho.Run, error) {
	r, err := scanRun(s.queryRow(ctx, s.stmts.runByID, s.runByIDQuery(), id))
	if errors.Is(err, sql.ErrNoRows) {
		return r, fmt.Errorf("no run %d: %w", id, sekisho.ErrNotFound)
	}
	return r, err
}

// OpenRuns returns every run that is not in a terminal state, oldest first.
func (s *Store) OpenRuns(ctx context.Context) ([]sekisho.Run, error) {
	return s.queryRuns(ctx, `SELECT `+s.runColumns()+` FROM runs WHERE state IN `+openStates+` ORDER BY id`)
}

// RunFilter selects runs for listings. Empty fields do not filter.
type RunFilter struct {
	Pipeline string
	From, To string // logical dates, inclusive
	Limit    int    // 0 = no limit
}

// Runs lists runs, newest logical date first.
func (s *Store) Runs(ctx context.Context, f RunFilter) ([]sekisho.Run, error) {
	var where []string
	var args []any
	if f.Pipeline != "" {
		where = append(where, "pipeline = ?")
		args = append(args, f.Pipeline)
	}
	if f.From != "" {
		where = append(where, "logical_date >= ?")
		args = append(args, f.From)
	}
	if f.To != "" {
		where = append(where, "logical_date <= ?")
		args = append(args, f.To)
	}
	q := `SELECT ` + s.runColumns() + ` FROM runs`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY logical_date DESC, pipeline, " + s.runKeyColumn() + " DESC"
	if f.Limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", f.Limit)
	}
	return s.queryRuns(ctx, q, args...)
}

func (s *Store) queryRuns(ctx context.Context, q string, args ...any) ([]sekisho.Run, error) {
	return queryAll(ctx, s.r, "runs", newRunDest().scan, q, args...)
}

// Transitions returns a run's history, oldest first.
func (s *Store) Transitions(ctx context.Context, runID int64) ([]sekisho.Transition, error) {
	return s.queryTransitions(ctx, `WHERE run_id = ? ORDER BY id`, runID)
}

// TransitionsAfter returns up to limit transitions of any run with an id
// above after, oldest first: a follower of the whole history (the demo's
// terminal) reads it page by page.
func (s *Store) TransitionsAfter(ctx context.Context, after int64, limit int) ([]sekisho.Transition, error) {
	return s.queryTransitions(ctx, `WHERE id > ? ORDER BY id LIMIT ?`, after, limit)
}

// LastTransitionID returns the id of the newest transition, 0 for none.
func (s *Store) LastTransitionID(ctx context.Context) (int64, error) {
	var id sql.NullInt64
	if err := s.r.QueryRowContext(ctx, `SELECT MAX(id) FROM transitions`).Scan(&id); err != nil {
		return 0, fmt.Errorf("store: last transition: %w", err)
	}
	return id.Int64, nil
}

func (s *Store) queryTransitions(ctx context.Context, where string, args ...any) ([]sekisho.Transition, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT id, run_id, pipeline, logical_date, `+s.keyOf("transitions")+`, attempt, from_state,
		to_state, at, reason, detail FROM transitions `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("store: transitions: %w", err)
	}
	defer rows.Close()
	return scanTransitions(rows)
}

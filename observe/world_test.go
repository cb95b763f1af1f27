package observe

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/store"
	"github.com/sekisho-dev/sekisho/testkit/teststore"
)

// world writes runs the way the engine does (store.OpenGate, store.Apply),
// so the service is tested on the store's real rows.
type world struct {
	t     testing.TB
	ctx   context.Context
	st    *store.Store
	clock *clockwork.FakeClock
	cfg   *config.Config
}

var gate = time.Date(2026, 11, 21, 2, 0, 0, 0, time.UTC)

func newWorld(t testing.TB) *world {
	t.Helper()
	ctx := context.Background()
	st, err := teststore.Open(ctx, filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	cfg := &config.Config{
		Connections: config.Connections{Glue: &config.Glue{Region: "ap-northeast-1"}},
		Lineage:     config.Lineage{Namespace: "sekisho"},
		Pipelines: []*config.Pipeline{{Name: "socrates_daily", Upstreams: []config.Upstream{
			{Name: "hegel_export", Type: config.TypeGlueJob, JobName: "hegel-rds-export"},
			{Name: "kant", Type: config.TypePipeline, Pipeline: "kant_daily"},
		}}},
	}
	return &world{t: t, ctx: ctx, st: st, clock: clockwork.NewFakeClockAt(gate), cfg: cfg}
}

func (w *world) open(pipeline, date string) sekisho.Run {
	w.t.Helper()
	r, _, err := w.st.OpenGate(w.ctx, sekisho.Run{Pipeline: pipeline, LogicalDate: date, GateAt: gate,
		TimeoutAt: gate.Add(6 * time.Hour), Spec: []byte(`{}`)}, nil)
	if err != nil {
		w.t.Fatal(err)
	}
	return r
}

func (w *world) observe(r sekisho.Run, name, typ string, state sekisho.JobState, ext string, finished time.Time) {
	w.t.Helper()
	_, err := w.st.RecordObservation(w.ctx, r.ID, r.Attempt, sekisho.Observation{Upstream: name, Type: typ, State: state,
		ExternalID: ext, StartedAt: gate, FinishedAt: finished, ObservedAt: finished})
	if err != nil {
		w.t.Fatal(err)
	}
}

// move applies one change at time at, as the engine would.
func (w *world) move(r sekisho.Run, to sekisho.State, at time.Time, reason string, detail map[string]any, edit func(*sekisho.Run)) sekisho.Run {
	w.t.Helper()
	next := r
	next.State = to
	if edit != nil {
		edit(&next)
	}
	got, err := w.st.Apply(w.ctx, r, next, at, store.Step{Reason: reason, Detail: detail})
	if err != nil {
		w.t.Fatal(err)
	}
	return got
}

func (w *world) trigger(r sekisho.Run, at time.Time) sekisho.Run {
	ext := sekisho.DagRunID(r.Pipeline, r.LogicalDate, r.Attempt)
	r = w.move(r, r.State, at.Add(-time.Second), "", nil, func(n *sekisho.Run) { n.IntentAt = at.Add(-time.Second) })
	return w.move(r, sekisho.StateTriggered, at, sekisho.ReasonConditionMet,
		map[string]any{"external_id": ext, "trigger": "airflow_dag"}, func(n *sekisho.Run) {
			n.ExternalID, n.TriggeredAt = ext, at
		})
}

func (w *world) rerun(r sekisho.Run, at time.Time) sekisho.Run {
	return w.move(r, sekisho.StateWaiting, at, sekisho.ReasonOperatorRerun, map[string]any{"previous_state": string(r.State)},
		func(n *sekisho.Run) {
			n.Attempt++
			n.AttemptAt, n.IntentAt, n.TriggeredAt, n.FinishedAt, n.ExternalID = at, time.Time{}, time.Time{}, time.Time{}, ""
		})
}

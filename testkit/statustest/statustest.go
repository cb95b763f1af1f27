// Package statustest seeds a store with runs in given states, for the tests
// of the status board, the JSON API and the metrics.
package statustest

import (
	"cmp"
	"context"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/store"
	"github.com/sekisho-dev/sekisho/testkit/teststore"
)

// Open opens a fresh store in the test's temporary directory.
func Open(t testing.TB) *store.Store {
	t.Helper()
	st, err := teststore.Open(context.Background(), filepath.Join(t.TempDir(), "sekisho.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// Run describes one stored run: the gate opens (waiting), then one
// transition moves it to State with the other fields set.
type Run struct {
	Pipeline, Date string
	Key            string // the run key; empty: Date (a daily run)
	State          sekisho.State
	Attempt        int
	GateAt         time.Time
	Deadline       time.Time
	TriggeredAt    time.Time
	StartedAt      time.Time
	FinishedAt     time.Time
	FirstSuccessAt time.Time
	ExternalID     string
	Message        string
	Observations   []sekisho.Observation
	Notices        []sekisho.Notice
}

// Put stores r and returns the stored run.
func Put(t testing.TB, st *store.Store, r Run) sekisho.Run {
	t.Helper()
	ctx := context.Background()
	gate := r.GateAt
	if gate.IsZero() {
		gate = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	run, _, err := st.OpenGate(ctx, sekisho.Run{Pipeline: r.Pipeline, LogicalDate: r.Date, Key: cmp.Or(r.Key, r.Date), GateAt: gate,
		TimeoutAt: gate.Add(6 * time.Hour), Deadline: r.Deadline, RecoverBy: gate.Add(24 * time.Hour),
		Spec: []byte(`{}`)}, map[string]any{"test": true})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range r.Observations {
		if o.ObservedAt.IsZero() {
			o.ObservedAt = gate
		}
		if _, err := st.RecordObservation(ctx, run.ID, 1, o); err != nil {
			t.Fatal(err)
		}
	}
	if r.State == "" || (r.State == sekisho.StateWaiting && r.Attempt <= 1 && len(r.Notices) == 0) {
		return run
	}
	next := run
	next.State = r.State
	if r.Attempt > 0 {
		next.Attempt = r.Attempt
	}
	next.TriggeredAt, next.StartedAt, next.FinishedAt = r.TriggeredAt, r.StartedAt, r.FinishedAt
	next.FirstSuccessAt, next.ExternalID, next.Message = r.FirstSuccessAt, r.ExternalID, r.Message
	at := firstNonZero(r.FinishedAt, r.StartedAt, r.TriggeredAt, gate)
	for i := range r.Notices {
		if r.Notices[i].DedupeKey == "" {
			r.Notices[i].DedupeKey = r.Pipeline + r.Date + string(r.Notices[i].Kind)
		}
		r.Notices[i].Pipeline, r.Notices[i].LogicalDate = r.Pipeline, r.Date
	}
	run, err = st.Apply(ctx, run, next, at, store.Step{Reason: "test", Detail: map[string]any{"n": 1}, Notices: r.Notices})
	if err != nil {
		t.Fatal(err)
	}
	return run
}

func firstNonZero(ts ...time.Time) time.Time {
	for _, t := range ts {
		if !t.IsZero() {
			return t
		}
	}
	return time.Time{}
}

// Pipeline returns a daily pipeline gated at 02:00 in loc with an optional
// deadline ("" for none) and upstream pipelines.
func Pipeline(name string, loc *time.Location, deadline string, upstreamPipelines ...string) *config.Pipeline {
	p := &config.Pipeline{Name: name, Description: "the " + name + " data", Schedule: "0 2 * * *",
		Timezone: loc.String(), Location: loc, Timeout: 6 * time.Hour, Condition: "all"}
	if deadline != "" {
		d, err := sekisho.ParseTimeOfDay(deadline)
		if err != nil {
			panic(err)
		}
		p.SLO = &config.SLO{Deadline: d, Objective: 0.95}
	}
	for _, u := range upstreamPipelines {
		p.Upstreams = append(p.Upstreams, config.Upstream{Name: u, Type: config.TypePipeline, Pipeline: u})
	}
	return p
}

// Discard is an http.ResponseWriter that counts the answer and keeps none
// of it, so a benchmark of a listing (the API, the board, /metrics)
// measures the daemon's cost, not a recorder's copy of the answer.
type Discard struct {
	Code  int // the status written, 0 for none (200)
	N     int // the bytes of the body
	heads http.Header
}

func (d *Discard) Header() http.Header {
	if d.heads == nil {
		d.heads = http.Header{}
	}
	return d.heads
}

func (d *Discard) WriteHeader(code int) { d.Code = code }

func (d *Discard) Write(b []byte) (int, error) {
	d.N += len(b)
	return len(b), nil
}

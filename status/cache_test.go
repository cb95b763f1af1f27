package status

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/store"
	"github.com/sekisho-dev/sekisho/testkit/statustest"
	"github.com/sekisho-dev/sekisho/testkit/storetest"
	"github.com/sekisho-dev/sekisho/testkit/teststore"
)

// The cache keeps a board's store reads only while the store holds the
// same data: every kind of write the board reads (a gate opening, a
// transition, a new observation, an incident, an acknowledgement), made
// through the board's own store or through another one (another process,
// another replica), makes the next call read again, and the cached answer
// is always the one a fresh Build gives. Writes the board does not read
// from its cache (the poll schedule) and a check that saw nothing new keep
// the reads, and still show at once.
func TestCacheRereadsAfterEveryWriteTheBoardReads(t *testing.T) {
	storetest.Each(t, func(t *testing.T, loc string) {
		ctx := context.Background()
		open := func() *store.Store {
			st, err := teststore.Open(ctx, loc)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			return st
		}
		st, other := open(), open()
		utc := time.UTC
		up := statustest.Pipeline("up", utc, "06:00")
		up.Upstreams = []config.Upstream{{Name: "job", Type: config.TypeGlueJob, JobName: "load"}}
		cfg := config.Fill(&config.Config{Location: utc, Pipelines: []*config.Pipeline{up, statustest.Pipeline("down", utc, "", "up")}})
		day := "2026-11-01"
		gate := time.Date(2026, 11, 1, 2, 0, 0, 0, utc)
		now := gate.Add(time.Hour)
		var c Cache
		kept := c.rd
		step := func(what string, reuse bool) *Board {
			t.Helper()
			got, err := c.Build(ctx, st, cfg, "", now)
			if err != nil {
				t.Fatalf("%s: %v", what, err)
			}
			want, err := Build(ctx, st, cfg, "", now)
			if err != nil {
				t.Fatal(err)
			}
			var g, w bytes.Buffer
			if err := got.WriteJSON(&g); err != nil {
				t.Fatal(err)
			}
			want.WriteJSON(&w)
			if g.String() != w.String() {
				t.Fatalf("%s: the cached board differs from a fresh one:\n%s\nwant\n%s", what, g.String(), w.String())
			}
			if (c.rd == kept) != reuse {
				t.Fatalf("%s: reads reused = %v, want %v", what, c.rd == kept, reuse)
			}
			kept = c.rd
			now = now.Add(time.Minute) // the time-bound parts move on between calls
			return got
		}
		step("first call", false)
		step("nothing written", true)

		if err := st.SetNextCheck(ctx, "glue_job:load", now.Add(time.Hour), now); err != nil {
			t.Fatal(err)
		}
		step("poll schedule written", true)

		runs := map[string]sekisho.Run{}
		openGate := func(s *store.Store, name string) {
			r, _, err := s.OpenGate(ctx, sekisho.Run{Pipeline: name, LogicalDate: day, Key: day, GateAt: gate,
				TimeoutAt: gate.Add(6 * time.Hour), RecoverBy: gate.Add(24 * time.Hour), Spec: []byte(`{}`)}, nil)
			if err != nil {
				t.Fatal(err)
			}
			runs[name] = r
		}
		openGate(st, "up")
		if b := step("gate opened here", false); b.Pipeline("up").State != sekisho.StateWaiting {
			t.Fatalf("up = %s", b.Pipeline("up").State)
		}
		openGate(other, "down")
		step("gate opened by another process", false)

		if err := st.SetNextCheck(ctx, "glue_job:load", now.Add(2*time.Hour), now); err != nil {
			t.Fatal(err)
		}
		if b := step("poll schedule written", true); !b.Pipeline("up").Upstreams[0].NextCheckAt.Equal(now.Add(2 * time.Hour).Add(-time.Minute)) {
			t.Fatalf("next check = %s: the poll schedule is read at every call", b.Pipeline("up").Upstreams[0].NextCheckAt)
		}

		running := sekisho.Observation{Upstream: "job", Type: config.TypeGlueJob, State: sekisho.JobRunning, ExternalID: "jr_1",
			StartedAt: gate.Add(time.Minute), ObservedAt: now}
		record := func(s *store.Store, o sekisho.Observation) {
			if _, err := s.RecordObservation(ctx, runs["up"].ID, 1, o); err != nil {
				t.Fatal(err)
			}
		}
		record(st, running)
		if b := step("observation recorded here", false); b.Pipeline("up").Upstreams[0].State != sekisho.JobRunning {
			t.Fatalf("upstream = %s", b.Pipeline("up").Upstreams[0].State)
		}
		record(st, running)
		step("the same observation again (no row)", true)
		done := running
		done.State, done.FinishedAt = sekisho.JobSucceeded, now
		record(other, done)
		step("observation recorded by another process", false)

		next := runs["up"]
		next.State, next.TriggeredAt = sekisho.StateTriggered, now
		r, err := st.Apply(ctx, runs["up"], next, now, store.Step{Reason: "test"})
		if err != nil {
			t.Fatal(err)
		}
		step("transition here", false)
		next = r
		next.State, next.FinishedAt, next.FirstSuccessAt = sekisho.StateSucceeded, now, now
		if _, err := other.Apply(ctx, r, next, now, store.Step{Reason: "test"}); err != nil {
			t.Fatal(err)
		}
		step("transition by another process", false)

		cause := sekisho.IncidentCause{Kind: sekisho.CauseJob, Date: day, Resource: "glue_job:other", ExternalID: "jr_9"}
		change := sekisho.IncidentChange{Cause: cause, Members: []sekisho.IncidentMember{
			{Pipeline: "down", Date: day, Role: sekisho.RoleAffected, Kind: "delay", State: sekisho.StateWaiting}}}
		if _, err := other.AddNoticesWithIncidents(ctx, nil, []sekisho.IncidentChange{change}, now); err != nil {
			t.Fatal(err)
		}
		step("incident opened by another process", false)
		ack := func(s *store.Store, eta time.Time, req string) {
			if err := s.Acknowledge(ctx, store.Action{Kind: "ack", Pipeline: "down", Key: day, Request: req, By: "api",
				Incident: cause.Key(), At: now}, store.Ack{Incident: cause.Key(), By: "api", At: now, ETA: eta}, nil); err != nil {
				t.Fatal(err)
			}
		}
		ack(st, gate.Add(5*time.Hour), "r1")
		if b := step("acknowledged here", false); b.Pipeline("down").ETASource != "acknowledged" {
			t.Fatalf("down's ETA source = %q", b.Pipeline("down").ETASource)
		}
		ack(other, gate.Add(6*time.Hour), "r2")
		if b := step("acknowledged by another process", false); !b.Pipeline("down").ETA.Equal(gate.Add(6 * time.Hour)) {
			t.Fatalf("down's ETA = %v", b.Pipeline("down").ETA)
		}
		step("nothing written", true)
	})
}

// WriteJSON writes what encoding/json's indenting Encoder writes, so the
// API's answer did not change when it began to stream.
func TestWriteJSONIsTheEncodersAnswer(t *testing.T) {
	st := statustest.Open(t)
	utc := time.UTC
	cfg := config.Fill(&config.Config{Location: utc, Pipelines: []*config.Pipeline{
		statustest.Pipeline("a<b>&c", utc, "06:00"), statustest.Pipeline("down", utc, "", "a<b>&c")}})
	statustest.Put(t, st, statustest.Run{Pipeline: "a<b>&c", Date: "2026-11-01", State: sekisho.StateFailed, Message: "bad \"quote\"",
		GateAt: time.Date(2026, 11, 1, 2, 0, 0, 0, utc)})
	for _, c := range []*config.Config{cfg, {Location: utc}} {
		b, err := Build(context.Background(), st, c, "2026-11-01", time.Date(2026, 11, 1, 7, 0, 0, 0, utc))
		if err != nil {
			t.Fatal(err)
		}
		var got, want bytes.Buffer
		if err := b.WriteJSON(&got); err != nil {
			t.Fatal(err)
		}
		enc := json.NewEncoder(&want)
		enc.SetIndent("", "  ")
		enc.Encode(b)
		if got.String() != want.String() {
			t.Fatalf("WriteJSON:\n%s\nencoding/json:\n%s", got.String(), want.String())
		}
	}
}

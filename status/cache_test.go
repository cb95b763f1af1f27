package status

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/store"
	"github.com/sekisho-dev/sekisho/testkit/statustest"
	"github.com/sekisho-dev/sekisho/testkit/storetest"
	"github.com/sekisho-dev/sekisho/testkit/teststore"
)

// The cache keeps a board's store reads while the store holds the same
// data, and every kind of write the board reads shows in the next call:
// a write through the board's own store (a gate opening, a transition, a
// new observation, of a shown date or of an earlier one the ETA history
// reads, an incident, an acknowledgement, a notified incident) refreshes
// just the rows it touched; a write through another store (another
// process, another replica) makes the next call read everything again.
// The cached answer is always the one a fresh Build gives. Writes the
// board does not read from its cache (the poll schedule, a silence) and a
// check that saw nothing new keep the reads, and still show at once.
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
		// hist waits on a job whose history (past days' observations) its
		// ETA comes from.
		hist := statustest.Pipeline("hist", utc, "")
		hist.Upstreams = []config.Upstream{{Name: "job2", Type: config.TypeGlueJob, JobName: "load2"}}
		sub := statustest.Pipeline("sub", utc, "")
		sub.Schedule = "0 2,14 * * *"
		cfg := config.Fill(&config.Config{Location: utc, Pipelines: []*config.Pipeline{up, statustest.Pipeline("down", utc, "", "up"), hist, sub}})
		day := "2026-11-01"
		gate := time.Date(2026, 11, 1, 2, 0, 0, 0, utc)
		now := gate.Add(time.Hour)
		// Two past days of hist whose job finished two hours after the
		// gate: one short of the history a projection uses (eta.MinHistory).
		var past []sekisho.Run
		for i, d := range []string{"2026-10-29", "2026-10-30", "2026-10-31"} {
			g := gate.AddDate(0, 0, i-3)
			r := statustest.Run{Pipeline: "hist", Date: d, GateAt: g, State: sekisho.StateSucceeded, FinishedAt: g.Add(2 * time.Hour),
				FirstSuccessAt: g.Add(2 * time.Hour)}
			if i < 2 {
				r.Observations = []sekisho.Observation{{Upstream: "job2", Type: config.TypeGlueJob, State: sekisho.JobSucceeded,
					ExternalID: "jr_" + d, StartedAt: g.Add(time.Hour), FinishedAt: g.Add(2 * time.Hour)}}
			}
			past = append(past, statustest.Put(t, st, r))
		}
		if _, _, err := st.OpenGate(ctx, sekisho.Run{Pipeline: "hist", LogicalDate: day, Key: day, GateAt: gate,
			TimeoutAt: gate.Add(6 * time.Hour), Spec: []byte(`{}`)}, nil); err != nil {
			t.Fatal(err)
		}
		var c Cache
		step := func(what, want string) *Board {
			t.Helper()
			whole, refreshed := c.whole, c.refreshed
			got, err := c.Build(ctx, st, cfg, "", now)
			if err != nil {
				t.Fatalf("%s: %v", what, err)
			}
			fresh, err := Build(ctx, st, cfg, "", now)
			if err != nil {
				t.Fatal(err)
			}
			var g, w bytes.Buffer
			if err := got.WriteJSON(&g); err != nil {
				t.Fatal(err)
			}
			fresh.WriteJSON(&w)
			if g.String() != w.String() {
				t.Fatalf("%s: the cached board differs from a fresh one:\n%s\nwant\n%s", what, g.String(), w.String())
			}
			// The API's answer, written as it is made, is the same.
			an, err := c.Answer(ctx, st, cfg, "", now)
			if err != nil {
				t.Fatal(err)
			}
			var a bytes.Buffer
			if err := an.WriteJSON(&a); err != nil || a.String() != w.String() {
				t.Fatalf("%s: the streamed answer (%v) differs from a fresh board:\n%s\nwant\n%s", what, err, a.String(), w.String())
			}
			// And so is the answer made by two goroutines, an entry each
			// in turn (at 10,000 pipelines, a chunk of 64 each).
			for _, hands := range []int{1, 2} {
				an, err := c.Answer(ctx, st, cfg, "", now)
				if err != nil {
					t.Fatal(err)
				}
				an.hands, an.chunk = hands, 1
				a.Reset()
				if err := an.WriteJSON(&a); err != nil || a.String() != w.String() {
					t.Fatalf("%s: the answer of %d hands (%v) differs from a fresh board:\n%s\nwant\n%s", what, hands, err, a.String(), w.String())
				}
			}
			did := "kept"
			switch {
			case c.whole != whole:
				did = "read whole"
			case c.refreshed != refreshed:
				did = "refreshed"
			}
			if did != want {
				t.Fatalf("%s: the reads were %s, want %s", what, did, want)
			}
			now = now.Add(time.Minute) // the time-bound parts move on between calls
			return got
		}
		step("first call", "read whole")
		step("nothing written", "kept")

		if err := st.SetNextCheck(ctx, "glue_job:load", now.Add(time.Hour), now); err != nil {
			t.Fatal(err)
		}
		step("poll schedule written", "kept")
		if _, err := st.AddSilence(ctx, store.Silence{Pipelines: []string{"up"}, Reason: "test", StartsAt: now, EndsAt: now.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		step("silence added", "kept")

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
		if b := step("gate opened here", "refreshed"); b.Pipeline("up").State != sekisho.StateWaiting {
			t.Fatalf("up = %s", b.Pipeline("up").State)
		}
		openGate(other, "down")
		step("gate opened by another process", "read whole")

		// A sub-daily pipeline's second gate of the day: its entry shows
		// the latest run, its intervals both.
		for _, g := range []time.Time{gate, gate.Add(12 * time.Hour)} {
			if _, err := st.OpenGates(ctx, []store.Gate{{Run: sekisho.Run{Pipeline: "sub", LogicalDate: day, Key: sub.RunKey(g), GateAt: g,
				TimeoutAt: g.Add(6 * time.Hour), Spec: []byte(`{}`)}}}); err != nil {
				t.Fatal(err)
			}
			b := step("sub-daily gate opened here", "refreshed")
			if e := b.Pipeline("sub"); e.Key != sub.RunKey(g) || e.State != sekisho.StateWaiting {
				t.Fatalf("sub shows %s %s, want %s waiting", e.Key, e.State, sub.RunKey(g))
			}
		}

		if err := st.SetNextCheck(ctx, "glue_job:load", now.Add(2*time.Hour), now); err != nil {
			t.Fatal(err)
		}
		if b := step("poll schedule written", "kept"); !b.Pipeline("up").Upstreams[0].NextCheckAt.Equal(now.Add(2 * time.Hour).Add(-time.Minute)) {
			t.Fatalf("next check = %s: the poll schedule is read at every call", b.Pipeline("up").Upstreams[0].NextCheckAt)
		}

		running := sekisho.Observation{Upstream: "job", Type: config.TypeGlueJob, State: sekisho.JobRunning, ExternalID: "jr_1",
			StartedAt: gate.Add(time.Minute), ObservedAt: now}
		record := func(s *store.Store, run int64, o sekisho.Observation) {
			if _, err := s.RecordObservation(ctx, run, 1, o); err != nil {
				t.Fatal(err)
			}
		}
		record(st, runs["up"].ID, running)
		if b := step("observation recorded here", "refreshed"); b.Pipeline("up").Upstreams[0].State != sekisho.JobRunning {
			t.Fatalf("upstream = %s", b.Pipeline("up").Upstreams[0].State)
		}
		record(st, runs["up"].ID, running)
		step("the same observation again (no row)", "kept")
		done := running
		done.State, done.FinishedAt = sekisho.JobSucceeded, now
		record(other, runs["up"].ID, done)
		step("observation recorded by another process", "read whole")

		// The third past day's job: hist's ETA now has its history.
		projected := gate.Add(2 * time.Hour)
		if b := step("nothing written", "kept"); b.Pipeline("hist").ETA != nil && b.Pipeline("hist").ETA.Equal(projected) {
			t.Fatalf("hist's ETA is %s with two days of history", projected)
		}
		g := past[2].GateAt
		record(st, past[2].ID, sekisho.Observation{Upstream: "job2", Type: config.TypeGlueJob, State: sekisho.JobSucceeded,
			ExternalID: "jr_3", StartedAt: g.Add(time.Hour), FinishedAt: g.Add(2 * time.Hour), ObservedAt: g.Add(2 * time.Hour)})
		if b := step("observation of an earlier day recorded here", "refreshed"); b.Pipeline("hist").ETA == nil || !b.Pipeline("hist").ETA.Equal(projected) {
			t.Fatalf("hist's ETA = %v, want %s from three days of history", b.Pipeline("hist").ETA, projected)
		}

		next := runs["up"]
		next.State, next.TriggeredAt = sekisho.StateTriggered, now
		r, err := st.Apply(ctx, runs["up"], next, now, store.Step{Reason: "test"})
		if err != nil {
			t.Fatal(err)
		}
		if b := step("transition here", "refreshed"); b.Pipeline("up").State != sekisho.StateTriggered {
			t.Fatalf("up = %s", b.Pipeline("up").State)
		}
		next = r
		next.State, next.FinishedAt, next.FirstSuccessAt = sekisho.StateSucceeded, now, now
		if _, err := other.Apply(ctx, r, next, now, store.Step{Reason: "test"}); err != nil {
			t.Fatal(err)
		}
		step("transition by another process", "read whole")

		cause := sekisho.IncidentCause{Kind: sekisho.CauseJob, Date: day, Resource: "glue_job:other", ExternalID: "jr_9"}
		change := sekisho.IncidentChange{Cause: cause, Members: []sekisho.IncidentMember{
			{Pipeline: "down", Date: day, Role: sekisho.RoleAffected, Kind: "delay", State: sekisho.StateWaiting}}}
		if _, err := other.AddNoticesWithIncidents(ctx, nil, []sekisho.IncidentChange{change}, now); err != nil {
			t.Fatal(err)
		}
		step("incident opened by another process", "read whole")
		ack := func(s *store.Store, eta time.Time, req string) {
			if err := s.Acknowledge(ctx, store.Action{Kind: "ack", Pipeline: "down", Key: day, Request: req, By: "api",
				Incident: cause.Key(), At: now}, store.Ack{Incident: cause.Key(), By: "api", At: now, ETA: eta}, nil); err != nil {
				t.Fatal(err)
			}
		}
		ack(st, gate.Add(5*time.Hour), "r1")
		if b := step("acknowledged here", "refreshed"); b.Pipeline("down").ETASource != "acknowledged" {
			t.Fatalf("down's ETA source = %q", b.Pipeline("down").ETASource)
		}
		ack(other, gate.Add(6*time.Hour), "r2")
		if b := step("acknowledged by another process", "read whole"); !b.Pipeline("down").ETA.Equal(gate.Add(6 * time.Hour)) {
			t.Fatalf("down's ETA = %v", b.Pipeline("down").ETA)
		}
		// The incident's member is done: the acknowledgement no longer
		// holds down's ETA.
		change.Members[0].State = sekisho.StateSucceeded
		if _, err := st.AddNoticesWithIncidents(ctx, nil, []sekisho.IncidentChange{change}, now); err != nil {
			t.Fatal(err)
		}
		if b := step("incident changed here", "refreshed"); b.Pipeline("down").ETASource == "acknowledged" {
			t.Fatal("down's ETA is still the acknowledged one")
		}
		if err := st.MarkIncidentNotified(ctx, cause.Key(), now); err != nil {
			t.Fatal(err)
		}
		step("incident notified here", "refreshed")
		step("nothing written", "kept")
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
		if _, err := encoderAnswer(b); err != nil {
			t.Fatal(err)
		}
		sameAsEncoder(t, b)
	}
}

// Calls made at once, while this process writes, each get a board of
// their own: its entries stay as built until the caller releases them,
// though released boards' storage serves the next calls (run with -race).
func TestCacheConcurrentCallsKeepTheirOwnBoards(t *testing.T) {
	st := statustest.Open(t)
	ctx := context.Background()
	cfg := dueAtSix(40, false)
	ps := cfg.Pipelines
	day := "2026-11-01"
	gate := time.Date(2026, 11, 1, 2, 0, 0, 0, time.UTC)
	var c Cache
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // the daemon's writes
		defer wg.Done()
		for _, p := range ps {
			if _, _, err := st.OpenGate(ctx, sekisho.Run{Pipeline: p.Name, LogicalDate: day, Key: day, GateAt: gate,
				TimeoutAt: gate.Add(6 * time.Hour), Spec: []byte(`{}`)}, nil); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 25 {
				now := gate.Add(time.Duration(g*100+i) * time.Minute)
				b, err := c.Build(ctx, st, cfg, "", now)
				if err != nil {
					t.Error(err)
					return
				}
				var first, again bytes.Buffer
				b.WriteJSON(&first)
				runtime.Gosched()
				b.WriteJSON(&again)
				if first.String() != again.String() {
					t.Errorf("a board changed while its caller held it")
				}
				for j, p := range b.Pipelines {
					if p.Name != ps[j].Name || !p.GateAt.Equal(gate) {
						t.Errorf("entry %d = %s at %s", j, p.Name, p.GateAt)
					}
				}
				b.Release()
				if b.Pipelines != nil {
					t.Error("a released board still lists its entries")
				}
			}
		}()
	}
	wg.Wait()
}

// BuildPage is Build with the ETAs and upstreams of one page of entries
// only: those are the ones Build gives, the others have none, and the rest
// of every entry is the same, summaries in the language asked for.
func TestBuildPageProjectsOnlyItsEntries(t *testing.T) {
	st := statustest.Open(t)
	ctx := context.Background()
	cfg := dueAtSix(6, true)
	day := "2026-11-01"
	gate := time.Date(2026, 11, 1, 2, 0, 0, 0, time.UTC)
	for _, p := range cfg.Pipelines {
		statustest.Put(t, st, statustest.Run{Pipeline: p.Name, Date: day, GateAt: gate, State: sekisho.StateWaiting})
	}
	now := gate.Add(time.Hour)
	want, err := Build(ctx, st, cfg, "", now)
	if err != nil {
		t.Fatal(err)
	}
	var c Cache
	got, err := c.BuildPage(ctx, st, cfg, now, Language(cfg), 2, 4)
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range got.Pipelines {
		w := want.Pipelines[i]
		if w.ETA == nil {
			t.Fatalf("%s has no ETA on the whole board", w.Name)
		}
		if in := i >= 2 && i < 4; in != (e.ETA != nil) || in && !e.ETA.Equal(*w.ETA) {
			t.Errorf("%s: ETA %v, want %v (on the page: %v)", e.Name, e.ETA, w.ETA, in)
		}
		if in := i >= 2 && i < 4; in != (e.Upstreams != nil) || in && len(e.Upstreams) != len(w.Upstreams) {
			t.Errorf("%s: upstreams %v, want %v (on the page: %v)", e.Name, e.Upstreams, w.Upstreams, in)
		}
		// Off the page, only a pipeline in trouble keeps its summary (none is here).
		if in := i >= 2 && i < 4; in != (e.Summary != "") || in && e.Summary != w.Summary || w.Summary == "" {
			t.Errorf("%s: summary %q, want %q (on the page: %v)", e.Name, e.Summary, w.Summary, in)
		}
		e.ETA, e.ETACause, e.ETASource, e.Upstreams, e.Summary = w.ETA, w.ETACause, w.ETASource, w.Upstreams, w.Summary
	}
	var g, wj bytes.Buffer
	got.WriteJSON(&g)
	want.WriteJSON(&wj)
	if g.String() != wj.String() {
		t.Errorf("the page's board differs from the whole one beyond its ETAs:\n%s\nwant\n%s", g.String(), wj.String())
	}
	if b, err := c.BuildPage(ctx, st, cfg, now, "en", 5, 99); err != nil || b.Pipelines[5].ETA == nil || b.Pipelines[4].ETA != nil {
		t.Errorf("a page past the end: %v", err)
	} else if b.Language != "en" || !strings.Contains(b.Pipelines[5].Summary, "Waiting for upstream data (0 of 1 done)") {
		t.Errorf("summaries in %s: %q", b.Language, b.Pipelines[5].Summary)
	}
}

// dueAtSix is a config of n pipelines p00, p01, … due at 06:00 UTC; with
// line, each waits on the one before.
func dueAtSix(n int, line bool) *config.Config {
	var ps []*config.Pipeline
	for i := range n {
		var ups []string
		if line && i > 0 {
			ups = append(ups, fmt.Sprintf("p%02d", i-1))
		}
		ps = append(ps, statustest.Pipeline(fmt.Sprintf("p%02d", i), time.UTC, "06:00", ups...))
	}
	return config.Fill(&config.Config{Location: time.UTC, Pipelines: ps})
}

// TestCacheShowsTheStoredObservations: what the cache keeps of each
// observation in its compact form (interned names, Unix times, the rare
// fields behind a pointer) shows on the board as the store holds it
// (LatestObservationsOn, the whole read), field by field: messages,
// errors, a data check's value and reason, times set and unset, an
// upstream seen twice, a run's rows apart; on a whole read and after each
// refresh that writes a new observation.
func TestCacheShowsTheStoredObservations(t *testing.T) {
	storetest.Each(t, func(t *testing.T, loc string) {
		ctx := context.Background()
		st, err := teststore.Open(ctx, loc)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		day := "2026-11-01"
		gate := time.Date(2026, 11, 1, 2, 0, 0, 0, time.UTC)
		now := gate.Add(time.Hour)
		cfg := &config.Config{Timezone: "UTC", Location: time.UTC}
		runs := map[string]sekisho.Run{}
		for _, name := range []string{"a", "b", "c"} {
			p := statustest.Pipeline(name, time.UTC, "06:00")
			p.Upstreams = []config.Upstream{{Name: "load", Type: config.TypeGlueJob, JobName: "load_" + name},
				{Name: "rows", Type: config.TypeGlueJob, JobName: "rows_" + name}}
			cfg.Pipelines = append(cfg.Pipelines, p)
			created, err := st.OpenGates(ctx, []store.Gate{{Run: sekisho.Run{Pipeline: name, LogicalDate: day, Key: day, GateAt: gate,
				TimeoutAt: gate.Add(6 * time.Hour), Spec: p.SpecFor(day, gate)}}})
			if err != nil {
				t.Fatal(err)
			}
			runs[name] = created[0]
		}
		v := 41.5
		writes := [][]store.ObservationWrite{
			// b's row between a's: the whole read gets a's rows apart.
			{{Run: runs["a"].ID, Attempt: 1, Obs: sekisho.Observation{Upstream: "load", Type: config.TypeGlueJob, State: sekisho.JobRunning,
				ExternalID: "jr_1", StartedAt: gate.Add(time.Minute), ObservedAt: gate.Add(2 * time.Minute)}},
				{Run: runs["b"].ID, Attempt: 1, Obs: sekisho.Observation{Upstream: "load", Type: config.TypeGlueJob, State: sekisho.JobFailed,
					ExternalID: "jr_2", Error: "throttled", Message: "OOM", ObservedAt: gate.Add(5 * time.Minute)}},
				{Run: runs["a"].ID, Attempt: 1, Obs: sekisho.Observation{Upstream: "rows", Type: config.TypeGlueJob, State: sekisho.JobSucceeded,
					Message: "done", Value: &v, Reason: "within 10%", StartedAt: gate, FinishedAt: gate.Add(3 * time.Minute),
					ObservedAt: gate.Add(4 * time.Minute)}}},
			// Refreshes: a's load finishes; c is seen for the first time.
			{{Run: runs["a"].ID, Attempt: 1, Obs: sekisho.Observation{Upstream: "load", Type: config.TypeGlueJob, State: sekisho.JobSucceeded,
				ExternalID: "jr_1", StartedAt: gate.Add(time.Minute), FinishedAt: gate.Add(30 * time.Minute), ObservedAt: gate.Add(31 * time.Minute)}}},
			{{Run: runs["c"].ID, Attempt: 1, Obs: sekisho.Observation{Upstream: "rows", Type: config.TypeGlueJob, State: sekisho.JobPending,
				Reason: "waiting for rows", ObservedAt: gate.Add(32 * time.Minute)}}},
		}
		var c Cache
		for step, ws := range writes {
			if _, err := st.RecordObservations(ctx, ws); err != nil {
				t.Fatal(err)
			}
			b, err := c.Build(ctx, st, cfg, day, now)
			if err != nil {
				t.Fatal(err)
			}
			stored, err := st.LatestObservationsOn(ctx, []string{day})
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range b.Pipelines {
				for _, u := range e.Upstreams {
					o, ok := stored[runs[e.Name].ID][u.Name]
					want := Upstream{Name: u.Name, Type: config.TypeGlueJob, State: sekisho.JobPending}
					if ok {
						want = Upstream{Name: u.Name, Type: config.TypeGlueJob, State: o.State, ExternalID: o.ExternalID,
							StartedAt: o.StartedAt, FinishedAt: o.FinishedAt, Message: o.Message, Error: o.Error, Value: o.Value,
							Reason: o.Reason, ObservedAt: o.ObservedAt}
					}
					if got, w := upstreamText(u), upstreamText(want); got != w {
						t.Errorf("step %d, %s's %s:\n%s\nwant\n%s", step, e.Name, u.Name, got, w)
					}
				}
			}
			b.Release()
		}
		if c.whole != 1 || c.refreshed != 2 {
			t.Errorf("%d whole reads, %d refreshes: want 1 and 2 (the refreshes are what this checks)", c.whole, c.refreshed)
		}
	})
}

// upstreamText is u with its value, not the value's address.
func upstreamText(u Upstream) string {
	v := "none"
	if u.Value != nil {
		v = fmt.Sprint(*u.Value)
	}
	u.Value = nil
	return fmt.Sprintf("%+v value %s", u, v)
}

// TestCacheProjectsWithTheCondition: a pipeline whose condition is not
// "all" is projected with it from the cache (the cache keeps parsed
// conditions only for those): with "any", the upstream that succeeded
// makes the run ready (the cause of its ETA) although the other is still
// pending; with "all" the pending one is the cause.
func TestCacheProjectsWithTheCondition(t *testing.T) {
	ctx := context.Background()
	st := statustest.Open(t)
	day := "2026-11-01"
	gate := time.Date(2026, 11, 1, 2, 0, 0, 0, time.UTC)
	now := gate.Add(3 * time.Hour)
	cfg := &config.Config{Timezone: "UTC", Location: time.UTC}
	for _, cond := range []string{"any", "all"} {
		p := statustest.Pipeline(cond, time.UTC, "")
		p.Condition = cond
		p.Upstreams = []config.Upstream{{Name: "done", Type: config.TypeGlueJob, JobName: "done_" + cond},
			{Name: "later", Type: config.TypeGlueJob, JobName: "later_" + cond}}
		cfg.Pipelines = append(cfg.Pipelines, p)
		statustest.Put(t, st, statustest.Run{Pipeline: cond, Date: day, GateAt: gate, State: sekisho.StateWaiting,
			Observations: []sekisho.Observation{{Upstream: "done", Type: config.TypeGlueJob, State: sekisho.JobSucceeded,
				StartedAt: gate, FinishedAt: gate.Add(time.Hour), ObservedAt: gate.Add(time.Hour)}}})
	}
	var c Cache
	b, err := c.Build(ctx, st, cfg, day, now)
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"any": "done", "all": "later"} {
		e := b.Pipeline(name)
		if e.ETA == nil || e.ETACause == nil || e.ETACause.Upstream != want {
			t.Errorf("%s: ETA %v caused by %+v, want caused by %s", name, e.ETA, e.ETACause, want)
		}
	}
}

// TestKeptObservationsAreEachRunsOwn: the whole read's observations, in
// the order the rows came, are kept as each run's own list: every one
// under its run, none under another, and a list grown (refresh) never
// writes into the next run's.
func TestKeptObservationsAreEachRunsOwn(t *testing.T) {
	ids := []int64{3, 1, 3, 2, 1, 3}
	obs := make([]observation, len(ids), len(ids)+1) // a little room, kept
	for i := range obs {
		obs[i] = observation{upstream: fmt.Sprintf("u%d", i), observed: ids[i]}
	}
	rd := &reads{obs: map[int64][]observation{}}
	rd.keepObservations(ids, obs)
	want := map[int64]int{1: 2, 2: 1, 3: 3}
	if len(rd.obs) != len(want) {
		t.Fatalf("%d runs kept, want %d", len(rd.obs), len(want))
	}
	for run, n := range want {
		list := rd.obs[run]
		if len(list) != n || cap(list) != n {
			t.Errorf("run %d: %d observations (room for %d), want %d", run, len(list), cap(list), n)
		}
		for _, o := range list {
			if o.observed != run {
				t.Errorf("run %d keeps %s, of run %d", run, o.upstream, o.observed)
			}
		}
	}
	grown := append(rd.obs[1], observation{upstream: "new", observed: 1})
	if len(grown) != 3 || rd.obs[2][0].observed != 2 || rd.obs[3][0].observed != 3 {
		t.Errorf("a run's grown list wrote into another's: %+v", rd.obs)
	}
}

// TestAnswerSecondHandPanicIsTheCallers: a panic while the second goroutine
// of an answer makes its entries is raised again in the caller's, where
// net/http recovers a handler's panic, and does not end the process from
// a goroutine nothing recovers.
func TestAnswerSecondHandPanicIsTheCallers(t *testing.T) {
	cfg := config.Fill(&config.Config{Location: time.UTC, Pipelines: []*config.Pipeline{
		statustest.Pipeline("a", time.UTC, ""), statustest.Pipeline("b", time.UTC, "")}})
	a := &assembler{pipelines: cfg.Pipelines, on: []string{"2026-11-01", "2026-11-01"}, rd: &reads{},
		eta: newProjector(context.Background(), nil, &reads{}, time.Now())}
	// The second hand's entries lie past its pipelines: making one panics.
	b := *a
	b.pipelines = b.pipelines[:1]
	defer func() {
		r := recover()
		if r == nil || !strings.Contains(fmt.Sprint(r), "second hand") {
			t.Fatalf("recovered %v, want the second hand's panic", r)
		}
	}()
	twoHands(nil, io.Discard, 2, 1, a, &b)
	t.Fatal("no panic")
}

// TestTwoHandsWriteInOrder: however the chunks fall to the two hands (the
// writer slow, so the second runs up to its bound ahead, or a chunk of
// one entry, so they take turns at every entry), the answer is the one
// hand's, entry for entry in order.
func TestTwoHandsWriteInOrder(t *testing.T) {
	var ps []*config.Pipeline
	on := []string{}
	for i := range 23 {
		ps = append(ps, statustest.Pipeline(fmt.Sprintf("p%02d", i), time.UTC, ""))
		on = append(on, "2026-11-01")
	}
	cfg := config.Fill(&config.Config{Location: time.UTC, Pipelines: ps})
	now := time.Date(2026, 11, 1, 3, 0, 0, 0, time.UTC)
	hand := func() *assembler {
		return &assembler{pipelines: cfg.Pipelines, on: on, rd: &reads{}, now: now, lang: "en",
			eta: newProjector(context.Background(), nil, &reads{}, now)}
	}
	want, err := hand().appendEntries(nil, nil, 0, len(ps))
	if err != nil {
		t.Fatal(err)
	}
	for _, chunk := range []int{1, 2, 5, 22, 23} {
		for _, slow := range []bool{false, true} {
			var w slowWriter
			w.slow = slow
			buf, err := twoHands(nil, &w, len(ps), chunk, hand(), hand())
			if err != nil {
				t.Fatal(err)
			}
			w.Write(buf)
			if got := w.b.String(); got != string(want) {
				t.Fatalf("chunk %d, slow writer %v: the answer differs:\n%s\nwant\n%s", chunk, slow, got, want)
			}
		}
	}
}

// slowWriter keeps what is written; slow, it lets the other goroutines
// run at each write.
type slowWriter struct {
	b    bytes.Buffer
	slow bool
}

func (w *slowWriter) Write(p []byte) (int, error) {
	if w.slow {
		for range 20 {
			runtime.Gosched()
		}
	}
	return w.b.Write(p)
}

package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/testkit/storetest"
)

// retentionFixture writes, through the store's own writes (OpenGate,
// Apply with notices), a daily pipeline's runs on five old dates, an
// hourly pipeline's three runs on two old dates, an old run still open,
// and a recent run. It returns the runs by key "pipeline/key".
func retentionFixture(t *testing.T, s *Store) map[string]sekisho.Run {
	t.Helper()
	ctx := context.Background()
	out := map[string]sekisho.Run{}
	add := func(p, date, key string, gate time.Time, final sekisho.State) {
		r, created, err := s.OpenGate(ctx, sekisho.Run{Pipeline: p, LogicalDate: date, Key: key, GateAt: gate,
			TimeoutAt: gate.Add(6 * time.Hour), Deadline: gate.Add(time.Hour), RecoverBy: gate.Add(3 * time.Hour), Spec: []byte(`{}`)}, nil)
		if err != nil || !created {
			t.Fatalf("open %s %s: %v", p, key, err)
		}
		if _, err := s.RecordObservation(ctx, r.ID, 1, sekisho.Observation{Upstream: "u", Type: "glue_job", State: sekisho.JobSucceeded,
			ExternalID: "jr_" + key, ObservedAt: gate}); err != nil {
			t.Fatal(err)
		}
		if final != sekisho.StateWaiting {
			n := sekisho.Notice{RunID: r.ID, Pipeline: p, LogicalDate: date, Key: key, Kind: sekisho.NoticeRecovery,
				DedupeKey: sekisho.NoticeKey(sekisho.NoticeRecovery, sekisho.NoticeSubject{Run: r.ID})}
			next := r
			next.State = final
			// Finishing an hour after the gate meets the deadline at its edge;
			// the failed ones never succeed.
			next.FinishedAt = gate.Add(time.Hour)
			if final == sekisho.StateSucceeded {
				next.FirstSuccessAt = next.FinishedAt
			}
			if r, err = s.Apply(ctx, r, next, gate.Add(time.Hour), Step{Reason: "test", Notices: []sekisho.Notice{n}}); err != nil {
				t.Fatal(err)
			}
		}
		out[p+"/"+key] = r
	}
	for i := range 5 {
		date := time.Date(2025, 1, 10+i, 0, 0, 0, 0, time.UTC)
		final := sekisho.StateSucceeded
		if i == 2 {
			final = sekisho.StateFailed
		}
		add("daily", date.Format(sekisho.DateLayout), date.Format(sekisho.DateLayout), date.Add(2*time.Hour), final)
	}
	for i := range 2 {
		date := time.Date(2025, 1, 11+i, 0, 0, 0, 0, time.UTC)
		for h := 12; h < 15; h++ {
			gate := date.Add(time.Duration(h) * time.Hour)
			add("hourly", date.Format(sekisho.DateLayout), gate.Format(sekisho.KeyLayout), gate, sekisho.StateSucceeded)
		}
	}
	add("stuck", "2025-01-10", "2025-01-10", time.Date(2025, 1, 10, 2, 0, 0, 0, time.UTC), sekisho.StateWaiting)
	add("daily", "2026-11-20", "2026-11-20", t0, sekisho.StateSucceeded)
	return out
}

// sloRecords reads what the SLO report reads of a pipeline over a range:
// its first day and its records, in a stable order.
func sloRecords(t *testing.T, s *Store, pipeline string) (string, []string) {
	t.Helper()
	rd, err := s.SLOReader(context.Background(), 1)
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	first, blob, err := rd.RunRecords(context.Background(), pipeline, "2025-01-01", "2026-12-31")
	if err != nil {
		t.Fatal(err)
	}
	recs := strings.Split(blob, ";")
	slices.Sort(recs)
	return first, recs
}

// Pruning goes in batches of whole pipeline days, each its own
// transaction; a write between two batches goes through; every pruned
// run's transitions, observations and notices go with it; the SLO report
// reads the same records afterwards (from slo_days); an open run and the
// runs younger than the cut stay.
func TestPruneInBatches(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		runs := retentionFixture(t, s)
		type read struct {
			first string
			recs  []string
		}
		before := map[string]read{}
		for _, p := range []string{"daily", "hourly", "stuck"} {
			f, r := sloRecords(t, s, p)
			before[p] = read{f, r}
		}
		firsts, err := s.FirstRunDates(ctx, []string{"daily", "hourly"})
		if err != nil {
			t.Fatal(err)
		}

		var batches []Pruned
		var total Pruned
		for i := 0; ; i++ {
			p, err := s.Prune(ctx, "2025-06-01", 3, t0)
			if err != nil {
				t.Fatal(err)
			}
			if p.Runs == 0 {
				break
			}
			batches = append(batches, p)
			total.Add(p)
			// The engine writes between batches: a gate opens and moves.
			key := "2026-11-2" + string(rune('1'+i))
			r, _, err := s.OpenGate(ctx, sekisho.Run{Pipeline: "busy", LogicalDate: key, Key: key, GateAt: t0, TimeoutAt: t0.Add(time.Hour),
				Spec: []byte(`{}`)}, nil)
			if err != nil {
				t.Fatalf("a write between batches %d and %d: %v", i, i+1, err)
			}
			to(t, s, r, sekisho.StateBlocked, t0, nil)
		}
		// Oldest days first, at most three runs each (the hourly days are
		// three runs: one day a batch): daily 10th+11th, hourly 11th, daily
		// 12th (+ hourly 12th would be 4), hourly 12th, daily 13th+14th.
		want := []int64{2, 3, 1, 3, 2}
		var got []int64
		for _, b := range batches {
			got = append(got, b.Runs)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("runs per batch %v, want %v", got, want)
		}
		// Each run: its gate's and its finish's transitions, one observation,
		// one notice.
		if (total != Pruned{Days: 7, Runs: 11, Transitions: 22, Observations: 11, Notices: 11}) {
			t.Fatalf("pruned %+v, want 7 days, 11 runs, 22 transitions, 11 observations and 11 notices", total)
		}
		for key, r := range runs {
			_, err := s.Run(ctx, r.Pipeline, r.Key)
			kept := key == "stuck/2025-01-10" || key == "daily/2026-11-20"
			if kept != (err == nil) {
				t.Errorf("%s: kept %v, lookup err %v", key, kept, err)
			}
			trs, _ := s.Transitions(ctx, r.ID)
			ns, _ := s.Notices(ctx, r.ID)
			obs, _ := s.Observations(ctx, r.ID)
			if !kept && (len(trs) != 0 || len(ns) != 0 || len(obs) != 0) {
				t.Errorf("%s: %d transitions, %d notices and %d observations left", key, len(trs), len(ns), len(obs))
			}
			if kept && (len(trs) == 0 || len(obs) != 1) {
				t.Errorf("%s is kept, with %d transitions and %d observations", key, len(trs), len(obs))
			}
		}
		for p, b := range before {
			f, recs := sloRecords(t, s, p)
			if f != b.first || !slices.Equal(recs, b.recs) {
				t.Errorf("%s after pruning: first %s, records\n%v\nwant first %s,\n%v", p, f, recs, b.first, b.recs)
			}
		}
		if after, _ := s.FirstRunDates(ctx, []string{"daily", "hourly"}); after["daily"] != firsts["daily"] || after["hourly"] != firsts["hourly"] {
			t.Errorf("first run dates %v, want %v", after, firsts)
		}
		// The database refuses any other delete of history: a transition of
		// a day without a summary.
		busy, err := s.Run(ctx, "busy", "2026-11-21")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.w.ExecContext(ctx, `DELETE FROM transitions WHERE run_id = ?`, busy.ID); err == nil ||
			!strings.Contains(err.Error(), "append-only") {
			t.Fatalf("deleting a transition outside pruning: %v", err)
		}
	})
}

// BenchmarkPrune measures pruning a backlog of finished daily runs (each
// with its gate's and its finish's transitions) in batches of PruneBatch:
// runs pruned per second and the time one batch's transaction holds the
// writer, which is how long an engine write may wait behind it.
func BenchmarkPrune(b *testing.B) {
	const pipelines, days = 200, 10
	for _, d := range storetest.Dialects {
		b.Run(string(d), func(b *testing.B) {
			ctx := context.Background()
			var pruned, batches int64
			var longest time.Duration
			for range b.N {
				b.StopTimer()
				s, err := Init(ctx, storetest.Location(b, d))
				if err != nil {
					b.Fatal(err)
				}
				for day := range days {
					date := time.Date(2025, 1, 1+day, 0, 0, 0, 0, time.UTC)
					gates := make([]Gate, 0, pipelines)
					for p := range pipelines {
						gates = append(gates, Gate{Run: sekisho.Run{Pipeline: fmt.Sprintf("p%04d", p), LogicalDate: date.Format(sekisho.DateLayout),
							Key: date.Format(sekisho.DateLayout), GateAt: date, TimeoutAt: date.Add(time.Hour), Spec: []byte(`{}`)}})
					}
					created, err := s.OpenGates(ctx, gates)
					if err != nil {
						b.Fatal(err)
					}
					for _, r := range created {
						next := r
						next.State, next.FinishedAt, next.FirstSuccessAt = sekisho.StateSucceeded, date.Add(time.Hour), date.Add(time.Hour)
						if _, err := s.Apply(ctx, r, next, date.Add(time.Hour), Step{Reason: "bench"}); err != nil {
							b.Fatal(err)
						}
					}
				}
				b.StartTimer()
				for {
					start := time.Now()
					p, err := s.Prune(ctx, "2025-02-01", PruneBatch, t0)
					if err != nil {
						b.Fatal(err)
					}
					if p.Runs == 0 {
						break
					}
					longest = max(longest, time.Since(start))
					pruned += p.Runs
					batches++
				}
				b.StopTimer()
				s.Close()
				b.StartTimer()
			}
			b.ReportMetric(float64(pruned)/b.Elapsed().Seconds(), "runs/s")
			b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(batches), "ms/batch")
			b.ReportMetric(float64(longest.Milliseconds()), "ms/longest-batch")
		})
	}
}

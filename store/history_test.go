package store

import (
	"context"
	"database/sql"
	"fmt"
	"testing"
	"time"

	"github.com/sekisho-dev/sekisho"
)

// TestLineHistory reads the history the ETA projection learns from: a
// pipeline's successful runs (gate, trigger, first success) and its
// upstreams' succeeded runs (the run's gate, the upstream run's start and
// finish), before a date, newest first.
func TestLineHistory(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		// Three days of p: triggered 30 min after the gate, succeeded 90 min
		// after it; a day that never succeeded; another pipeline's day.
		for d := 18; d <= 20; d++ {
			r := gate(t, s, "p", fmt.Sprintf("2026-11-%02d", d))
			for _, o := range []sekisho.Observation{
				{Upstream: "glue", Type: "glue_job", State: sekisho.JobRunning, StartedAt: t0.Add(time.Minute), ObservedAt: t0},
				{Upstream: "glue", Type: "glue_job", State: sekisho.JobSucceeded, StartedAt: t0.Add(time.Duration(d) * time.Minute),
					FinishedAt: t0.Add(20 * time.Minute), ObservedAt: t0},
			} {
				if _, err := s.RecordObservation(ctx, r.ID, 1, o); err != nil {
					t.Fatal(err)
				}
			}
			next := r
			next.State, next.TriggeredAt = sekisho.StateTriggered, t0.Add(30*time.Minute)
			if r, err := s.Apply(ctx, r, next, t0, Step{Reason: "test"}); err != nil {
				t.Fatal(err)
			} else {
				next = r
				next.State, next.FinishedAt, next.FirstSuccessAt = sekisho.StateSucceeded, t0.Add(time.Duration(d)*time.Hour), t0.Add(time.Duration(d)*time.Hour)
				if _, err := s.Apply(ctx, r, next, t0, Step{Reason: "test"}); err != nil {
					t.Fatal(err)
				}
			}
		}
		gate(t, s, "p", "2026-11-17")
		gate(t, s, "q", "2026-11-19")
		got, err := s.RunTimes(ctx, "p", "2026-11-20", 30)
		if err != nil {
			t.Fatal(err)
		}
		want := [][3]time.Time{{t0, t0.Add(30 * time.Minute), t0.Add(19 * time.Hour)}, {t0, t0.Add(30 * time.Minute), t0.Add(18 * time.Hour)}}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("RunTimes = %v, want %v (before the 20th, successes only, newest first)", got, want)
		}
		if got, _ := s.RunTimes(ctx, "p", "2026-11-21", 1); len(got) != 1 || !got[0][2].Equal(t0.Add(20*time.Hour)) {
			t.Errorf("limit 1 = %v, want the 20th only", got)
		}
		ups, err := s.UpstreamTimes(ctx, "p", "2026-11-20", 30)
		if err != nil {
			t.Fatal(err)
		}
		wantUps := [][3]time.Time{{t0, t0.Add(19 * time.Minute), t0.Add(20 * time.Minute)}, {t0, t0.Add(18 * time.Minute), t0.Add(20 * time.Minute)}}
		if len(ups) != 1 || fmt.Sprint(ups["glue"]) != fmt.Sprint(wantUps) {
			t.Errorf("UpstreamTimes = %v, want glue %v", ups, wantUps)
		}
	})
}

// TestHistoryOfManyIsTheWholeQuery: the history read a batch of pipelines
// a statement (EachLineTimes) gives what the one query
// over every pipeline's runs gave (kept here as the reference), with more
// days of runs than a history holds, failed and succeeded days, reruns of
// an upstream (the latest success counts), a pipeline without runs, and
// batches cut short.
func TestHistoryOfManyIsTheWholeQuery(t *testing.T) {
	defer func(b int) { historyBatch = b }(historyBatch)
	historyBatch = 2
	eachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		names := []string{"a", "b", "c", "none", "d"}
		for pi, p := range names[:3] {
			for d := range 12 {
				date := time.Date(2026, 11, 1+d, 0, 0, 0, 0, time.UTC).Format(sekisho.DateLayout)
				r := gate(t, s, p, date)
				g := r.GateAt
				for k, u := range []string{"glue", "dbt"} {
					for try := range 1 + (d+k+pi)%3 { // reruns: running, succeeded, again
						st := sekisho.JobSucceeded
						if (d+try)%4 == 3 {
							st = sekisho.JobFailed
						}
						o := sekisho.Observation{Upstream: u, Type: "glue_job", State: st, ObservedAt: g,
							StartedAt: g.Add(time.Duration(d+try+k) * time.Minute), FinishedAt: g.Add(time.Duration(30+d*try+k) * time.Minute)}
						if _, err := s.RecordObservation(ctx, r.ID, 1, o); err != nil {
							t.Fatal(err)
						}
					}
				}
				if (d+pi)%5 == 4 {
					continue // never succeeded
				}
				next := r
				next.State, next.FinishedAt, next.FirstSuccessAt = sekisho.StateSucceeded, g.Add(time.Duration(60+d)*time.Minute),
					g.Add(time.Duration(60+d)*time.Minute)
				if (d+pi)%3 != 0 {
					next.TriggeredAt = g.Add(time.Duration(10+pi) * time.Minute)
				}
				if _, err := s.Apply(ctx, r, next, g, Step{Reason: "test"}); err != nil {
					t.Fatal(err)
				}
			}
		}
		for _, n := range []int{1, 5, 30} {
			runs := map[string][][3]time.Time{}
			ups := map[string]map[string][][3]time.Time{}
			if err := s.EachLineTimes(ctx, names, "2026-11-11", n, func(p string, rs [][3]time.Time, us []string, ts [][][3]time.Time) {
				if len(rs) > 0 {
					runs[p] = append(runs[p], rs...)
				}
				for i, u := range us {
					if ups[p] == nil {
						ups[p] = map[string][][3]time.Time{}
					}
					ups[p][u] = append(ups[p][u], ts[i]...)
				}
			}); err != nil {
				t.Fatal(err)
			}
			wantRuns, wantUps := wholeHistoryQuery(t, s, names, "2026-11-11", n)
			if fmt.Sprint(runs) != fmt.Sprint(wantRuns) {
				t.Errorf("n %d: EachRunTimes %v\nwant %v", n, runs, wantRuns)
			}
			if fmt.Sprint(ups) != fmt.Sprint(wantUps) {
				t.Errorf("n %d: EachUpstreamTimes %v\nwant %v", n, ups, wantUps)
			}
			if n == 5 && (len(runs["a"]) != 5 || len(ups["b"]["glue"]) == 0) {
				t.Errorf("n 5: %d runs of a, %d of b's glue: the store holds more", len(runs["a"]), len(ups["b"]["glue"]))
			}
		}
	})
}

// wholeHistoryQuery is the history of pipelines as it was read before
// batches: one query each over every pipeline's runs.
func wholeHistoryQuery(t *testing.T, s *Store, pipelines []string, before string, n int) (map[string][][3]time.Time,
	map[string]map[string][][3]time.Time) {
	type row struct {
		pipeline, upstream string
		times              [3]time.Time
	}
	runs := map[string][][3]time.Time{}
	rows, err := queryAll(context.Background(), s.r, "run times", func(sc scanner) (row, error) {
		var r row
		var g, tr, ok sql.NullString
		err := sc.Scan(&r.pipeline, &g, &tr, &ok)
		r.times = [3]time.Time{parseTS(g), parseTS(tr), parseTS(ok)}
		return r, err
	}, `SELECT pipeline, gate_at, COALESCE(triggered_at, gate_at), first_success_at FROM (
			SELECT pipeline, gate_at, triggered_at, first_success_at, logical_date, id,
				ROW_NUMBER() OVER (PARTITION BY pipeline ORDER BY logical_date DESC, id DESC) AS nth
			FROM runs WHERE pipeline IN (`+placeholders(len(pipelines))+`) AND first_success_at IS NOT NULL AND logical_date < ?
		) t WHERE nth <= ? ORDER BY pipeline, logical_date DESC, id DESC`, append(strArgs(pipelines), before, n)...)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		runs[r.pipeline] = append(runs[r.pipeline], r.times)
	}
	ups := map[string]map[string][][3]time.Time{}
	rows, err = queryAll(context.Background(), s.r, "upstream times", func(sc scanner) (row, error) {
		var r row
		var g, st, fin sql.NullString
		err := sc.Scan(&r.pipeline, &r.upstream, &g, &st, &fin)
		r.times = [3]time.Time{parseTS(g), parseTS(st), parseTS(fin)}
		return r, err
	}, `SELECT r.pipeline, o.upstream, r.gate_at, o.started_at, o.finished_at FROM runs r JOIN upstream_observations o ON o.run_id = r.id
		WHERE r.id IN (SELECT id FROM (
			SELECT id, ROW_NUMBER() OVER (PARTITION BY pipeline ORDER BY logical_date DESC, id DESC) AS nth
			FROM runs WHERE pipeline IN (`+placeholders(len(pipelines))+`) AND logical_date < ?) t WHERE nth <= ?)
		AND o.id = (SELECT MAX(id) FROM upstream_observations WHERE run_id = r.id AND upstream = o.upstream AND state = 'succeeded')
		ORDER BY r.pipeline, r.logical_date DESC, r.id DESC`, append(strArgs(pipelines), before, n)...)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if ups[r.pipeline] == nil {
			ups[r.pipeline] = map[string][][3]time.Time{}
		}
		ups[r.pipeline][r.upstream] = append(ups[r.pipeline][r.upstream], r.times)
	}
	return runs, ups
}

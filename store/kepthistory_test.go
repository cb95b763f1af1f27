package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/testkit/storetest"
)

// kept reads the summaries kept of pipelines before date over 30 runs, and
// the pipelines with a history but none kept ("-").
func kept(t *testing.T, s *Store, before string, pipelines ...string) map[string]string {
	t.Helper()
	out := map[string]string{}
	if err := s.EachKeptHistory(context.Background(), pipelines, before, 30, func(p, summary string, ok bool) {
		if !ok {
			summary = "-"
		}
		out[p] = summary
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// keepAll claims and keeps summary "s:<pipeline>:<before>" of each pipeline
// before date.
func keepAll(t *testing.T, s *Store, before string, pipelines ...string) {
	t.Helper()
	ctx := context.Background()
	claim, err := s.ClaimHistories(ctx, pipelines, before, 30)
	if err != nil {
		t.Fatal(err)
	}
	var sums []string
	for _, p := range pipelines {
		sums = append(sums, "s:"+p+":"+before)
	}
	if err := s.KeepHistories(ctx, claim, before, 30, pipelines, sums); err != nil {
		t.Fatal(err)
	}
}

// succeed applies r's first success at.
func succeed(t *testing.T, s *Store, r sekisho.Run, at time.Time) sekisho.Run {
	t.Helper()
	next := r
	next.State, next.FinishedAt, next.FirstSuccessAt = sekisho.StateSucceeded, at, at
	r, err := s.Apply(context.Background(), r, next, at, Step{Reason: "test"})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestKeptHistoryIsForgottenByTheWritesItWasMadeOf: a kept summary of a
// pipeline's history before a date is gone once any write changes what
// that history reads (a run before the date inserted, succeeded, pruned;
// a succeeded observation of one recorded), whoever writes, and stays
// through the writes it does not read (a later date's run, another
// pipeline's, a run's message, an upstream seen running). Pipelines
// without a run before the date have no history to keep.
func TestKeptHistoryIsForgottenByTheWritesItWasMadeOf(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		r10 := succeed(t, s, gate(t, s, "p", "2026-11-10"), t0.Add(time.Hour))
		succeed(t, s, gate(t, s, "q", "2026-11-10"), t0.Add(time.Hour))
		if got := kept(t, s, "2026-11-10", "p", "q"); len(got) != 0 {
			t.Fatalf("on the store's first day: %v, want no history", got)
		}
		if got := kept(t, s, "2026-11-12", "p", "q", "new"); fmt.Sprint(got) != "map[p:- q:-]" {
			t.Fatalf("before any is kept: %v, want p and q with a history, none kept, new without", got)
		}
		keepAll(t, s, "2026-11-11", "p", "q")
		keepAll(t, s, "2026-11-12", "p", "q")
		want := map[string]string{"p": "s:p:2026-11-12", "q": "s:q:2026-11-12"}
		if got := kept(t, s, "2026-11-12", "p", "q", "new"); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("kept %v, want %v", got, want)
		}
		stays := func(what string) {
			t.Helper()
			if got := kept(t, s, "2026-11-12", "p", "q"); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("after %s: %v, want %v kept", what, got, want)
			}
		}
		forgets := func(what string, p string, dates ...string) {
			t.Helper()
			for _, d := range dates {
				if got := kept(t, s, d, p); got[p] != "-" {
					t.Errorf("after %s: %s's summary before %s is %q, want none kept", what, p, d, got[p])
				}
			}
			keepAll(t, s, "2026-11-11", p)
			keepAll(t, s, "2026-11-12", p)
		}

		// What the history does not read.
		r12 := gate(t, s, "p", "2026-11-12") // the date itself
		next := r12
		next.Message = "waiting on glue"
		r12, err := s.Apply(ctx, r12, next, t0, Step{Reason: "test"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.RecordObservation(ctx, r10.ID, 1, sekisho.Observation{Upstream: "glue", Type: "glue_job",
			State: sekisho.JobRunning, ObservedAt: t0}); err != nil {
			t.Fatal(err)
		}
		gate(t, s, "other", "2026-11-01")
		stays("a run on the date, its message, an upstream seen running, another pipeline's run")
		if got := kept(t, s, "2026-11-11", "p"); got["p"] != "s:p:2026-11-11" {
			t.Errorf("before the 11th: %q, want kept", got["p"])
		}

		// What it reads.
		if _, err := s.RecordObservation(ctx, r10.ID, 1, sekisho.Observation{Upstream: "glue", Type: "glue_job",
			State: sekisho.JobSucceeded, StartedAt: t0, FinishedAt: t0.Add(time.Minute), ObservedAt: t0}); err != nil {
			t.Fatal(err)
		}
		forgets("an upstream of the 10th succeeded", "p", "2026-11-11", "2026-11-12")
		if got := kept(t, s, "2026-11-12", "q"); got["q"] != want["q"] {
			t.Errorf("q after p's observation: %q, want kept", got["q"])
		}
		r11 := gate(t, s, "p", "2026-11-11")
		if got := kept(t, s, "2026-11-11", "p"); got["p"] != "s:p:2026-11-11" {
			t.Errorf("a run of the 11th forgot the history before the 11th: %q", got["p"])
		}
		forgets("a run of the 11th opened", "p", "2026-11-12")
		succeed(t, s, r11, t0.Add(2*time.Hour))
		forgets("the 11th succeeded", "p", "2026-11-12")
		gate(t, s, "p", "2026-11-01")
		forgets("a run of an earlier date (a backfill)", "p", "2026-11-11", "2026-11-12")
		if _, err := s.Prune(ctx, "2026-11-11", 0, t0); err != nil {
			t.Fatal(err)
		}
		forgets("pruning", "p", "2026-11-11", "2026-11-12")
		if got, ok := kept(t, s, "2026-11-12", "q")["q"]; ok {
			t.Errorf("q after its one run was pruned: %q, want no history and none kept", got)
		}
	})
}

// TestKeptHistoryOnlyUnderItsClaim: a summary is kept only where the claim
// it was read under still stands. A write of the history between the
// claim and the keeping (the summary is of older times) and a later claim
// (another reader) leave it unkept; a claim replaces what was kept.
func TestKeptHistoryOnlyUnderItsClaim(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		r := gate(t, s, "p", "2026-11-10")
		claim, err := s.ClaimHistories(ctx, []string{"p"}, "2026-11-12", 30)
		if err != nil {
			t.Fatal(err)
		}
		succeed(t, s, r, t0.Add(time.Hour)) // after the claim: the reader's times may be older
		if err := s.KeepHistories(ctx, claim, "2026-11-12", 30, []string{"p"}, []string{"old"}); err != nil {
			t.Fatal(err)
		}
		if got := kept(t, s, "2026-11-12", "p"); got["p"] != "-" {
			t.Fatalf("kept %q, made before a write it was claimed before", got["p"])
		}

		first, err := s.ClaimHistories(ctx, []string{"p"}, "2026-11-12", 30)
		if err != nil {
			t.Fatal(err)
		}
		second, err := s.ClaimHistories(ctx, []string{"p"}, "2026-11-12", 30)
		if err != nil {
			t.Fatal(err)
		}
		if first == second {
			t.Fatalf("two claims have one number %d", first)
		}
		if err := s.KeepHistories(ctx, first, "2026-11-12", 30, []string{"p"}, []string{"first"}); err != nil {
			t.Fatal(err)
		}
		if got := kept(t, s, "2026-11-12", "p"); got["p"] != "-" {
			t.Fatalf("kept %q under a claim another took over", got["p"])
		}
		if err := s.KeepHistories(ctx, second, "2026-11-12", 30, []string{"p"}, []string{"second"}); err != nil {
			t.Fatal(err)
		}
		if got := kept(t, s, "2026-11-12", "p"); got["p"] != "second" {
			t.Fatalf("kept %q, want the last claim's", got["p"])
		}
		if got := kept(t, s, "2026-11-13", "p"); got["p"] != "-" {
			t.Errorf("before another date: %q, want none kept", got["p"])
		}
		if _, err := s.ClaimHistories(ctx, []string{"p"}, "2026-11-12", 30); err != nil {
			t.Fatal(err)
		}
		if got := kept(t, s, "2026-11-12", "p"); got["p"] != "-" {
			t.Errorf("a new claim left %q kept", got["p"])
		}
	})
}

// TestKeptHistoryPrunesOldDates: claiming a date's summaries drops those
// of dates more than a week before it, and keeps the week's.
func TestKeptHistoryPrunesOldDates(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		gate(t, s, "p", "2026-10-01")
		for _, d := range []string{"2026-11-01", "2026-11-05", "2026-11-06T13:00", "2026-11-12"} {
			keepAll(t, s, d, "p")
		}
		var left []string
		for _, d := range []string{"2026-11-01", "2026-11-05", "2026-11-06T13:00", "2026-11-12"} {
			if got := kept(t, s, d, "p"); got["p"] != "-" {
				left = append(left, d)
			}
		}
		if want := []string{"2026-11-05", "2026-11-06T13:00", "2026-11-12"}; !slices.Equal(left, want) {
			t.Errorf("kept before %v, want %v (a week before the 12th on)", left, want)
		}
		if _, ok := keptHistoryCutoff("today"); ok {
			t.Error("a date that is not a calendar day has a cutoff")
		}
	})
}

// TestKeptHistoryOnAnOlderSchema: a store opened at a schema before kept
// histories (a binary newer than the daemon that migrates it) keeps none:
// every pipeline asked counts as unkept, and a claim says why.
func TestKeptHistoryOnAnOlderSchema(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		gate(t, s, "p", "2026-11-10")
		s.schema = keptHistoryVersion - 1
		if got := kept(t, s, "2026-11-12", "p", "new"); fmt.Sprint(got) != "map[new:- p:-]" {
			t.Errorf("kept %v, want both asked for, none kept", got)
		}
		if _, err := s.ClaimHistories(context.Background(), []string{"p"}, "2026-11-12", 30); !errors.Is(err, ErrNoKeptHistory) {
			t.Errorf("claim: %v, want ErrNoKeptHistory", err)
		}
	})
}

// TestKeptHistoryClaimGivesWay: on PostgreSQL a claim waiting on a row a
// run's write is deleting (its trigger, in a transaction still open)
// gives up after keptHistoryLockWait instead of waiting, so the two can
// never deadlock with the run's write as the victim; the run's write then
// commits, and the summary is gone. (SQLite has one writer and no row
// locks.)
func TestKeptHistoryClaimGivesWay(t *testing.T) {
	loc := storetest.Location(t, "postgres")
	a, b := openAt(t, loc), openAt(t, loc)
	ctx := context.Background()
	r := gate(t, a, "p", "2026-11-10")
	keepAll(t, a, "2026-11-12", "p")
	tx, err := b.w.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `UPDATE runs SET first_success_at = ? WHERE id = ?`, ts(t0), r.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := a.ClaimHistories(ctx, []string{"p"}, "2026-11-12", 30); err == nil {
		t.Fatal("the claim took a row a run's open write holds")
	}
	if err := tx.Commit(); err != nil {
		t.Fatalf("the run's write: %v", err)
	}
	if got := kept(t, a, "2026-11-12", "p"); got["p"] != "-" {
		t.Errorf("after the run's write: %q kept, want none", got["p"])
	}
}

// TestKeptHistoryInBatches: pipelines claimed, kept and read back over
// several batches each keep their own summary.
func TestKeptHistoryInBatches(t *testing.T) {
	defer func(b int) { historyBatch = b }(historyBatch)
	historyBatch = 2
	eachStore(t, func(t *testing.T, s *Store) {
		ps := []string{"a", "b", "c", "d", "e"}
		for _, p := range ps {
			gate(t, s, p, "2026-11-10")
		}
		keepAll(t, s, "2026-11-12", ps...)
		got := kept(t, s, "2026-11-12", ps...)
		for _, p := range ps {
			if want := "s:" + p + ":2026-11-12"; got[p] != want {
				t.Errorf("%s: kept %q, want %q", p, got[p], want)
			}
		}
	})
}

package eta_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/policy/eta"
	"github.com/sekisho-dev/sekisho/store"
	"github.com/sekisho-dev/sekisho/testkit/statustest"
)

// timesOnly is the store without its kept summaries: every read is of the
// times themselves, the reference a kept summary must equal.
type timesOnly struct{ st *store.Store }

func (r timesOnly) EachLineTimes(ctx context.Context, pipelines []string, before string, n int,
	fn func(string, [][3]time.Time, []string, [][][3]time.Time)) error {
	return r.st.EachLineTimes(ctx, pipelines, before, n, fn)
}

// histories is EachHistory of pipelines before date through r, printed.
func histories(t *testing.T, r eta.ManyReader, before string, pipelines ...string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := eta.EachHistory(context.Background(), r, pipelines, before, func(p string, s eta.Stats, names []string, ups []eta.UpstreamStats) {
		out[p] = fmt.Sprint(s, names, ups)
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestKeptHistoryIsTheHistoryRead: through the store (an eta.Keeper) the
// history of every line is, on the first read (the times read and the
// summaries kept) and on the next (the summaries read back), what reading
// the times gives, for lines with several upstreams, reruns, days that
// never succeeded, no success at all, and no runs; and after a write of
// the history, what the times say now.
func TestKeptHistoryIsTheHistoryRead(t *testing.T) {
	st := statustest.Open(t)
	ctx := context.Background()
	const before = "2026-11-20"
	g := time.Date(2026, 11, 1, 2, 0, 0, 0, time.UTC)
	for d := 1; d <= 12; d++ {
		date := fmt.Sprintf("2026-11-%02d", d)
		gate := g.AddDate(0, 0, d-1)
		for pi, p := range []string{"a", "b", "never"} {
			var obs []sekisho.Observation
			for k, u := range []string{"orders", "users_export", "x"}[:1+pi] {
				obs = append(obs, sekisho.Observation{Upstream: u, Type: "glue_job", State: sekisho.JobSucceeded,
					StartedAt: gate.Add(time.Duration(d+k) * time.Minute), FinishedAt: gate.Add(time.Duration(30+d*d+k) * time.Minute)})
				if d%3 == 0 { // a rerun: the latest success counts
					obs = append(obs, sekisho.Observation{Upstream: u, Type: "glue_job", State: sekisho.JobSucceeded,
						StartedAt: gate.Add(time.Hour), FinishedAt: gate.Add(time.Duration(90+d) * time.Minute)})
				}
			}
			r := statustest.Run{Pipeline: p, Date: date, GateAt: gate, State: sekisho.StateSucceeded, Observations: obs,
				TriggeredAt: gate.Add(time.Duration(40+d*pi) * time.Minute), FinishedAt: gate.Add(time.Duration(100+d*d) * time.Minute)}
			r.FirstSuccessAt = r.FinishedAt
			if p == "never" || d%5 == 0 {
				r.State, r.FirstSuccessAt, r.FinishedAt = sekisho.StateFailed, time.Time{}, gate.Add(3*time.Hour)
			}
			statustest.Put(t, st, r)
		}
	}
	lines := []string{"a", "b", "never", "new"}
	want := histories(t, timesOnly{st}, before, lines...)
	if len(want) != 3 || want["a"] == want["b"] {
		t.Fatalf("the reference reads %v: want three lines with a history, a's and b's apart", want)
	}
	for _, call := range []string{"first (read and kept)", "second (kept)"} {
		if got := histories(t, st, before, lines...); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: %v\nwant %v", call, got, want)
		}
		kept := 0
		if err := st.EachKeptHistory(ctx, lines, before, eta.HistoryRuns, func(_, _ string, ok bool) {
			if ok {
				kept++
			}
		}); err != nil {
			t.Fatal(err)
		}
		if kept != 3 {
			t.Errorf("after the %s call %d lines are kept, want the 3 with a history", call, kept)
		}
	}

	// A late success of a day a's history holds.
	statustest.Put(t, st, statustest.Run{Pipeline: "a", Date: "2026-10-31", GateAt: g.Add(-24 * time.Hour), State: sekisho.StateSucceeded,
		FinishedAt: g.Add(20 * time.Hour), FirstSuccessAt: g.Add(20 * time.Hour), TriggeredAt: g})
	want = histories(t, timesOnly{st}, before, lines...)
	if got := histories(t, st, before, lines...); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("after a write of a's history: %v\nwant %v", got, want)
	}
}

// TestKeptHistoryOfAnotherReleaseIsReadAgain: a kept summary this release
// cannot parse (another version's, or damaged) counts as none kept: the
// times are read again and the summary replaced.
func TestKeptHistoryOfAnotherReleaseIsReadAgain(t *testing.T) {
	st := statustest.Open(t)
	ctx := context.Background()
	gate := time.Date(2026, 11, 1, 2, 0, 0, 0, time.UTC)
	for d := 1; d <= 4; d++ {
		statustest.Put(t, st, statustest.Run{Pipeline: "a", Date: fmt.Sprintf("2026-11-%02d", d), GateAt: gate, State: sekisho.StateSucceeded,
			TriggeredAt: gate.Add(time.Hour), FinishedAt: gate.Add(time.Duration(2+d) * time.Hour), FirstSuccessAt: gate.Add(time.Duration(2+d) * time.Hour)})
	}
	want := histories(t, timesOnly{st}, "2026-11-10", "a")
	for _, bad := range []string{"2 30 1 1", "1 3 x 1", "1 3 1", "1 3 1 1;4 5 6", "1 3 1 1;4 5 6 ", ""} {
		claim, err := st.ClaimHistories(ctx, []string{"a"}, "2026-11-10", eta.HistoryRuns)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.KeepHistories(ctx, claim, "2026-11-10", eta.HistoryRuns, []string{"a"}, []string{bad}); err != nil {
			t.Fatal(err)
		}
		if got := histories(t, st, "2026-11-10", "a"); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("kept %q: %v, want %v", bad, got, want)
		}
		var summary string
		if err := st.EachKeptHistory(ctx, []string{"a"}, "2026-11-10", eta.HistoryRuns, func(_, s string, _ bool) { summary = s }); err != nil {
			t.Fatal(err)
		}
		if summary == bad || summary == "" {
			t.Errorf("kept %q: still %q after the read, want this release's", bad, summary)
		}
	}
}

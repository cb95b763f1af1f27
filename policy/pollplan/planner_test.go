package pollplan_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/policy/pollplan"
	"github.com/sekisho-dev/sekisho/testkit/statustest"
)

// TestPlannerUsesTheStoreHistory: the planner reads the upstream's
// finishes from the store, schedules densely near them with the
// connection's share, and publishes the answer.
func TestPlannerUsesTheStoreHistory(t *testing.T) {
	st := statustest.Open(t)
	p := statustest.Pipeline("ads", tokyo, "06:00")
	p.PokeInterval = 30 * time.Second
	p.Upstreams = []config.Upstream{{Name: "master", Type: config.TypeTroccoJob, JobDefinitionID: 55}}
	var ps []*config.Pipeline
	ps = append(ps, p)
	for i := range 49 { // 50 TROCCO resources share the default budget: 8m20s each
		q := statustest.Pipeline(fmt.Sprintf("other%d", i), tokyo, "")
		q.Upstreams = []config.Upstream{{Name: "x", Type: config.TypeTroccoJob, JobDefinitionID: int64(100 + i)}}
		ps = append(ps, q)
	}
	cfg := &config.Config{Location: tokyo, Pipelines: ps,
		Connections: config.Connections{Trocco: &config.Trocco{RateLimit: config.DefaultTroccoRateLimit}}}
	for _, f := range history(3, 0, 90*time.Minute) {
		date := f.Format(sekisho.DateLayout)
		statustest.Put(t, st, statustest.Run{Pipeline: "ads", Date: date, State: sekisho.StateSucceeded,
			GateAt: f.Add(-time.Hour), Observations: []sekisho.Observation{{Upstream: "master", Type: config.TypeTroccoJob,
				State: sekisho.JobSucceeded, ExternalID: date, StartedAt: f.Add(-20 * time.Minute), FinishedAt: f}}})
	}
	pl := pollplan.NewPlanner(st, cfg)
	ctx := context.Background()
	res := sekisho.Resource{Type: config.TypeTroccoJob, ID: "55"}
	near, _ := pl.Next(ctx, res, 30*time.Second, at(3, 0))
	if gap := near.Sub(at(3, 0)); gap != 500*time.Second/8 {
		t.Errorf("near the usual finish: next check in %s, want an eighth of the 8m20s share", gap)
	}
	far, _ := pl.Next(ctx, res, 30*time.Second, at(15, 0))
	if gap := far.Sub(at(15, 0)); gap < 30*time.Minute {
		t.Errorf("far from the usual finish: next check in %s, want sparse", gap)
	}
	if got, _ := st.NextChecks(ctx); len(got) != 0 {
		t.Errorf("published before Publish: %v", got)
	}
	if err := pl.Publish(ctx, at(15, 0)); err != nil {
		t.Fatal(err)
	}
	got, err := st.NextChecks(ctx)
	if err != nil || !got["trocco_job:55"].Equal(far) {
		t.Errorf("published next check %v (%v), want %v", got["trocco_job:55"], err, far)
	}
	if err := pl.Keep(ctx, map[string]bool{}); err != nil {
		t.Fatal(err)
	}
	if got, _ := st.NextChecks(ctx); len(got) != 0 {
		t.Errorf("after Keep of nothing: %v", got)
	}
	// A resource without history is checked at its share.
	other, _ := pl.Next(ctx, sekisho.Resource{Type: config.TypeTroccoJob, ID: "100"}, 30*time.Second, at(3, 0))
	if gap := other.Sub(at(3, 0)); gap != 500*time.Second {
		t.Errorf("no history: next check in %s, want the share 8m20s", gap)
	}
}

// failingStore is a store that cannot write its published next checks.
type failingStore struct {
	pollplan.Store
	fail bool
}

func (f *failingStore) SetNextChecks(ctx context.Context, at map[string]time.Time, now time.Time) error {
	if f.fail {
		return fmt.Errorf("disk I/O error")
	}
	return f.Store.SetNextChecks(ctx, at, now)
}

// TestPlannerReportsAFailedWrite: a store error costs the published time,
// never the check, and is returned for the caller to log instead of
// vanishing; what it did not publish goes with the next Publish.
func TestPlannerReportsAFailedWrite(t *testing.T) {
	cfg := &config.Config{Location: tokyo}
	st := statustest.Open(t)
	fs := &failingStore{Store: st, fail: true}
	pl := pollplan.NewPlanner(fs, cfg)
	ctx := context.Background()
	now := time.Date(2026, 11, 21, 3, 0, 0, 0, tokyo)
	next, err := pl.Next(ctx, sekisho.Resource{Type: config.TypeTroccoJob, ID: "55"}, 30*time.Second, now)
	if err != nil || next.IsZero() || !next.After(now) {
		t.Fatalf("Next = %v, %v: want a time after now", next, err)
	}
	if err := pl.Publish(ctx, now); err == nil {
		t.Fatal("Publish hid the store's error")
	}
	fs.fail = false
	if err := pl.Publish(ctx, now); err != nil {
		t.Fatal(err)
	}
	if got, _ := st.NextChecks(ctx); !got["trocco_job:55"].Equal(next) {
		t.Errorf("after the store recovered: published %v, want %v", got, next)
	}
}

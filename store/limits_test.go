package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/testkit/statustest"
)

func TestPollScheduleAndEventTests(t *testing.T) {
	ctx := context.Background()
	st := statustest.Open(t)
	now := time.Date(2026, 11, 30, 1, 0, 0, 0, time.UTC)
	for _, step := range []struct {
		key string
		at  time.Time
	}{{"trocco_job:55", now.Add(time.Minute)}, {"glue_job:x", now.Add(time.Hour)}, {"trocco_job:55", now.Add(2 * time.Minute)}} {
		if err := st.SetNextCheck(ctx, step.key, step.at, now); err != nil {
			t.Fatal(err)
		}
	}
	got, err := st.NextChecks(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || !got["trocco_job:55"].Equal(now.Add(2*time.Minute)) || !got["glue_job:x"].Equal(now.Add(time.Hour)) {
		t.Fatalf("next checks %v", got)
	}
	// Many at once, in one write: new keys and a changed one.
	if err := st.SetNextChecks(ctx, map[string]time.Time{"glue_job:x": now.Add(3 * time.Hour), "glue_job:y": now.Add(time.Minute),
		"airflow_dag:af/d": now.Add(2 * time.Hour)}, now); err != nil {
		t.Fatal(err)
	}
	if got, _ := st.NextChecks(ctx); len(got) != 4 || !got["glue_job:x"].Equal(now.Add(3*time.Hour)) ||
		!got["glue_job:y"].Equal(now.Add(time.Minute)) || !got["trocco_job:55"].Equal(now.Add(2*time.Minute)) {
		t.Fatalf("after a batch: %v", got)
	}
	if err := st.ForgetNextChecks(ctx, []string{"glue_job:y", "airflow_dag:af/d", "glue_job:never"}); err != nil {
		t.Fatal(err)
	}
	if got, _ := st.NextChecks(ctx); len(got) != 2 || got["glue_job:x"].IsZero() || got["trocco_job:55"].IsZero() {
		t.Fatalf("after forgetting y and d: %v", got)
	}
	if err := st.DropNextChecks(ctx, map[string]bool{"glue_job:x": true}); err != nil {
		t.Fatal(err)
	}
	if got, _ := st.NextChecks(ctx); len(got) != 1 || got["glue_job:x"].IsZero() {
		t.Fatalf("after drop %v", got)
	}

	if at, err := st.LastEventTest(ctx, "trocco"); err != nil || !at.IsZero() {
		t.Fatalf("no test yet: %v %v", at, err)
	}
	for _, at := range []time.Time{now, now.Add(time.Hour)} {
		if err := st.RecordEventTest(ctx, "trocco", at); err != nil {
			t.Fatal(err)
		}
	}
	if at, err := st.LastEventTest(ctx, "trocco"); err != nil || !at.Equal(now.Add(time.Hour)) {
		t.Fatalf("last test %v %v", at, err)
	}
}

// TestUpstreamFinishes reads the history pollplan schedules from: the
// successful finishes of one upstream of one pipeline, newest first.
func TestUpstreamFinishes(t *testing.T) {
	st := statustest.Open(t)
	var want []time.Time
	for i := 1; i <= 5; i++ {
		d := time.Date(2026, 11, i, 0, 0, 0, 0, time.UTC)
		fin := d.Add(3*time.Hour + time.Duration(i)*time.Minute)
		state := sekisho.JobSucceeded
		if i == 3 {
			state = sekisho.JobFailed // a failed day is no finish to aim at
		} else {
			want = append([]time.Time{fin}, want...)
		}
		statustest.Put(t, st, statustest.Run{Pipeline: "ads", Date: d.Format(sekisho.DateLayout), State: sekisho.StateSucceeded,
			GateAt: d.Add(2 * time.Hour), Observations: []sekisho.Observation{
				{Upstream: "master", Type: config.TypeTroccoJob, State: state, ExternalID: "j", StartedAt: fin.Add(-time.Hour), FinishedAt: fin},
				{Upstream: "other", Type: config.TypeGlueJob, State: sekisho.JobSucceeded, ExternalID: "x", StartedAt: d, FinishedAt: d.Add(time.Hour)}}})
	}
	got, err := st.UpstreamFinishes(context.Background(), "ads", "master", 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || !got[0].Equal(want[0]) || !got[2].Equal(want[2]) {
		t.Fatalf("finishes %v, want the newest 3 of %v", got, want)
	}
}

func TestBudgetGrants(t *testing.T) {
	ctx := context.Background()
	st := statustest.Open(t)
	now := time.Date(2026, 11, 30, 1, 0, 0, 0, time.UTC)
	for _, at := range []time.Time{now.Add(-25 * time.Hour), now.Add(-time.Hour), now.Add(-time.Minute)} {
		if err := st.RecordGrant(ctx, "trocco", at); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.RecordGrant(ctx, "glue", now); err != nil {
		t.Fatal(err)
	}
	got, err := st.Grants(ctx, "trocco", now.Add(-24*time.Hour))
	if err != nil || len(got) != 2 || !got[0].Equal(now.Add(-time.Hour)) || !got[1].Equal(now.Add(-time.Minute)) {
		t.Fatalf("grants %v %v", got, err)
	}
	if err := st.PruneGrants(ctx, now.Add(-24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got, _ := st.Grants(ctx, "trocco", time.Time{}); len(got) != 2 {
		t.Errorf("after prune: %v", got)
	}
}

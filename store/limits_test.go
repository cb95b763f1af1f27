package store_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/sekisho-dev/sekisho/store"
)

func TestPollScheduleAndEventTests(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
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

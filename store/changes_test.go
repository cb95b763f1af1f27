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

// ChangesBetween says what this Store's own writes changed: the runs a
// gate or a transition wrote, the runs whose observations were written,
// and incidents. It cannot say, and a listing reads everything, when
// another store wrote, when a write named nothing (retention), or when the
// changes fell out of its log. A quiet write does not move the version; a
// write to a listed table the status cache does not keep (a silence)
// moves it with nothing to read.
func TestChangesBetween(t *testing.T) {
	storetest.Each(t, func(t *testing.T, loc string) {
		ctx := context.Background()
		s := openAt(t, loc)
		other := openRaw(t, loc)
		version := func() ListingVersion {
			t.Helper()
			v, err := s.ListingVersion(ctx)
			if err != nil {
				t.Fatal(err)
			}
			return v
		}
		v0 := version()
		a := gate(t, s, "a", "2026-11-21")
		if _, err := s.OpenGates(ctx, []Gate{{Run: sekisho.Run{Pipeline: "b", LogicalDate: "2026-11-20", Key: "2026-11-20", GateAt: t0,
			TimeoutAt: t0.Add(6 * time.Hour), Spec: []byte(`{}`)}}}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.RecordObservation(ctx, a.ID, 1, sekisho.Observation{Upstream: "u", Type: "glue_job", State: sekisho.JobRunning, ObservedAt: t0}); err != nil {
			t.Fatal(err)
		}
		next := a
		next.State = sekisho.StateTriggered
		if _, err := s.Apply(ctx, a, next, t0, Step{Reason: "test"}); err != nil {
			t.Fatal(err)
		}
		if err := s.MarkIncidentNotified(ctx, "none", t0); err != nil {
			t.Fatal(err)
		}
		v1 := version()
		ch, ok := s.ChangesBetween(v0, v1)
		slices.SortFunc(ch.Runs, func(x, y [2]string) int { return strings.Compare(x[0], y[0]) })
		if !ok || fmt.Sprint(ch.Runs) != "[[a 2026-11-21] [b 2026-11-20]]" || fmt.Sprint(ch.RunIDs) != fmt.Sprint([]int64{a.ID}) || !ch.Incidents {
			t.Fatalf("changes = %+v %v", ch, ok)
		}
		if ch, ok := s.ChangesBetween(v1, v1); !ok || len(ch.Runs)+len(ch.RunIDs) > 0 || ch.Incidents {
			t.Fatalf("no change = %+v %v", ch, ok)
		}

		if err := s.SetNextCheck(ctx, "glue_job:x", t0, t0); err != nil {
			t.Fatal(err)
		}
		if v := version(); v != v1 {
			t.Fatal("a quiet write moved the version")
		}
		if _, err := s.AddSilence(ctx, Silence{Pipelines: []string{"a"}, Reason: "r", StartsAt: t0, EndsAt: t0.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		v2 := version()
		if ch, ok := s.ChangesBetween(v1, v2); v2 == v1 || !ok || len(ch.Runs)+len(ch.RunIDs) > 0 || ch.Incidents {
			t.Fatalf("after a silence: %v → %v, %+v %v", v1, v2, ch, ok)
		}

		if _, err := s.Prune(ctx, "2026-01-01", 0, t0); err != nil {
			t.Fatal(err)
		}
		v3 := version()
		if _, ok := s.ChangesBetween(v2, v3); ok {
			t.Fatal("retention's changes were named")
		}
		gate(t, s, "c", "2026-11-21")
		v4 := version()
		if ch, ok := s.ChangesBetween(v3, v4); !ok || fmt.Sprint(ch.Runs) != "[[c 2026-11-21]]" {
			t.Fatalf("after retention: %+v %v", ch, ok)
		}

		gate(t, other, "d", "2026-11-21")
		if _, ok := s.ChangesBetween(v4, version()); ok {
			t.Fatal("another store's write was named")
		}

		// A listing further behind than the log keeps reads everything.
		v5 := version()
		for i := range changeLogSize / 100 {
			t := &touch{}
			for j := range 101 {
				t.runs = append(t.runs, [2]string{fmt.Sprint("p", i, j), "2026-11-21"})
			}
			s.changed(t)
		}
		if _, ok := s.ChangesBetween(v5, version()); ok {
			t.Fatal("changes past the log's size were named")
		}
		if l := len(s.changeLog.entries); l > changeLogSize {
			t.Fatalf("the log holds %d changes", l)
		}
		v6 := version()
		gate(t, s, "e", "2026-11-21")
		if ch, ok := s.ChangesBetween(v6, version()); !ok || fmt.Sprint(ch.Runs) != "[[e 2026-11-21]]" {
			t.Fatalf("after the log dropped old changes: %+v %v", ch, ok)
		}
	})
}

package slo

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/store"
	"github.com/sekisho-dev/sekisho/testkit/storetest"
	"github.com/sekisho-dev/sekisho/testkit/teststore"
)

// TestStandingWalksOnlyWhatChanged follows one morning of five pipelines:
// at each step Standing's rows are Compute's, and it walked only the
// pipelines that a write of this store or the passing of a gate or a
// deadline may have changed (the counts are worked out by hand below).
func TestStandingWalksOnlyWhatChanged(t *testing.T) {
	storetest.Each(t, func(t *testing.T, loc string) {
		ctx := context.Background()
		cfg, rows := monthFixture(t)
		// live (UTC, gate 02:00, deadline 06:00) met every day from the
		// 20th; its 29th is written below, through the store.
		live := pipeline(t, "live", "0 2 * * *", "UTC", "06:00", 0.9)
		// hourly ran once on the 28th, so each of the 29th's gates is a
		// missed interval once due, pending until 45 minutes after it.
		hourly := &config.Pipeline{Name: "hourly", Schedule: "0 * * * *", Timezone: "UTC", Location: time.UTC,
			SLO: &config.SLO{Within: 45 * time.Minute, Objective: 0.9}}
		gamma := pipeline(t, "gamma", "0 3 * * *", "UTC", "05:00", 0.95) // never ran
		cfg.Pipelines = append(cfg.Pipelines, live, hourly, gamma)
		for d := 20; d <= 28; d++ {
			date := "2026-03-" + itoa2(d)
			rows = append(rows, runRow{pipeline: "live", date: date, state: "succeeded", gate: date + "T02:00:00.000Z",
				deadline: date + "T06:00:00.000Z", recoverBy: date + "T12:00:00.000Z", success: date + "T03:00:00.000Z", finished: date + "T03:00:00.000Z"})
		}
		rows = append(rows, runRow{pipeline: "hourly", date: "2026-03-28", key: "2026-03-28T00:00", state: "succeeded",
			gate: "2026-03-28T00:00:00.000Z", deadline: "2026-03-28T00:45:00.000Z", recoverBy: "2026-03-28T03:00:00.000Z", success: "2026-03-28T00:30:00.000Z",
			finished: "2026-03-28T00:30:00.000Z"})
		st := openFixtureAt(t, loc, rows)
		other, err := teststore.Open(ctx, loc)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { other.Close() })

		var s Standing
		step := func(what, at string, walked int) {
			t.Helper()
			now := mustTimeNoT(at)
			q := Last30(cfg, now, "")
			got, err := s.Rows(ctx, st, cfg, q)
			if err != nil {
				t.Fatal(err)
			}
			want, err := Compute(ctx, st, cfg, q)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want.Pipelines) {
				g, _ := json.MarshalIndent(got, "", " ")
				w, _ := json.MarshalIndent(want.Pipelines, "", " ")
				t.Fatalf("%s at %s: rows\n%s\nCompute's\n%s", what, at, g, w)
			}
			if s.walked != walked {
				t.Fatalf("%s at %s: walked %d pipelines, want %d", what, at, s.walked, walked)
			}
		}
		step("first call", "2026-03-29T01:00:00Z", 5)
		step("nothing written, no gate or deadline passed", "2026-03-29T01:20:00Z", 0)
		// beta's gate (01:30) comes due: its 29th is missing from now on.
		step("beta's gate passed", "2026-03-29T01:30:00Z", 1)

		gate := mustTimeNoT("2026-03-29T02:00:00Z")
		opened, err := st.OpenGates(ctx, []store.Gate{{Run: sekisho.Run{Pipeline: "live", LogicalDate: "2026-03-29", Key: "2026-03-29",
			GateAt: gate, TimeoutAt: gate.Add(6 * time.Hour), Deadline: live.Deadline("2026-03-29", gate), RecoverBy: live.RecoverBy("2026-03-29", gate), Spec: []byte(`{}`)}}})
		if err != nil {
			t.Fatal(err)
		}
		// live (written, and its gate due) and hourly (01:00's interval
		// missed at 01:45).
		step("live's gate opened here", "2026-03-29T02:00:00Z", 2)

		next := opened[0]
		done := gate.Add(time.Hour)
		next.State, next.FinishedAt, next.FirstSuccessAt = sekisho.StateSucceeded, done, done
		if _, err := st.Apply(ctx, opened[0], next, done, store.Step{Reason: "test"}); err != nil {
			t.Fatal(err)
		}
		step("live succeeded here", "2026-03-29T03:00:00Z", 2) // and hourly's 02:00 interval missed
		// live's deadline (06:00) no longer matters: it succeeded.
		step("only hourly's intervals moved", "2026-03-29T06:00:00Z", 1)
		step("same instant again", "2026-03-29T06:00:00Z", 0)

		// A write by another process: this store cannot say what changed.
		beta, err := other.RunsOn(ctx, []string{"2026-03-28"})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range beta {
			if r.Pipeline == "beta" {
				next := r
				next.State, next.FinishedAt, next.FirstSuccessAt = sekisho.StateSucceeded, done, done
				if _, err := other.Apply(ctx, r, next, done, store.Step{Reason: "test"}); err != nil {
					t.Fatal(err)
				}
			}
		}
		step("another process wrote", "2026-03-29T06:01:00Z", 5)
		// A new config walks everything again.
		cfg = cfg.With(cfg.Pipelines)
		step("config reloaded", "2026-03-29T06:02:00Z", 5)
	})
}

func itoa2(d int) string { return string(rune('0'+d/10)) + string(rune('0'+d%10)) }

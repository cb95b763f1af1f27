package store

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/sekisho-dev/sekisho"
)

// TestActionWrittenTwiceChangesNothing: the same request (Slack's action_ts)
// applied twice moves the run once and queues its reply once; the second
// write is ErrDuplicate and rolls back entirely.
func TestActionWrittenTwiceChangesNothing(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		r := gate(t, s, "p", "2026-11-21")
		failed := r
		failed.State = sekisho.StateFailed
		r, err := s.Apply(ctx, r, failed, t0, Step{Reason: sekisho.ReasonDownstreamFailed})
		if err != nil {
			t.Fatal(err)
		}
		act := Action{Kind: ActionRerun, Pipeline: "p", Key: "2026-11-21", Request: "1763690000.000100", By: "slack:U1",
			Incident: "run:p#2026-11-21", Detail: "attempt 2", At: t0.Add(time.Minute)}
		reply := sekisho.Notice{Kind: sekisho.NoticeOperatorAction, DedupeKey: "operator_action:rerun:p#2026-11-21:1763690000.000100"}
		next := r
		next.State, next.Attempt = sekisho.StateWaiting, 2
		got, err := s.Apply(ctx, r, next, t0.Add(time.Minute), Step{Reason: sekisho.ReasonOperatorRerun, Action: &act,
			Notices: []sekisho.Notice{reply}})
		if err != nil {
			t.Fatal(err)
		}
		// The retry read the run again (it is failed no more in a real
		// retry; here the test forces the same move from the new row).
		again := got
		again.State, again.Attempt = sekisho.StateWaiting, 3
		if _, err := s.Apply(ctx, got, again, t0.Add(2*time.Minute), Step{Reason: sekisho.ReasonOperatorRerun, Action: &act}); !errors.Is(err, ErrDuplicate) {
			t.Fatalf("second apply: %v, want ErrDuplicate", err)
		}
		if now, _ := s.Run(ctx, "p", "2026-11-21"); now.Attempt != 2 || now.Version != got.Version {
			t.Fatalf("run after the duplicate: attempt %d version %d, want 2 and %d", now.Attempt, now.Version, got.Version)
		}
		acts, err := s.Actions(ctx, ActionFilter{Incident: "run:p#2026-11-21"})
		if err != nil || len(acts) != 1 || acts[0].By != "slack:U1" || acts[0].Detail != "attempt 2" || !acts[0].At.Equal(act.At) {
			t.Fatalf("actions = %+v, %v", acts, err)
		}
		ns, _ := s.Notices(ctx, r.ID)
		replies := 0
		for _, n := range ns {
			if n.Kind == sekisho.NoticeOperatorAction {
				replies++
			}
		}
		if replies != 1 {
			t.Fatalf("%d replies queued, want 1", replies)
		}
	})
}

func TestAcknowledge(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		key := "job:glue_job:export#jr_1"
		act := Action{Kind: ActionAck, Pipeline: "p", Key: "2026-11-21", Request: "1.1", By: "slack:U1", Incident: key, At: t0}
		eta := t0.Add(90 * time.Minute)
		if err := s.Acknowledge(ctx, act, Ack{Incident: key, By: "slack:U1", Name: "tanaka", At: t0, ETA: eta}, nil); err != nil {
			t.Fatal(err)
		}
		if err := s.Acknowledge(ctx, act, Ack{Incident: key, By: "slack:U2", At: t0.Add(time.Hour)}, nil); !errors.Is(err, ErrDuplicate) {
			t.Fatalf("same request again: %v, want ErrDuplicate", err)
		}
		acks, err := s.Acks(ctx, key, "other")
		if err != nil || len(acks) != 1 {
			t.Fatalf("acks = %+v, %v", acks, err)
		}
		if a := acks[key]; a.By != "slack:U1" || a.Name != "tanaka" || !a.ETA.Equal(eta) || !a.At.Equal(t0) {
			t.Fatalf("ack = %+v", a)
		}
		// A new acknowledgement (a new ETA) replaces the first.
		act2 := act
		act2.Request, act2.At = "1.2", t0.Add(time.Hour)
		if err := s.Acknowledge(ctx, act2, Ack{Incident: key, By: "api", Name: "suzuki", At: t0.Add(time.Hour)}, nil); err != nil {
			t.Fatal(err)
		}
		acks, _ = s.Acks(ctx)
		if a := acks[key]; a.By != "api" || a.Name != "suzuki" || !a.ETA.IsZero() {
			t.Fatalf("replaced ack = %+v", a)
		}
		if acts, _ := s.Actions(ctx, ActionFilter{Incident: key}); len(acts) != 2 {
			t.Fatalf("history has %d actions, want 2", len(acts))
		}
	})
}

func TestSilenceByAction(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		act := Action{Kind: ActionSilence, Pipeline: "p", Key: "2026-11-21", Request: "1.1", By: "slack:U1", At: t0}
		sil := Silence{Pipelines: []string{"p", "q"}, Reason: "muted from Slack by U1", StartsAt: t0, EndsAt: t0.Add(time.Hour)}
		if _, err := s.AddSilenceBy(ctx, sil, act, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := s.AddSilenceBy(ctx, sil, act, nil); !errors.Is(err, ErrDuplicate) {
			t.Fatalf("same request again: %v, want ErrDuplicate", err)
		}
		if all, _ := s.SilencesEndingAfter(ctx, time.Time{}); len(all) != 1 {
			t.Fatalf("%d silences, want 1", len(all))
		}
	})
}

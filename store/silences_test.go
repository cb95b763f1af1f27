package store

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/sekisho-dev/sekisho"
)

func TestSilences(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		a, err := s.AddSilence(ctx, Silence{Pipelines: []string{"b", "a", "b"}, Reason: "RDS maintenance",
			StartsAt: t0, EndsAt: t0.Add(2 * time.Hour)})
		if err != nil || a.ID == "" || len(a.Pipelines) != 2 || a.Pipelines[0] != "a" {
			t.Fatalf("add = %+v, %v", a, err)
		}
		long, _ := s.AddSilence(ctx, Silence{Pipelines: []string{"a"}, Reason: "migration", StartsAt: t0, EndsAt: t0.Add(5 * time.Hour)})
		for _, bad := range []Silence{
			{Reason: "r", StartsAt: t0, EndsAt: t0.Add(time.Hour)},
			{Pipelines: []string{"a"}, Reason: " ", StartsAt: t0, EndsAt: t0.Add(time.Hour)},
			{Pipelines: []string{"a"}, Reason: "r", StartsAt: t0, EndsAt: t0},
		} {
			if _, err := s.AddSilence(ctx, bad); !errors.Is(err, ErrBadSilence) {
				t.Errorf("add %+v: err %v, want ErrBadSilence", bad, err)
			}
		}
		all, err := s.SilencesEndingAfter(ctx, t0.Add(time.Hour))
		if err != nil || len(all) != 2 {
			t.Fatalf("silences = %+v, %v", all, err)
		}
		if got, ok := all.For("a", t0.Add(time.Hour)); !ok || got.ID != long.ID {
			t.Fatalf("For(a) = %+v %v, want the longest", got, ok)
		}
		if _, ok := all.For("b", t0.Add(3*time.Hour)); ok {
			t.Fatal("b is silenced after its window")
		}
		if _, ok := all.For("c", t0.Add(time.Hour)); ok {
			t.Fatal("c is silenced though no silence names it")
		}
		if _, ok := all.For("b", t0.Add(-time.Second)); ok {
			t.Fatal("b is silenced before its window")
		}
		exp, err := s.ExpireSilence(ctx, long.ID, t0.Add(time.Hour))
		if err != nil || !exp.End().Equal(t0.Add(time.Hour)) {
			t.Fatalf("expire = %+v, %v", exp, err)
		}
		again, _ := s.ExpireSilence(ctx, long.ID, t0.Add(90*time.Minute))
		if !again.End().Equal(t0.Add(time.Hour)) {
			t.Fatalf("a second expiry moved the end to %v", again.End())
		}
		if _, err := s.ExpireSilence(ctx, "sil_nope", t0); !errors.Is(err, sekisho.ErrNotFound) {
			t.Fatalf("expire unknown: %v", err)
		}
		left, _ := s.SilencesEndingAfter(ctx, t0.Add(61*time.Minute))
		if len(left) != 1 || left[0].ID != a.ID {
			t.Fatalf("after expiry: %+v", left)
		}
	})
}

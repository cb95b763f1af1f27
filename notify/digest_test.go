package notify

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/sekisho-dev/sekisho"
)

func TestDigestOncePerDay(t *testing.T) {
	e := newEnv(t, "webhook")
	ctx := context.Background()
	nine, _ := sekisho.ParseTimeOfDay("09:00")
	e.cfg.Slack.DigestAt = nine
	if err := e.s.SetConfig(e.cfg); err != nil {
		t.Fatal(err)
	}
	p := e.cfg.Pipeline("socrates_daily")
	openRun(t, e.st, e.cfg.Pipeline("kant_daily"), "2026-11-20") // kant_daily ran before: today is missed, not before its history
	r := openRun(t, e.st, p, "2026-11-21")
	queue(t, e.st, r, sekisho.StateSucceeded, t0.Add(time.Hour)) // no notice, just the state

	e.clock.Advance(6*time.Hour + 59*time.Minute) // 08:59 JST
	next := e.pass(t)
	if len(e.sim.Messages()) != 0 {
		t.Fatalf("digest before digest_at: %q", texts(e.sim.Messages()))
	}
	if want := time.Date(2026, 11, 21, 9, 0, 0, 0, tokyo); next.After(want) {
		t.Errorf("next pass %v, after digest time %v", next, want)
	}
	e.clock.Advance(time.Minute) // 09:00
	e.pass(t)
	e.pass(t)
	// A restart at 10:00 does not queue a second digest for the day.
	e.clock.Advance(time.Hour)
	s2 := newSender(t, e.cfg, e.st, e.clock, nil, WithHTTPClient(e.srv.Client()))
	if _, err := s2.pass(ctx); err != nil {
		t.Fatal(err)
	}
	msgs := e.sim.Messages()
	if len(msgs) != 1 {
		t.Fatalf("%d digests on the first day: %q", len(msgs), texts(msgs))
	}
	text := msgs[0].Text
	for _, want := range []string{"Today's data status (2026-11-21)", "✅ *socrates_daily* — BigQuery marts behind the learning dashboards: Succeeded",
		"🚨 *kant_daily*: Missed", "Total: 🚨 1  ✅ 1"} {
		if !strings.Contains(text, want) {
			t.Errorf("digest lacks %q:\n%s", want, text)
		}
	}
	// The next morning brings the next digest.
	e.clock.Advance(23 * time.Hour)
	if _, err := s2.pass(ctx); err != nil {
		t.Fatal(err)
	}
	msgs = e.sim.Messages()
	if len(msgs) != 2 || !strings.Contains(msgs[1].Text, "(2026-11-22)") {
		t.Fatalf("second day: %q", texts(msgs))
	}
	all, _ := e.st.AllNotices(ctx)
	var keys []string
	for _, n := range all {
		if n.Kind == sekisho.NoticeDigest {
			keys = append(keys, n.DedupeKey)
		}
	}
	if strings.Join(keys, ",") != "digest:2026-11-21,digest:2026-11-22" {
		t.Errorf("digest keys = %v", keys)
	}
}

func TestBuildDigestStatuses(t *testing.T) {
	st := openStore(t)
	cfg := testConfig("en")
	p := cfg.Pipeline("socrates_daily")
	tests := []struct {
		name  string
		state sekisho.State
		at    time.Time
		want  string
	}{
		{"running before the deadline waits", sekisho.StateRunning, time.Date(2026, 11, 21, 5, 0, 0, 0, tokyo), "⏳"},
		{"running past the deadline is late", sekisho.StateRunning, time.Date(2026, 11, 21, 7, 0, 0, 0, tokyo), "🐢"},
		{"blocked past the deadline is late", sekisho.StateBlocked, time.Date(2026, 11, 21, 7, 0, 0, 0, tokyo), "🐢"},
		{"failed", sekisho.StateFailed, time.Date(2026, 11, 21, 7, 0, 0, 0, tokyo), "🚨"},
		{"timed out", sekisho.StateTimedOut, time.Date(2026, 11, 21, 9, 0, 0, 0, tokyo), "🚨"},
		{"succeeded late is still done", sekisho.StateSucceeded, time.Date(2026, 11, 21, 9, 0, 0, 0, tokyo), "✅"},
		{"skipped", sekisho.StateSkipped, time.Date(2026, 11, 21, 9, 0, 0, 0, tokyo), "⏭"},
	}
	openRun(t, st, cfg.Pipeline("kant_daily"), "2026-11-20") // kant_daily ran before: today is missed
	r := openRun(t, st, p, "2026-11-21")
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r = queue(t, st, r, tc.state, tc.at)
			entries, err := BuildDigest(context.Background(), cfg, st, tc.at)
			if err != nil {
				t.Fatal(err)
			}
			if len(entries) != 2 || entries[0].Mark().Emoji != tc.want || entries[1].Mark().Emoji != "🚨" {
				t.Errorf("entries = %+v", entries)
			}
		})
	}
}

// A sub-daily pipeline's digest line says how many of the day's due
// intervals met (SPEC §19).
func TestDigestSummarizesIntervals(t *testing.T) {
	text := DigestText("en", "2026-06-01", []DigestEntry{
		{Pipeline: "hourly", LogicalDate: "2026-06-01", State: sekisho.StateWaiting, Met: 22, Due: 24},
		{Pipeline: "daily", LogicalDate: "2026-06-01", State: sekisho.StateSucceeded},
	}, "")
	if !strings.Contains(text, "*hourly*: ") || !strings.Contains(text, " (22/24)") || strings.Contains(text, "daily*: succeeded (") {
		t.Fatalf("digest:\n%s", text)
	}
}

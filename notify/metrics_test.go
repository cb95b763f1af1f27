package notify

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/sim/slacksim"
)

type countingMetrics struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *countingMetrics) Notice(kind, outcome string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n[kind+" "+outcome]++
}

func TestDeliveryOutcomesAreCounted(t *testing.T) {
	e := newEnv(t, "webhook")
	m := &countingMetrics{n: map[string]int{}}
	WithMetrics(m)(e.s)
	p := e.cfg.Pipeline("socrates_daily")
	p.Notify.On = []sekisho.NoticeKind{sekisho.NoticeUpstreamFailed}
	r := openRun(t, e.st, p, "2026-11-21")
	r = queue(t, e.st, r, sekisho.StateBlocked, t0, sekisho.Notice{Kind: sekisho.NoticeUpstreamFailed})
	// Slack is down for the first try.
	e.sim.AddFault(slacksim.Fault{From: t0.Add(-1), To: t0.Add(1), Status: 500})
	e.pass(t)
	e.clock.Advance(e.s.backoff.max)
	e.pass(t)
	queue(t, e.st, r, sekisho.StateSucceeded, e.clock.Now(), sekisho.Notice{Kind: sekisho.NoticeRecovery})
	e.pass(t)
	want := map[string]int{"upstream_failed retry": 1, "upstream_failed sent": 1, "recovery filtered": 1}
	for k, v := range want {
		if m.n[k] != v {
			t.Errorf("%s = %d, want %d (all: %v)", k, m.n[k], v, m.n)
		}
	}
}

// TestRefusedForGoodDoesNotHoldBackTheRun: a webhook refuses the first
// notice of a run with invalid_blocks on every try; after its tries it is
// marked refused with Slack's word, counted as refused, and the run's next
// notice goes out.
func TestRefusedForGoodDoesNotHoldBackTheRun(t *testing.T) {
	e := newEnv(t, "webhook")
	m := &countingMetrics{n: map[string]int{}}
	WithMetrics(m)(e.s)
	p := e.cfg.Pipeline("socrates_daily")
	r := openRun(t, e.st, p, "2026-11-21")
	r = queue(t, e.st, r, sekisho.StateBlocked, t0, sekisho.Notice{Kind: sekisho.NoticeUpstreamFailed})
	// Refused while the first notice is tried; the second comes after.
	e.sim.AddFault(slacksim.Fault{From: t0.Add(-1), To: t0.Add(25 * time.Minute), Status: 400, Word: "invalid_blocks"})
	e.pass(t)
	queue(t, e.st, r, sekisho.StateFailed, e.clock.Now(), sekisho.Notice{Kind: sekisho.NoticeRunFailed})
	drain(t, e.s, e.clock, t0.Add(2*time.Hour))

	ns, err := e.st.Notices(context.Background(), r.ID)
	if err != nil || len(ns) != 2 {
		t.Fatalf("notices %v %v", ns, err)
	}
	if !strings.HasPrefix(ns[0].Text, RefusedPrefix+"invalid_blocks) ") || ns[0].SentAt.IsZero() {
		t.Errorf("first notice not marked refused: %+v", ns[0])
	}
	if ns[1].SentAt.IsZero() || strings.HasPrefix(ns[1].Text, RefusedPrefix) {
		t.Errorf("second notice held back or refused: %+v", ns[1])
	}
	if got := len(e.sim.Messages()); got != 1 {
		t.Errorf("%d messages posted, want the second notice only", got)
	}
	if m.n["upstream_failed refused"] != 1 || m.n["run_failed sent"] != 1 {
		t.Errorf("counts %v", m.n)
	}
	if logs := e.logs.String(); !strings.Contains(logs, "slack_error=invalid_blocks") {
		t.Errorf("Slack's word is not in the log:\n%s", logs)
	}
}

// TestBotModeChannelNotFoundIsRefusedForGood: a pipeline's notify.channel
// that does not exist is Slack's channel_not_found on every try; after
// them the notice is marked refused with the word, and the log has it.
func TestBotModeChannelNotFoundIsRefusedForGood(t *testing.T) {
	e := newEnv(t, "bot")
	slacksim.WithChannels(e.cfg.Slack.Channel)(e.sim)
	m := &countingMetrics{n: map[string]int{}}
	WithMetrics(m)(e.s)
	p := e.cfg.Pipeline("socrates_daily")
	p.Notify.Channel = "#no-such-channel"
	r := openRun(t, e.st, p, "2026-11-21")
	queue(t, e.st, r, sekisho.StateFailed, t0, sekisho.Notice{Kind: sekisho.NoticeRunFailed})
	drain(t, e.s, e.clock, t0.Add(2*time.Hour))
	ns, err := e.st.Notices(context.Background(), r.ID)
	if err != nil || len(ns) != 1 {
		t.Fatalf("notices %v %v", ns, err)
	}
	if !strings.HasPrefix(ns[0].Text, RefusedPrefix+"channel_not_found) ") {
		t.Errorf("notice not marked refused: %q", ns[0].Text)
	}
	if m.n["run_failed refused"] != 1 || m.n["run_failed retry"] != maxRefusedTries-1 {
		t.Errorf("counts %v", m.n)
	}
	if !strings.Contains(e.logs.String(), "slack_error=channel_not_found") {
		t.Error("Slack's word is not in the log")
	}
}

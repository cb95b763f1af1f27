package notify

import (
	"sync"
	"testing"

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

package engine

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sort"
	"testing"
	"time"

	"github.com/sekisho-dev/sekisho"
)

// TestPollQueueTakesExactlyTheDue drives the poller's queue through polls
// answering at random times, resources made due by hand, and plans that
// drop resources (some while their poll is under way), and checks each
// pass against a plain scan of every resource: the due ones are taken, no
// others, and soonestDue is the earliest of those not under way.
func TestPollQueueTakesExactlyTheDue(t *testing.T) {
	p := newPoller(nil)
	rng := rand.New(rand.NewPCG(7, 11))
	t0 := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	want := map[string]demand{}
	for i := range 200 {
		r := sekisho.Resource{Type: "glue_job", ID: fmt.Sprintf("job%03d", i)}
		want[r.Key()] = demand{r: r, since: t0, interval: time.Minute}
	}
	ctx := context.Background()
	inflight := map[string]*resource{}
	take := func(now time.Time) {
		t.Helper()
		// The plain answer: every tracked resource not under way whose time has come.
		expect := map[string]bool{}
		p.mu.Lock()
		for key, rs := range p.res {
			if !rs.inflight && !now.Before(rs.nextDue) {
				expect[key] = true
			}
		}
		p.mu.Unlock()
		got := map[string]bool{}
		for _, rs := range p.plan(ctx, want, nil, false, now) {
			got[rs.r.Key()] = true
			inflight[rs.r.Key()] = rs
		}
		if len(got) != len(expect) {
			t.Fatalf("%s: took %d resources, %d are due", now.Format(time.TimeOnly), len(got), len(expect))
		}
		for key := range expect {
			if !got[key] {
				t.Fatalf("%s: %s is due and was not taken", now.Format(time.TimeOnly), key)
			}
		}
		// soonestDue is the earliest resource not under way.
		var earliest time.Time
		p.mu.Lock()
		for _, rs := range p.res {
			if !rs.inflight && (earliest.IsZero() || rs.nextDue.Before(earliest)) {
				earliest = rs.nextDue
			}
		}
		p.mu.Unlock()
		if at, ok := p.soonestDue(); ok != !earliest.IsZero() || !at.Equal(earliest) {
			t.Fatalf("%s: soonestDue %s %v, want %s", now.Format(time.TimeOnly), at, ok, earliest)
		}
	}
	now := t0
	// A plan that changes the demand also has the planner forget dropped
	// next checks (store I/O); planLocked is the queue's part of it. Odd
	// plans are whole, even ones name the keys that changed.
	plans := 0
	replan := func(touched map[string]bool) {
		plans++
		due, _ := p.planLocked(want, touched, plans%2 == 1, now)
		for _, rs := range due {
			inflight[rs.r.Key()] = rs
		}
	}
	replan(nil)
	if len(inflight) != 200 {
		t.Fatalf("first plan took %d resources, want all 200", len(inflight))
	}
	for step := range 600 {
		now = now.Add(time.Duration(rng.IntN(700)) * time.Millisecond)
		// Some polls answer, due 30–90 s on.
		keys := make([]string, 0, len(inflight))
		for key := range inflight {
			keys = append(keys, key)
		}
		sort.Strings(keys)
		for _, key := range keys {
			if rng.IntN(3) == 0 {
				p.mu.Lock()
				p.requeue(inflight[key], now.Add(30*time.Second+time.Duration(rng.IntN(60_000))*time.Millisecond))
				p.mu.Unlock()
				delete(inflight, key)
			}
		}
		switch {
		case step%97 == 0:
			// An event makes one resource due at once.
			for key := range want {
				p.due(key, now)
				break
			}
		case step%151 == 0:
			// A plan drops a tenth of the resources, some of them under way.
			n := 0
			touched := map[string]bool{}
			for key := range want {
				if n++; n%10 == 0 {
					delete(want, key)
					touched[key] = true
				}
			}
			replan(touched)
			p.mu.Lock()
			for key, rs := range p.res {
				if _, ok := want[key]; !ok || (rs.qi >= 0) == rs.inflight {
					t.Fatalf("after a plan, %s: kept %v, queued %v, under way %v", key, ok, rs.qi >= 0, rs.inflight)
				}
			}
			if len(p.queue)+countInflight(p) != len(p.res) {
				t.Fatalf("queue %d + under way %d != tracked %d", len(p.queue), countInflight(p), len(p.res))
			}
			p.mu.Unlock()
			continue
		}
		take(now)
	}
	// A dropped resource whose poll answers late is not queued again.
	p.mu.Lock()
	for key, rs := range inflight {
		if _, ok := want[key]; !ok {
			p.requeue(rs, now)
			if rs.qi >= 0 {
				t.Fatalf("dropped %s queued again", key)
			}
		}
	}
	p.mu.Unlock()
}

func countInflight(p *poller) int {
	n := 0
	for _, rs := range p.res {
		if rs.inflight {
			n++
		}
	}
	return n
}

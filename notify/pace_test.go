package notify

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/slack-go/slack"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/sim/slacksim"
)

// TestStormIsPacedPerChannel: 50 runs fail at once and each opens its
// thread in the same channel. The Slack double takes one post per second
// per channel with a short burst, as Slack does; the sender spaces its
// posts to that channel PostInterval apart, so all 50 arrive with no 429 at
// all (and no pause of every other channel that a 429 costs). The same storm
// posted without the pacer is refused all but the burst.
func TestStormIsPacedPerChannel(t *testing.T) {
	const storm = 50
	e := newEnv(t, "bot")
	p := e.cfg.Pipeline("kant_daily") // no channel of its own: slack.channel
	start := e.clock.Now()
	for i := range storm {
		date := time.Date(2026, 10, 1, 0, 0, 0, 0, tokyo).AddDate(0, 0, i).Format("2006-01-02")
		r := openRun(t, e.st, p, date)
		queue(t, e.st, r, sekisho.StateFailed, start, sekisho.Notice{Kind: sekisho.NoticeRunFailed,
			Facts: sekisho.NoticeFacts{ExternalID: fmt.Sprintf("run_%d", i), Message: "task failed"}})
	}
	drain(t, e.s, e.clock, start.Add(time.Hour))
	msgs := e.sim.Messages()
	if len(msgs) != storm {
		t.Fatalf("%d messages reached Slack, want %d", len(msgs), storm)
	}
	if n := e.sim.Throttled(); n != 0 {
		t.Errorf("%d posts were answered 429; want none", n)
	}
	for i := 1; i < len(msgs); i++ {
		if gap := msgs[i].At.Sub(msgs[i-1].At); msgs[i].Channel != msgs[0].Channel || gap < PostInterval {
			t.Fatalf("posts %d and %d are %v apart in %s/%s; want PostInterval in one channel", i-1, i, gap, msgs[i-1].Channel, msgs[i].Channel)
		}
	}
	took := msgs[storm-1].At.Sub(msgs[0].At)
	t.Logf("%d notices to one channel: 0 × 429, the last %v after the first (fake clock)", storm, took)
	if took != (storm-1)*PostInterval {
		t.Errorf("the storm took %v; want %v, one post per PostInterval", took, (storm-1)*PostInterval)
	}

	// The control: the same storm straight through slack-go, unpaced.
	sim := slacksim.New(e.clock, slacksim.WithToken(testToken))
	srv := httptest.NewServer(sim)
	defer srv.Close()
	api := slack.New(testToken, slack.OptionAPIURL(srv.URL+"/api/"))
	refused := 0
	for i := range storm {
		if _, _, err := api.PostMessageContext(context.Background(), "#data-platform", slack.MsgOptionText(fmt.Sprint(i), false)); err != nil {
			refused++
		}
	}
	if want := storm - slacksim.DefaultPostBurst; refused != want || sim.Throttled() != want {
		t.Errorf("unpaced: %d refused (%d throttled); want %d", refused, sim.Throttled(), want)
	}
}

// TestPacerSharesTheSlotOfNameAndID: a thread reply goes to the channel
// id Slack answered for the root's "#name", and waits for the same slot.
func TestPacerSharesTheSlotOfNameAndID(t *testing.T) {
	e := newEnv(t, "bot")
	p := e.cfg.Pipeline("socrates_daily")
	r := openRun(t, e.st, p, "2026-11-21")
	r = queue(t, e.st, r, sekisho.StateBlocked, t0, sekisho.Notice{Kind: sekisho.NoticeUpstreamFailed,
		Facts: sekisho.NoticeFacts{Upstream: "hegel_export", ExternalID: "jr_1", Message: "OOM"}})
	queue(t, e.st, r, sekisho.StateFailed, t0, sekisho.Notice{Kind: sekisho.NoticeRunFailed})
	drain(t, e.s, e.clock, t0.Add(time.Hour))
	msgs := e.sim.Messages()
	if len(msgs) != 2 || msgs[1].ThreadTS != msgs[0].TS || msgs[1].At.Sub(msgs[0].At) < time.Second || e.sim.Throttled() != 0 {
		t.Fatalf("root and reply: %+v, throttled %d", msgs, e.sim.Throttled())
	}
}

// delayFirst is a transport whose first request takes lag on the way, on
// the fake clock: the jitter between the pacer and Slack.
type delayFirst struct {
	base  http.RoundTripper
	clock *clockwork.FakeClock
	lag   time.Duration
	once  sync.Once
}

func (d *delayFirst) RoundTrip(req *http.Request) (*http.Response, error) {
	d.once.Do(func() { d.clock.Advance(d.lag) })
	return d.base.RoundTrip(req)
}

// TestPacerLeavesAMarginForJitter: Slack counts posts when they arrive, the
// pacer when they leave. The first of two posts to a channel is held up 20
// ms on the way; the second leaves the moment its slot opens. Against a
// simulator without any burst allowance (the strictest reading of "1 per
// second") it still arrives more than a second after the first, because
// the pacer leaves postMargin on top of Slack's second.
func TestPacerLeavesAMarginForJitter(t *testing.T) {
	const lag = 20 * time.Millisecond
	fc := clockwork.NewFakeClockAt(t0)
	sim := slacksim.New(fc, slacksim.WithToken(testToken), slacksim.WithPostBurst(1))
	srv := httptest.NewServer(sim)
	defer srv.Close()
	p := newPacer(nil, fc, PostInterval)
	hc := p.client(&http.Client{Transport: &delayFirst{base: http.DefaultTransport, clock: fc, lag: lag}})
	api := slack.New(testToken, slack.OptionAPIURL(srv.URL+"/api/"), slack.OptionHTTPClient(hc))
	post := func() error {
		_, _, err := api.PostMessageContext(context.Background(), "C0123456789", slack.MsgOptionText("m", false))
		return err
	}
	if err := post(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- post() }()
	fc.BlockUntil(1)
	fc.Advance(PostInterval - lag) // exactly to the second post's slot
	if err := <-done; err != nil || sim.Throttled() != 0 {
		t.Fatalf("the second post: %v (throttled %d); want it taken", err, sim.Throttled())
	}
	msgs := sim.Messages()
	if gap := msgs[1].At.Sub(msgs[0].At); gap <= slacksim.DefaultPostInterval {
		t.Errorf("posts arrived %v apart; want more than Slack's %v", gap, slacksim.DefaultPostInterval)
	}
}

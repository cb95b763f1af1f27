package notify

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/engine"
	"github.com/sekisho-dev/sekisho/sim/slacksim"
	"github.com/sekisho-dev/sekisho/slackact"
	"github.com/sekisho-dev/sekisho/store"
)

// followEnv is the cascade's night in bot mode with buttons on, mart_a
// escalating to the on-call group after 15 minutes, and the follow-up
// runner on the same clock.
type followEnv struct {
	*env
	night  *night
	runner *slackact.FollowUpRunner
}

func newFollowEnv(t *testing.T) *followEnv {
	e := newCascadeEnv(t, "bot", "en")
	e.cfg.Slack.Interactivity = config.InteractivityHTTP
	e.cfg.Slack.Operators = []string{"U0OPS"}
	a := e.cfg.Pipeline("mart_a")
	a.Notify.EscalateAfter, a.Notify.EscalateTo = 15*time.Minute, "<!subteam^S0ONCALL>"
	a.Runbook = "https://wiki.example/runbooks/mart_a"
	f := &followEnv{env: e, night: newNight(t, e.cfg, e.st, e.clock)}
	f.runner = &slackact.FollowUpRunner{Store: e.st, Config: func() *config.Config { return e.cfg }, Clock: e.clock}
	// 01:40: the export fails and mart_a's incident opens.
	e.clock.Advance(40 * time.Minute)
	f.night.upstreamFailed("mart_a", "hegel_export", "jr_1")
	e.pass(t)
	return f
}

// follow runs the follow-up runner's pass and the sender's.
func (f *followEnv) follow(t *testing.T) time.Time {
	t.Helper()
	next, err := f.runner.Pass(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	drain(t, f.s, f.clock, f.clock.Now().Add(time.Minute))
	return next
}

func (f *followEnv) root(t *testing.T) slacksim.Message {
	t.Helper()
	for _, m := range about(f.sim.Messages(), cascadeKey) {
		if m.ThreadTS == "" {
			return m
		}
	}
	t.Fatal("the incident has no root message")
	return slacksim.Message{}
}

func (f *followEnv) replies(t *testing.T, prefix string) []slacksim.Message {
	root := f.root(t)
	var out []slacksim.Message
	for _, m := range f.sim.Messages() {
		if m.ThreadTS == root.TS && strings.HasPrefix(m.Text, prefix) {
			out = append(out, m)
		}
	}
	return out
}

func (f *followEnv) ack(t *testing.T, user, request string, eta time.Time) {
	t.Helper()
	tgt := slackact.Target{Pipeline: "mart_a", Key: cascadeDay}
	by := engine.By{Who: engine.BySlack(user), Request: request, Incident: cascadeKey}
	by.Notices = []sekisho.Notice{slackact.Reply(store.ActionAck, tgt, by, user, strings.ToLower(user), eta, time.Time{}, f.clock.Now())}
	if err := slackact.Acknowledge(context.Background(), f.st, tgt, by, strings.ToLower(user), eta, f.clock.Now()); err != nil {
		t.Fatal(err)
	}
}

func TestIncidentRootCarriesTheButtons(t *testing.T) {
	f := newFollowEnv(t)
	root := f.root(t)
	for _, want := range []string{`"action_id":"sekisho_ack"`, `"action_id":"sekisho_skip"`, `"action_id":"sekisho_silence"`,
		`"value":"mart_a/2026-11-21"`, `"type":"timepicker"`} {
		if !strings.Contains(string(root.Blocks), want) {
			t.Errorf("the root's blocks lack %s:\n%s", want, root.Blocks)
		}
	}
	// mart_a is blocked, not finished: there is nothing to rerun yet.
	if strings.Contains(string(root.Blocks), `"action_id":"sekisho_rerun"`) {
		t.Errorf("a rerun button on a run that has not finished")
	}
	if !strings.Contains(root.Text, "<https://wiki.example/runbooks/mart_a>") {
		t.Errorf("the root does not link mart_a's runbook:\n%s", root.Text)
	}
}

// An incident nobody acknowledges escalates once, escalate_after after it
// opened, as a reply in its thread mentioning escalate_to.
func TestUnacknowledgedIncidentEscalatesOnce(t *testing.T) {
	f := newFollowEnv(t)
	next := f.follow(t)
	if want := time.Date(2026, 11, 21, 1, 55, 0, 0, tokyo); !next.Equal(want) {
		t.Fatalf("next follow-up at %v, want %v", next, want)
	}
	f.clock.Advance(next.Sub(f.clock.Now()) - time.Second)
	f.follow(t)
	if got := f.replies(t, "📣"); len(got) != 0 {
		t.Fatalf("escalated a second early: %q", got[0].Text)
	}
	f.clock.Advance(time.Second)
	f.follow(t)
	f.clock.Advance(20 * time.Minute)
	f.follow(t)
	got := f.replies(t, "📣")
	if len(got) != 1 {
		t.Fatalf("%d escalations, want 1", len(got))
	}
	if !strings.Contains(got[0].Text, "<!subteam^S0ONCALL> Nobody has taken this incident 15m0s after it opened: the failure of upstream job hegel_export") {
		t.Fatalf("escalation: %q", got[0].Text)
	}
	if !got[0].At.Equal(time.Date(2026, 11, 21, 1, 55, 0, 0, tokyo)) {
		t.Fatalf("escalated at %v, want 01:55", got[0].At)
	}
}

// An acknowledgement stops the escalation, even one already queued.
func TestAcknowledgementStopsEscalation(t *testing.T) {
	f := newFollowEnv(t)
	f.clock.Advance(15 * time.Minute)
	if _, err := f.runner.Pass(context.Background()); err != nil { // queued, not sent yet
		t.Fatal(err)
	}
	f.ack(t, "U0OPS", "1.1", time.Time{})
	drain(t, f.s, f.clock, f.clock.Now().Add(time.Minute))
	f.clock.Advance(time.Hour)
	f.follow(t)
	if got := f.replies(t, "📣"); len(got) != 0 {
		t.Fatalf("escalated after an acknowledgement: %q", got[0].Text)
	}
	if got := f.replies(t, "🧑‍🔧 <@U0OPS> is on it (no ETA yet)"); len(got) != 1 {
		t.Fatalf("%d acknowledgement replies, want 1", len(got))
	}
}

// An ETA past a member's deadline makes the root say which targets it
// misses; when it passes unresolved, one reply says so.
func TestPassedETAIsReported(t *testing.T) {
	f := newFollowEnv(t)
	eta := time.Date(2026, 11, 21, 7, 0, 0, 0, tokyo)
	f.ack(t, "U0OPS", "1.1", eta)
	f.follow(t)
	root := f.root(t)
	for _, want := range []string{"*Who is on it*: 🧑‍🔧 <@U0OPS> is on it — expected back by 07:00",
		"⚠️ At this ETA these targets will be missed: mart_a's SLO deadline 06:00", "<@U0OPS> ack mart_a"} {
		if !strings.Contains(root.Text, want) {
			t.Errorf("the root lacks %q:\n%s", want, root.Text)
		}
	}
	if got := f.replies(t, "🧑‍🔧 <@U0OPS> is on it — expected back by 07:00"); len(got) != 1 || !strings.Contains(got[0].Text, "mart_a's SLO deadline 06:00") {
		t.Fatalf("acknowledgement replies %d, want 1 naming the missed deadline", len(got))
	}
	f.clock.Advance(eta.Sub(f.clock.Now()) - time.Minute)
	f.follow(t)
	if got := f.replies(t, "⏰"); len(got) != 0 {
		t.Fatal("reported the ETA before it passed")
	}
	f.clock.Advance(time.Minute)
	f.follow(t)
	f.clock.Advance(time.Hour)
	f.follow(t)
	got := f.replies(t, "⏰")
	if len(got) != 1 || !strings.Contains(got[0].Text, "The ETA 07:00 has passed and the incident is not over (<@U0OPS> is on it)") {
		t.Fatalf("passed-ETA replies: %d %v", len(got), got)
	}
	// A new ETA is reported again when it passes, once.
	f.ack(t, "U0OPS", "1.2", f.clock.Now().Add(30*time.Minute))
	f.clock.Advance(31 * time.Minute)
	f.follow(t)
	f.follow(t)
	if got := f.replies(t, "⏰"); len(got) != 2 {
		t.Fatalf("%d passed-ETA replies after a second ETA passed, want 2", len(got))
	}
}

// A maintenance window silences the pipelines' notices while it lasts;
// after it, notices go out again.
func TestMaintenanceWindowSilencesThenLetsThrough(t *testing.T) {
	e := newEnvAt(t, "webhook", time.Date(2026, 11, 22, 1, 0, 0, 0, tokyo)) // a Sunday
	sched, err := config.ParseMaintenanceSchedule("0 2 * * 0", tokyo)
	if err != nil {
		t.Fatal(err)
	}
	e.cfg.Maintenance = []config.Maintenance{{Schedule: "0 2 * * 0", Sched: sched, Duration: 2 * time.Hour, Reason: "weekly RDS maintenance"}}
	p := e.cfg.Pipelines[0]
	at := func(hh int) time.Time { return time.Date(2026, 11, 22, hh, 0, 0, 0, tokyo) }
	r := openRun(t, e.st, p, "2026-11-22")
	e.clock.Advance(at(2).Sub(e.clock.Now()) + 30*time.Minute) // 02:30, inside the window
	r = queue(t, e.st, r, sekisho.StateFailed, e.clock.Now(), sekisho.Notice{Kind: sekisho.NoticeRunFailed,
		Facts: sekisho.NoticeFacts{State: sekisho.StateFailed, Message: "boom"}})
	drain(t, e.s, e.clock, e.clock.Now().Add(time.Minute))
	if n := len(e.sim.Messages()); n != 0 {
		t.Fatalf("%d messages inside the maintenance window, want 0", n)
	}
	ns, _ := e.st.Notices(context.Background(), r.ID)
	if len(ns) != 1 || !strings.HasPrefix(ns[0].Text, SilencedPrefix+"weekly RDS maintenance, until 2026-11-21T19:00:00Z)") {
		t.Fatalf("notice inside the window: %+v", ns)
	}
	e.clock.Advance(at(4).Sub(e.clock.Now()) + time.Minute) // 04:01, after it
	queue(t, e.st, r, sekisho.StateWaiting, e.clock.Now(), sekisho.Notice{Kind: sekisho.NoticeTimedOut,
		Facts: sekisho.NoticeFacts{State: sekisho.StateTimedOut}})
	drain(t, e.s, e.clock, e.clock.Now().Add(time.Minute))
	if n := len(e.sim.Messages()); n != 1 {
		t.Fatalf("%d messages after the window, want 1", n)
	}
}

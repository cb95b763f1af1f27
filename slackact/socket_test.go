package slackact_test

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/slack-go/slack/socketmode"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/sim/slacksim"
	"github.com/sekisho-dev/sekisho/slackact"
)

const appToken = "xapp-1-A0SEKISHO-test"

// wait returns when ch yields what ok accepts; the deadline only turns a
// hang into a failure, nothing waits on it when things work.
func wait[T any](t *testing.T, ch <-chan T, what string, ok func(T) bool) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case v := <-ch:
			if ok(v) {
				return
			}
		case <-deadline:
			t.Fatalf("no %s within 10s", what)
		}
	}
}

func waitClosed(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatalf("no %s within 10s", what)
	}
}

// Socket Mode against the Slack double: the runner opens a connection with
// the app token, carries out an interactive envelope and acknowledges it;
// a redelivered envelope changes nothing; after a dropped socket it
// reconnects and goes on.
func TestSocketMode(t *testing.T) {
	w := newWorld(t, t.TempDir()+"/s.db")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sim := slacksim.New(w.clock, slacksim.WithAppToken(appToken), slacksim.WithUserGroup("S0ONCALL", "U0ONCALL"))
	srv := httptest.NewServer(sim)
	defer srv.Close()
	w.cfg.Slack.Interactivity = config.InteractivitySocketMode
	w.cfg.Slack.AppToken = appToken
	w.cfg.Slack.APIURL = srv.URL + "/api/"
	svc := &slackact.Service{Store: w.st, Config: func() *config.Config { return w.cfg }, Clock: w.clock,
		Operator: storeOperator{w.st, w.cfg, w.clock}, Groups: slackact.ConfigGroups{Config: func() *config.Config { return w.cfg }}}
	events := make(chan socketmode.EventType, 100)
	r := &slackact.SocketRunner{Config: func() *config.Config { return w.cfg }, Service: svc,
		OnEvent: func(e socketmode.EventType) { events <- e }}
	stopped := make(chan struct{})
	go func() { r.Run(ctx); close(stopped) }()
	wait(t, events, "connection", func(e socketmode.EventType) bool { return e == socketmode.EventTypeConnected })

	var click map[string]any
	json.Unmarshal([]byte(w.payloadJSON("U0OPS", slackact.ActionRerun, "sekisho_actions", "mart/"+day, "", "1762149600.000100")), &click)
	id, err := sim.Interact(click)
	if err != nil {
		t.Fatal(err)
	}
	waitClosed(t, sim.AckDone(id), "acknowledgement of the rerun")
	if run, _ := w.st.Run(ctx, "mart", day); run.Attempt != 2 {
		t.Fatalf("after the envelope: attempt %d, want 2", run.Attempt)
	}
	// Slack delivers it again (its retry raced our acknowledgement).
	sim.Redeliver(id, true)
	wait(t, events, "the redelivered envelope", func(e socketmode.EventType) bool { return e == socketmode.EventTypeInteractive })
	if run, _ := w.st.Run(ctx, "mart", day); run.Attempt != 2 {
		t.Fatalf("a redelivered envelope made attempt %d", run.Attempt)
	}

	sim.DropSockets()
	wait(t, events, "a new connection after the drop", func(e socketmode.EventType) bool { return e == socketmode.EventTypeConnected })
	if opened, _ := sim.SocketStats(); opened != 2 {
		t.Fatalf("apps.connections.open called %d times, want 2", opened)
	}
	// The on-call group's member skips report over the new socket: the
	// group is read through usergroups.users.list.
	json.Unmarshal([]byte(w.payloadJSON("U0ONCALL", slackact.ActionSkip, "sekisho_actions", "report/"+day, "", "1762149700.000100")), &click)
	id, _ = sim.Interact(click)
	waitClosed(t, sim.AckDone(id), "acknowledgement of the skip")
	if run, _ := w.st.Run(ctx, "report", day); run.State != sekisho.StateSkipped {
		t.Fatalf("report after the skip over the new socket: %s", run.State)
	}
	cancel()
	waitClosed(t, stopped, "the runner to stop")
}

package notify

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/sim/slacksim"
	"github.com/sekisho-dev/sekisho/store"
)

// TestLongQueryThreadInBotMode: the alert goes to the watch's channel, its
// message becomes the alert's thread, and the end replies in that thread.
func TestLongQueryThreadInBotMode(t *testing.T) {
	e := newEnv(t, "bot")
	e.cfg.Watches = []*config.Watch{{Name: "long_queries", Warehouse: "analytics", Notify: config.WatchNotify{Channel: "#dwh"}}}
	ctx := context.Background()
	start := t0.Add(-40 * time.Minute)
	facts := sekisho.NoticeFacts{Watch: "long_queries", Warehouse: "analytics", User: "analyst", PID: "42", ExternalID: "4711",
		StartedAt: start, Message: "SELECT * FROM logs", TimeZone: "Asia/Tokyo", MaxDuration: "30m0s"}
	a := store.QueryAlert{Watch: "long_queries", Warehouse: "analytics", Key: "4711", User: "analyst", PID: "42", StartedAt: start, AlertedAt: t0}
	if _, err := e.st.AddQueryAlert(ctx, a, sekisho.Notice{Kind: sekisho.NoticeLongQuery, DedupeKey: "long_query:long_queries:4711",
		CreatedAt: t0, Facts: facts}); err != nil {
		t.Fatal(err)
	}
	e.pass(t)
	open, _ := e.st.OpenQueryAlerts(ctx, "")
	if len(open) != 1 || open[0].ThreadTS == "" || open[0].ThreadChannel != slacksim.ChannelID("#dwh") {
		t.Fatalf("alert thread not saved: %+v", open)
	}
	e.clock.Advance(time.Hour)
	ended := facts
	ended.Duration = "1h40m0s"
	if _, err := e.st.EndQueryAlert(ctx, open[0].ID, e.clock.Now(), sekisho.Notice{Kind: sekisho.NoticeLongQueryEnded,
		DedupeKey: "long_query_ended:long_queries:4711", CreatedAt: e.clock.Now(), Facts: ended}); err != nil {
		t.Fatal(err)
	}
	e.pass(t)
	msgs := e.sim.Messages()
	if len(msgs) != 2 {
		t.Fatalf("%d messages, want the alert and one reply: %+v", len(msgs), msgs)
	}
	root, reply := msgs[0], msgs[1]
	if root.Channel != slacksim.ChannelID("#dwh") || root.ThreadTS != "" || !strings.Contains(root.Text, "analyst") ||
		!strings.Contains(root.Text, "```\nSELECT * FROM logs\n```") {
		t.Errorf("alert message: %+v", root)
	}
	if reply.ThreadTS != root.TS || reply.Channel != root.Channel || !strings.Contains(reply.Text, "100 minutes") {
		t.Errorf("end reply: %+v (root ts %s)", reply, root.TS)
	}
}

func TestQueryGolden(t *testing.T) {
	start := time.Date(2026, 11, 21, 10, 2, 0, 0, tokyo)
	facts := sekisho.NoticeFacts{Watch: "long_queries", Warehouse: "analytics", User: "analyst", PID: "1073815778",
		ExternalID: "4711", StartedAt: start, Message: "SELECT user_id, COUNT(*)\nFROM logs.access_log\nGROUP BY user_id",
		Mention: "<!subteam^S0123>", TimeZone: "Asia/Tokyo", MaxDuration: "30m0s"}
	alert := sekisho.Notice{Kind: sekisho.NoticeLongQuery, DedupeKey: "long_query:long_queries:4711",
		CreatedAt: start.Add(31 * time.Minute), Facts: facts}
	ended := facts
	ended.Message, ended.Duration = "", "1h12m0s"
	end := sekisho.Notice{Kind: sekisho.NoticeLongQueryEnded, DedupeKey: "long_query_ended:long_queries:4711",
		CreatedAt: start.Add(72 * time.Minute), Facts: ended}
	for _, lang := range []string{"ja", "en"} {
		for _, n := range []sekisho.Notice{alert, end} {
			name := string(n.Kind) + "." + lang + ".txt"
			t.Run(name, func(t *testing.T) { checkGolden(t, name, Render(lang, n, nil, "").Text()+"\n") })
		}
	}
}

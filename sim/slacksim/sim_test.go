package slacksim

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/slack-go/slack"
)

var t0 = time.Date(2026, 11, 21, 2, 0, 0, 0, time.UTC)

func setup(t *testing.T, opts ...Option) (*Sim, *clockwork.FakeClock, *slack.Client, *httptest.Server) {
	t.Helper()
	clock := clockwork.NewFakeClockAt(t0)
	sim := New(clock, append([]Option{WithToken("xoxb-sim")}, opts...)...)
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	api := slack.New("xoxb-sim", slack.OptionAPIURL(srv.URL+"/api/"))
	return sim, clock, api, srv
}

func TestThreadUpdateHistoryReplies(t *testing.T) {
	var out strings.Builder
	_, clock, api, _ := setup(t, WithOutput(&out))
	ctx := context.Background()
	ch, ts, err := api.PostMessageContext(ctx, "#data-platform", slack.MsgOptionText("🚨 root", false),
		slack.MsgOptionBlocks(slack.NewSectionBlock(slack.NewTextBlockObject("mrkdwn", "🚨 root", false, false), nil, nil,
			slack.SectionBlockOptionBlockID("sekisho:k1"))),
		slack.MsgOptionMetadata(slack.SlackMetadata{EventType: "sekisho_notice", EventPayload: map[string]any{"dedupe_key": "k1"}}))
	if err != nil || ch != ChannelID("#data-platform") || ts == "" {
		t.Fatalf("post: %q %q %v", ch, ts, err)
	}
	clock.Advance(time.Minute)
	if _, _, err := api.PostMessageContext(ctx, ch, slack.MsgOptionText("✅ reply", false), slack.MsgOptionTS(ts)); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := api.UpdateMessageContext(ctx, ch, ts, slack.MsgOptionText("Current status: ✅", false)); err != nil {
		t.Fatal(err)
	}
	msgs, _, _, err := api.GetConversationRepliesContext(ctx, &slack.GetConversationRepliesParameters{ChannelID: ch, Timestamp: ts, IncludeAllMetadata: true})
	if err != nil || len(msgs) != 2 || msgs[0].Text != "Current status: ✅" || msgs[1].ThreadTimestamp != ts {
		t.Fatalf("replies: %+v %v", msgs, err)
	}
	if msgs[0].Blocks.BlockSet[0].ID() != "sekisho:k1" || msgs[0].Metadata.EventPayload["dedupe_key"] != "k1" {
		t.Errorf("root lost blocks or metadata: %+v", msgs[0])
	}
	h, err := api.GetConversationHistoryContext(ctx, &slack.GetConversationHistoryParameters{ChannelID: ch, Limit: 1})
	if err != nil || len(h.Messages) != 1 || h.Messages[0].Timestamp != ts || h.HasMore {
		t.Fatalf("history (replies are not in it): %+v %v", h, err)
	}
	// Like Slack, history wants the channel id.
	_, err = api.GetConversationHistoryContext(ctx, &slack.GetConversationHistoryParameters{ChannelID: "#data-platform"})
	var se slack.SlackErrorResponse
	if !errors.As(err, &se) || se.Err != "channel_not_found" {
		t.Errorf("history by name: %v", err)
	}
	if got := out.String(); !strings.Contains(got, "#data-platform: 🚨 root") || !strings.Contains(got, "↳ thread: ✅ reply") ||
		!strings.Contains(got, "(root updated)") {
		t.Errorf("terminal lines:\n%s", got)
	}
}

func TestPaginationAndAuth(t *testing.T) {
	_, clock, api, srv := setup(t)
	ctx := context.Background()
	for range 5 {
		if _, _, err := api.PostMessageContext(ctx, "C0TESTCHAN", slack.MsgOptionText("m", false)); err != nil {
			t.Fatal(err)
		}
		clock.Advance(time.Second) // one post per second per channel
	}
	var seen int
	cursor := ""
	for {
		h, err := api.GetConversationHistoryContext(ctx, &slack.GetConversationHistoryParameters{ChannelID: "C0TESTCHAN", Limit: 2, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		seen += len(h.Messages)
		if !h.HasMore {
			break
		}
		cursor = h.ResponseMetaData.NextCursor
	}
	if seen != 5 {
		t.Errorf("paged %d messages", seen)
	}
	bad := slack.New("xoxb-wrong", slack.OptionAPIURL(srv.URL+"/api/"))
	_, _, err := bad.PostMessageContext(ctx, "#x", slack.MsgOptionText("m", false))
	var se slack.SlackErrorResponse
	if !errors.As(err, &se) || se.Err != "invalid_auth" {
		t.Errorf("bad token: %v", err)
	}
	resp, err := api.AuthTestContext(ctx)
	if err != nil || resp.TeamID != TeamID || resp.BotID != BotID {
		t.Errorf("auth.test: %+v %v", resp, err)
	}
}

func TestWebhook(t *testing.T) {
	tests := []struct {
		name    string
		path    string
		msg     *slack.WebhookMessage
		wantErr int
	}{
		{"text", WebhookPath, &slack.WebhookMessage{Text: "hello"}, 0},
		{"blocks only", WebhookPath, &slack.WebhookMessage{Blocks: &slack.Blocks{BlockSet: []slack.Block{
			slack.NewSectionBlock(slack.NewTextBlockObject("mrkdwn", "b", false, false), nil, nil)}}}, 0},
		{"empty", WebhookPath, &slack.WebhookMessage{}, http.StatusBadRequest},
		{"unknown hook", "/services/T0/B0/nope", &slack.WebhookMessage{Text: "x"}, http.StatusNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sim, _, _, srv := setup(t)
			err := slack.PostWebhookContext(context.Background(), srv.URL+tc.path, tc.msg)
			var sc slack.StatusCodeError
			switch {
			case tc.wantErr == 0 && err != nil:
				t.Fatal(err)
			case tc.wantErr != 0 && (!errors.As(err, &sc) || sc.Code != tc.wantErr):
				t.Fatalf("err = %v, want status %d", err, tc.wantErr)
			}
			want := 0
			if tc.wantErr == 0 {
				want = 1
			}
			if got := sim.Messages(); len(got) != want || (want == 1 && (!got[0].Webhook || got[0].Channel != WebhookChannel)) {
				t.Errorf("messages = %+v", got)
			}
		})
	}
}

func TestFaultsFollowTheClock(t *testing.T) {
	sim, clock, api, srv := setup(t)
	ctx := context.Background()
	sim.AddFault(Fault{From: t0, To: t0.Add(time.Hour), Status: http.StatusInternalServerError})
	sim.AddFault(Fault{From: t0.Add(time.Hour), To: t0.Add(2 * time.Hour), Status: http.StatusTooManyRequests, RetryAfter: 30 * time.Second})
	sim.AddFault(Fault{From: t0.Add(2 * time.Hour), To: t0.Add(3 * time.Hour), Status: http.StatusBadGateway, Accept: true})

	_, _, err := api.PostMessageContext(ctx, "#x", slack.MsgOptionText("m", false))
	var sc slack.StatusCodeError
	if !errors.As(err, &sc) || sc.Code != 500 {
		t.Errorf("outage: %v", err)
	}
	clock.Advance(time.Hour)
	_, _, err = api.PostMessageContext(ctx, "#x", slack.MsgOptionText("m", false))
	var rl *slack.RateLimitedError
	if !errors.As(err, &rl) || rl.RetryAfter != 30*time.Second {
		t.Errorf("rate limit: %v", err)
	}
	if err := slack.PostWebhookContext(ctx, srv.URL+WebhookPath, &slack.WebhookMessage{Text: "x"}); !errors.As(err, &rl) {
		t.Errorf("webhook rate limit: %v", err)
	}
	if len(sim.Messages()) != 0 {
		t.Fatal("a refused request stored a message")
	}
	clock.Advance(time.Hour)
	if _, _, err := api.PostMessageContext(ctx, "#x", slack.MsgOptionText("lost answer", false)); err == nil {
		t.Error("accepted fault answered ok")
	}
	if got := sim.Messages(); len(got) != 1 || got[0].Text != "lost answer" {
		t.Errorf("accepted fault did not store: %+v", got)
	}
	clock.Advance(time.Hour)
	if _, _, err := api.PostMessageContext(ctx, "#x", slack.MsgOptionText("m", false)); err != nil {
		t.Errorf("after the windows: %v", err)
	}
	req, faulted := sim.Stats()
	if req != 5 || faulted != 4 {
		t.Errorf("stats %d/%d", req, faulted)
	}
}

// TestOnePostPerSecondPerChannel: like Slack ("1 per second. Short bursts
// >1 allowed"), the simulator takes one message per second per channel on
// average with a short burst: DefaultPostBurst posts back to back, then a
// post with the bucket empty is answered 429 ratelimited with Retry-After,
// which slack-go reports as a RateLimitedError; another channel is not held
// back, and a second later the channel takes one post again. The incoming
// webhook is limited the same way.
func TestOnePostPerSecondPerChannel(t *testing.T) {
	sim, clock, api, srv := setup(t)
	ctx := context.Background()
	post := func(ch string) error {
		_, _, err := api.PostMessageContext(ctx, ch, slack.MsgOptionText("m", false))
		return err
	}
	for i := range DefaultPostBurst {
		if err := post("#ops"); err != nil {
			t.Fatalf("post %d of the burst: %v", i+1, err)
		}
	}
	var rl *slack.RateLimitedError
	if err := post("#ops"); !errors.As(err, &rl) || rl.RetryAfter != time.Second {
		t.Errorf("a post past the burst: %v", err)
	}
	// By id, the same channel: still limited.
	if err := post(ChannelID("#ops")); !errors.As(err, &rl) {
		t.Errorf("a post past the burst by channel id: %v", err)
	}
	if err := post("#dwh"); err != nil {
		t.Errorf("another channel: %v", err)
	}
	clock.Advance(time.Second)
	if err := post("#ops"); err != nil {
		t.Errorf("a second later: %v", err)
	}
	if err := post("#ops"); !errors.As(err, &rl) {
		t.Errorf("a second post in that second: %v", err)
	}
	for i := range DefaultPostBurst + 1 {
		err := slack.PostWebhookContext(ctx, srv.URL+WebhookPath, &slack.WebhookMessage{Text: fmt.Sprint(i)})
		if i < DefaultPostBurst && err != nil {
			t.Fatalf("webhook post %d of the burst: %v", i+1, err)
		}
		if i == DefaultPostBurst && !errors.As(err, &rl) {
			t.Errorf("a webhook post past the burst: %v", err)
		}
	}
	if got := sim.Throttled(); got != 4 {
		t.Errorf("throttled %d, want 4", got)
	}
	if got := len(sim.Messages()); got != 2*DefaultPostBurst+2 {
		t.Errorf("%d messages stored, want %d", got, 2*DefaultPostBurst+2)
	}
}

// TestPostJitterWithinTheBurst: a client pacing one post a second whose
// posts arrive a little early (0.99 s apart: the network's jitter) is not
// refused, as Slack's short bursts allow; a client that keeps posting
// faster than one a second runs the bucket dry and is.
func TestPostJitterWithinTheBurst(t *testing.T) {
	sim, clock, api, _ := setup(t)
	ctx := context.Background()
	post := func() error {
		_, _, err := api.PostMessageContext(ctx, "#ops", slack.MsgOptionText("m", false))
		return err
	}
	for i := range 30 {
		if err := post(); err != nil {
			t.Fatalf("post %d, paced at one a second with jitter: %v", i+1, err)
		}
		if i%2 == 0 {
			clock.Advance(990 * time.Millisecond)
		} else {
			clock.Advance(1010 * time.Millisecond)
		}
	}
	refused := 0
	for range 30 {
		if post() != nil {
			refused++
		}
		clock.Advance(500 * time.Millisecond)
	}
	if refused < 30/2-DefaultPostBurst || sim.Throttled() != refused {
		t.Errorf("two posts a second: %d refused (%d throttled); want about half", refused, sim.Throttled())
	}
}

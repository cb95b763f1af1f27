package notify

import (
	"context"
	"testing"

	"github.com/jonboulle/clockwork"
	"github.com/slack-go/slack/slacktest"

	"github.com/sekisho-dev/sekisho"
)

// TestBotModeAgainstSlacktest checks the first notice of a run against
// slack-go's own test server: the message goes out as a form post and the
// answer's channel and ts become the run's thread.
func TestBotModeAgainstSlacktest(t *testing.T) {
	sts := slacktest.NewTestServer()
	sts.Start()
	t.Cleanup(sts.Stop)
	cfg := testConfig("ja")
	cfg.Slack.Token = testToken
	cfg.Slack.Channel = "#data-platform"
	cfg.Slack.APIURL = sts.GetAPIURL()
	st := openStore(t)
	clock := clockwork.NewFakeClockAt(t0)
	s := newSender(t, cfg, st, clock, nil)
	r := openRun(t, st, cfg.Pipeline("socrates_daily"), "2026-11-21")
	queue(t, st, r, sekisho.StateFailed, t0, sekisho.Notice{Kind: sekisho.NoticeRunFailed})
	if _, err := s.pass(context.Background()); err != nil {
		t.Fatal(err)
	}
	ch, ts, ok, err := st.Thread(context.Background(), r.ID)
	if err != nil || !ok || ch != "#socrates" || ts == "" {
		t.Fatalf("thread = %q %q %v %v", ch, ts, ok, err)
	}
	if n, _ := st.OutboxBacklog(context.Background()); n != 0 {
		t.Fatalf("backlog %d", n)
	}
}

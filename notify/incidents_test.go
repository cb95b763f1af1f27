package notify

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/slack-go/slack/slacktest"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/incident"
	"github.com/sekisho-dev/sekisho/sim/slacksim"
	"github.com/sekisho-dev/sekisho/store"
)

const cascadeDay = "2026-11-21"

// cascadeConfig is the night: mart_a and mart_b wait on the Glue
// export hegel-rds-export; report_c waits on mart_a and report_d on mart_b
// through type: pipeline upstreams; ads waits on a TROCCO job.
func cascadeConfig(cfg *config.Config) {
	pipe := func(name, impact string, ups ...config.Upstream) *config.Pipeline {
		deadline, _ := sekisho.ParseTimeOfDay("06:00")
		return &config.Pipeline{Name: name, Schedule: "0 1 * * *", Timezone: "Asia/Tokyo", Location: tokyo,
			Upstreams: ups, SLO: &config.SLO{Deadline: deadline, Objective: 0.95}, Impacts: []string{impact}}
	}
	export := config.Upstream{Name: "hegel_export", Type: config.TypeGlueJob, JobName: "hegel-rds-export"}
	cfg.Pipelines = []*config.Pipeline{
		pipe("mart_a", "Tableau: 学習状況ダッシュボード", export),
		pipe("mart_b", "Tableau: 売上ダッシュボード", export),
		pipe("report_c", "経営会議レポート", config.Upstream{Name: "a", Type: config.TypePipeline, Pipeline: "mart_a"}),
		pipe("report_d", "Service dashboard (reverse ETL)", config.Upstream{Name: "b", Type: config.TypePipeline, Pipeline: "mart_b"}),
		pipe("ads", "広告レポート", config.Upstream{Name: "ads_sync", Type: config.TypeTroccoJob, JobDefinitionID: 55}),
	}
	cfg.Slack.GroupWait = 30 * time.Second
}

// night plays the cascade on the store as the engine writes it: each
// pipeline's own notice queued as the engine queues it, with what
// incident.Decide makes of the step written in the same transaction
// (AddNoticesWithIncidents for a deadline, which no state change carries);
// the sender passes after every step.
type night struct {
	t     *testing.T
	cfg   *config.Config
	st    *store.Store
	clock *clockwork.FakeClock
	runs  map[string]sekisho.Run
}

func newNight(t *testing.T, cfg *config.Config, st *store.Store, clock *clockwork.FakeClock) *night {
	n := &night{t: t, cfg: cfg, st: st, clock: clock, runs: map[string]sekisho.Run{}}
	for _, p := range cfg.Pipelines {
		n.runs[p.Name] = openRun(t, st, p, cascadeDay)
	}
	return n
}

// decide is what the engine's executor asks before it writes a step.
func (n *night) decide(r sekisho.Run, ns []sekisho.Notice) incident.Decision {
	n.t.Helper()
	open, err := n.st.OpenIncidents(context.Background())
	if err != nil {
		n.t.Fatal(err)
	}
	locate := func(p, u string) (string, string) { return n.cfg.Pipeline(p).UpstreamTarget(u) }
	return incident.Decide(n.cfg.Graph(), locate, open, incident.Step{Run: r, Notices: ns}, n.clock.Now())
}

// upstreamFailed moves a pipeline to blocked on a failed job run.
func (n *night) upstreamFailed(p, upstream, runID string) {
	n.t.Helper()
	n.move(p, sekisho.StateBlocked, []sekisho.Notice{n.notice(p, sekisho.NoticeUpstreamFailed,
		sekisho.NoticeFacts{Upstream: upstream, ExternalID: runID, Message: "exit 1", State: sekisho.StateBlocked})})
}

func (n *night) notice(p string, kind sekisho.NoticeKind, f sekisho.NoticeFacts) sekisho.Notice {
	r := n.runs[p]
	return sekisho.Notice{RunID: r.ID, Pipeline: p, LogicalDate: cascadeDay, Attempt: r.Attempt, Kind: kind,
		DedupeKey: sekisho.NoticeKey(kind, sekisho.NoticeSubject{Run: r.ID, Attempt: r.Attempt, Upstream: f.Upstream, ExternalID: f.ExternalID}),
		Facts:     f, CreatedAt: n.clock.Now()}
}

// late records a pipeline's missed deadline: no state change carries it.
func (n *night) late(p string) {
	n.t.Helper()
	r := n.runs[p]
	d := n.decide(r, []sekisho.Notice{n.notice(p, sekisho.NoticeDelay, sekisho.NoticeFacts{State: r.State})})
	if d.Notices[0].Facts.SpokenFor == "" {
		n.t.Fatalf("%s's delay was not folded into an incident", p)
	}
	if _, err := n.st.AddNoticesWithIncidents(context.Background(), d.Notices, d.Changes, n.clock.Now()); err != nil {
		n.t.Fatal(err)
	}
}

func (n *night) move(p string, to sekisho.State, ns []sekisho.Notice) {
	n.t.Helper()
	r := n.runs[p]
	next := r
	next.State = to
	if to == sekisho.StateSucceeded {
		next.FirstSuccessAt = n.clock.Now()
		// A run that succeeds after any alert gets a recovery.
		if had, _ := n.st.Notices(context.Background(), r.ID); len(had) > 0 {
			ns = append(ns, n.notice(p, sekisho.NoticeRecovery, sekisho.NoticeFacts{State: sekisho.StateSucceeded}))
		}
	}
	d := n.decide(next, ns)
	got, err := n.st.Apply(context.Background(), r, next, n.clock.Now(), store.Step{Reason: "test", Notices: d.Notices, Incidents: d.Changes})
	if err != nil {
		n.t.Fatal(err)
	}
	n.runs[p] = got
}

const cascadeKey = "job:glue_job:hegel-rds-export#jr_1"

// play runs the night; pass is called after each step.
func (n *night) play(pass func(step string)) {
	at := func(hhmm string) {
		t, _ := time.ParseInLocation("2006-01-02 15:04:05", cascadeDay+" "+hhmm, tokyo)
		if d := t.Sub(n.clock.Now()); d > 0 {
			n.clock.Advance(d)
		}
	}
	at("01:40:00")
	n.upstreamFailed("mart_a", "hegel_export", "jr_1")
	pass("mart_a blocked")
	at("01:40:05")
	n.upstreamFailed("mart_b", "hegel_export", "jr_1")
	pass("mart_b blocked")
	at("01:40:30")
	pass("group_wait over")
	at("02:10:00")
	n.upstreamFailed("ads", "ads_sync", "9001")
	pass("unrelated failure")
	at("02:10:30")
	pass("unrelated group_wait over")
	at("06:00:00")
	n.late("report_c")
	n.late("report_d")
	n.late("mart_a")
	pass("deadlines")
	at("06:00:30")
	pass("after the deadlines")
	at("07:00:00")
	n.move("mart_a", sekisho.StateSucceeded, nil)
	pass("mart_a recovers")
	at("07:00:10")
	n.move("mart_b", sekisho.StateSucceeded, nil)
	n.move("report_c", sekisho.StateSucceeded, nil)
	pass("mart_b, report_c recover")
	at("07:30:00")
	n.move("report_d", sekisho.StateSucceeded, nil)
	pass("report_d recovers")
	at("07:31:00")
	pass("the end")
}

// about returns the messages whose blocks carry an incident's key.
func about(msgs []slacksim.Message, key string) []slacksim.Message {
	var out []slacksim.Message
	for _, m := range msgs {
		if strings.Contains(string(m.Blocks), key) {
			out = append(out, m)
		}
	}
	return out
}

// ownNotices are the pipelines' own notices (not the incidents').
func ownNotices(t *testing.T, st *store.Store) []sekisho.Notice {
	t.Helper()
	all, err := st.AllNotices(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var out []sekisho.Notice
	for _, n := range all {
		if !n.Kind.IsIncident() {
			out = append(out, n)
		}
	}
	return out
}

func newCascadeEnv(t *testing.T, mode, lang string) *env {
	e := newEnvAt(t, mode, time.Date(2026, 11, 21, 1, 0, 0, 0, tokyo))
	e.cfg.Slack.Language = lang
	cascadeConfig(e.cfg)
	return e
}

// playRestarting plays the night, passing the sender after every step, and
// restarts it (a new sender on the same store) before the step named.
func playRestarting(t *testing.T, e *env, restartAt string) {
	n := newNight(t, e.cfg, e.st, e.clock)
	n.play(func(step string) {
		if step == restartAt {
			e.s = newSender(t, e.cfg, e.st, e.clock, newLogger(e.logs), WithHTTPClient(e.srv.Client()))
		}
		e.pass(t)
	})
}

func TestIncidentCascadeWebhook(t *testing.T) {
	e := newCascadeEnv(t, "webhook", "ja")
	playRestarting(t, e, "after the deadlines")
	msgs := about(e.sim.Messages(), cascadeKey)
	if len(msgs) != 3 {
		for _, m := range msgs {
			t.Log(m.Text)
		}
		t.Fatalf("the cascade gave %d webhook messages, want 3 (opened, joined, resolved)", len(msgs))
	}
	// The pipelines' own notices were all queued, as before, and the
	// incidents spoke for every one: Slack got 4 messages in all (the
	// cascade's 3 and the unrelated failure's opening) for 10 notices that
	// used to be 10 messages.
	own := ownNotices(t, e.st)
	if len(own) != 10 || len(e.sim.Messages()) != 4 {
		t.Fatalf("%d own notices, %d slack messages; want 10 and 4", len(own), len(e.sim.Messages()))
	}
	for _, n := range own {
		if !strings.HasPrefix(n.Text, GroupedPrefix+"incident job:") {
			t.Errorf("%s of %s: %q, want grouped into its incident", n.Kind, n.Pipeline, n.Text)
		}
	}
	opened, joined, resolved := msgs[0].Text, msgs[1].Text, msgs[2].Text
	for _, want := range []string{"【障害】上流ジョブ hegel_export の失敗の影響で、2 つのデータフローのデータ更新が止まっています（2026-11-21）",
		"上流ジョブ hegel_export（glue_job:hegel-rds-export、実行ID jr_1）が 2026-11-21 01:40 JST に失敗しました: exit 1",
		"mart_a", "mart_b", "Tableau: 学習状況ダッシュボード", "Tableau: 売上ダッシュボード", "*対応状況*: sekisho は上流の再実行を待っています"} {
		if !strings.Contains(opened, want) {
			t.Errorf("the opening message lacks %q:\n%s", want, opened)
		}
	}
	if !msgs[0].At.Equal(time.Date(2026, 11, 21, 1, 40, 30, 0, tokyo)) {
		t.Errorf("the opening message went out at %v, want after group_wait at 01:40:30", msgs[0].At)
	}
	if !strings.Contains(joined, "report_c、report_d も止まっています") || strings.Contains(strings.SplitN(joined, "\n", 2)[0], "mart_a") {
		t.Errorf("the joined message does not name the two pipelines that joined:\n%s", joined)
	}
	if !strings.Contains(resolved, "【復旧】") || !strings.Contains(resolved, "4 つのデータフローのデータ更新はすべて完了しました") {
		t.Errorf("resolved:\n%s", resolved)
	}
	if other := about(e.sim.Messages(), "job:trocco_job:55#9001"); len(other) != 1 {
		t.Errorf("the unrelated failure gave %d messages, want its own opening", len(other))
	}
	if n, _ := e.st.OutboxBacklog(context.Background()); n != 0 {
		t.Errorf("%d notices left in the outbox", n)
	}
	incs, _ := e.st.Incidents(context.Background(), store.IncidentFilter{Date: cascadeDay})
	if len(incs) != 2 {
		t.Fatalf("%d incidents, want the cascade's and the unrelated one", len(incs))
	}
}

func TestIncidentCascadeBot(t *testing.T) {
	e := newCascadeEnv(t, "bot", "en")
	playRestarting(t, e, "deadlines")
	msgs := about(e.sim.Messages(), cascadeKey)
	var roots []slacksim.Message
	for _, m := range msgs {
		if m.ThreadTS == "" {
			roots = append(roots, m)
		}
	}
	if len(roots) != 1 {
		t.Fatalf("%d thread roots for the cascade, want 1", len(roots))
	}
	root := roots[0]
	var replies []string
	for _, m := range e.sim.Messages() {
		if m.ThreadTS == root.TS {
			replies = append(replies, strings.SplitN(m.Text, "\n", 2)[0])
		}
	}
	// mart_b joined, report_c and report_d joined, mart_a, mart_b and
	// report_c recovered, then the resolution (with report_d's recovery).
	if len(replies) != 7 || !strings.HasPrefix(replies[6], "✅ Resolved") {
		t.Fatalf("replies = %q", replies)
	}
	if root.Updates < 7 || !strings.HasPrefix(root.Text, "✅ Resolved: the incident caused by the failure of upstream job hegel_export is over; every data flow it held back is up to date") {
		t.Fatalf("root (%d updates):\n%s", root.Updates, root.Text)
	}
	for _, p := range []string{"mart_a", "mart_b", "report_c", "report_d"} {
		if !strings.Contains(root.Text, p+" (✅ Succeeded)") {
			t.Errorf("the root does not show %s done:\n%s", p, root.Text)
		}
	}
	ch, ts, ok, _ := e.st.IncidentThread(context.Background(), cascadeKey)
	if !ok || ts != root.TS || ch != root.Channel {
		t.Errorf("stored thread %s %s %v, want the root %s %s", ch, ts, ok, root.Channel, root.TS)
	}
	if other := about(e.sim.Messages(), "job:trocco_job:55#9001"); len(other) != 1 || other[0].ThreadTS != "" {
		t.Errorf("the unrelated failure: %d messages, want its own thread", len(other))
	}
}

func TestIncidentBotRetryFindsItsMessage(t *testing.T) {
	// Slack stores the opening message but the answer is lost: the retry
	// finds it in the channel and posts nothing twice.
	e := newCascadeEnv(t, "bot", "en")
	e.cfg.Slack.Channel = slacksim.WebhookChannel
	n := newNight(t, e.cfg, e.st, e.clock)
	e.sim.AddFault(slacksim.Fault{From: e.clock.Now(), To: e.clock.Now().Add(time.Hour), Status: 500, Accept: true})
	e.clock.Advance(time.Minute)
	n.upstreamFailed("mart_a", "hegel_export", "jr_1")
	e.pass(t)
	e.sim.ClearFaults()
	drain(t, e.s, e.clock, e.clock.Now().Add(time.Hour))
	if msgs := about(e.sim.Messages(), cascadeKey); len(msgs) != 1 {
		t.Fatalf("%d messages after a lost answer, want 1", len(msgs))
	}
	if _, _, ok, _ := e.st.IncidentThread(context.Background(), cascadeKey); !ok {
		t.Fatal("the thread was not saved from the found message")
	}
}

func TestIncidentSilencedMemberIsLeftOut(t *testing.T) {
	e := newCascadeEnv(t, "webhook", "en")
	if _, err := e.st.AddSilence(context.Background(), store.Silence{Pipelines: []string{"report_d", "ads"},
		Reason: "migration", StartsAt: t0.Add(-2 * time.Hour), EndsAt: t0.Add(12 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	m := &countingMetrics{n: map[string]int{}}
	WithMetrics(m)(e.s)
	n := newNight(t, e.cfg, e.st, e.clock)
	n.play(func(string) { e.pass(t) })
	msgs := about(e.sim.Messages(), cascadeKey)
	if len(msgs) != 3 {
		t.Fatalf("%d messages", len(msgs))
	}
	for _, msg := range msgs {
		if strings.Contains(msg.Text, "report_d") || strings.Contains(msg.Text, "Service dashboard") {
			t.Errorf("a silenced pipeline is in an incident message:\n%s", msg.Text)
		}
	}
	if !strings.Contains(msgs[1].Text, "report_c stopped too") {
		t.Errorf("joined:\n%s", msgs[1].Text)
	}
	if other := about(e.sim.Messages(), "job:trocco_job:55#9001"); len(other) != 0 {
		t.Errorf("the incident of a silenced pipeline alone was posted")
	}
	if m.n["incident_opened silenced"] != 1 {
		t.Errorf("metrics = %v", m.n)
	}
}

// TestIncidentAgainstSlacktest posts an incident's opening message and a
// reply through slack-go's own test server.
func TestIncidentAgainstSlacktest(t *testing.T) {
	sts := slacktest.NewTestServer()
	sts.Start()
	t.Cleanup(sts.Stop)
	cfg := testConfig("ja")
	cascadeConfig(cfg)
	cfg.Slack.Token = testToken
	cfg.Slack.Channel = "#data-platform"
	cfg.Slack.APIURL = sts.GetAPIURL()
	st := openStore(t)
	clock := clockwork.NewFakeClockAt(t0)
	s := newSender(t, cfg, st, clock, nil)
	n := newNight(t, cfg, st, clock)
	n.upstreamFailed("mart_a", "hegel_export", "jr_1")
	n.upstreamFailed("mart_b", "hegel_export", "jr_1")
	if _, err := s.pass(context.Background()); err != nil {
		t.Fatal(err)
	}
	ch, ts, ok, err := st.IncidentThread(context.Background(), cascadeKey)
	if err != nil || !ok || ch == "" || ts == "" {
		t.Fatalf("thread = %q %q %v %v", ch, ts, ok, err)
	}
	if n, _ := st.OutboxBacklog(context.Background()); n != 0 {
		t.Fatalf("backlog %d", n)
	}
}

func TestOwnDownstreamNoticesStayTheirOwn(t *testing.T) {
	e := newCascadeEnv(t, "webhook", "en")
	e.cfg.Slack.GroupWait = 0
	ownFailureAfterIncident(t, e)
	var heads []string
	for _, m := range e.sim.Messages() {
		heads = append(heads, strings.SplitN(m.Text, "\n", 2)[0])
	}
	want := []string{"🚨 Incident: 1 data flow stopped by the failure of upstream job hegel_export",
		"🚨 The update of 学習状況ダッシュボード failed", "✅ Data for 学習状況ダッシュボード is up to date",
		"✅ Resolved: the incident caused by the failure of upstream job hegel_export"}
	if len(heads) != len(want) {
		t.Fatalf("slack got %q", heads)
	}
	for i := range want {
		if !strings.HasPrefix(heads[i], want[i]) {
			t.Fatalf("slack got %q, want %q", heads, want)
		}
	}
}

// TestOwnThreadSkipsGroupedNotices: in bot mode the run's own thread opens
// with its run_failed, and its root is rewritten from it, not from the
// grouped upstream_failed that came first.
func TestOwnThreadSkipsGroupedNotices(t *testing.T) {
	e := newCascadeEnv(t, "bot", "en")
	ownFailureAfterIncident(t, e)
	var runRoot *slacksim.Message
	for _, m := range e.sim.Messages() {
		if m.ThreadTS == "" && !strings.Contains(string(m.Blocks), "incident") {
			m := m
			runRoot = &m
		}
	}
	if runRoot == nil || runRoot.Updates == 0 || !strings.Contains(runRoot.Text, "The update of 学習状況ダッシュボード failed") ||
		strings.Contains(runRoot.Text, "grouped") {
		t.Fatalf("run thread root = %+v", runRoot)
	}
}

// ownFailureAfterIncident: mart_a is held back by the export's failure; once
// the export is rerun, mart_a's own DAG run fails, and then a rerun by hand
// succeeds.
func ownFailureAfterIncident(t *testing.T, e *env) {
	t.Helper()
	n := newNight(t, e.cfg, e.st, e.clock)
	e.clock.Advance(40 * time.Minute)
	n.upstreamFailed("mart_a", "hegel_export", "jr_1")
	e.pass(t)
	// The export is rerun; mart_a's own DAG run then fails: a notice of its
	// own, and its run the cause of a second incident.
	e.clock.Advance(time.Hour)
	failed := n.notice("mart_a", sekisho.NoticeRunFailed, sekisho.NoticeFacts{ExternalID: "dag_1", Message: "task failed"})
	n.move("mart_a", sekisho.StateFailed, []sekisho.Notice{failed})
	e.pass(t)
	// Rerun by hand, it succeeds: its recovery answers its own run_failed.
	e.clock.Advance(time.Hour)
	n.move("mart_a", sekisho.StateWaiting, nil)
	n.move("mart_a", sekisho.StateSucceeded, nil)
	e.pass(t)
}

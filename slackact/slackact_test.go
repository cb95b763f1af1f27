package slackact_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/slack-go/slack"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/engine"
	"github.com/sekisho-dev/sekisho/metrics"
	"github.com/sekisho-dev/sekisho/slackact"
	"github.com/sekisho-dev/sekisho/store"
	"github.com/sekisho-dev/sekisho/testkit/statustest"
	"github.com/sekisho-dev/sekisho/testkit/storetest"
	"github.com/sekisho-dev/sekisho/testkit/teststore"
	"github.com/sekisho-dev/sekisho/web"
)

const (
	secret = "8f742231b10e8888abcd99yyyzzz85a5"
	day    = "2026-11-03"
	token  = "w-token"
)

var tokyo, _ = time.LoadLocation("Asia/Tokyo")

func at(clock string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", day+" "+clock, tokyo)
	if err != nil {
		panic(err)
	}
	return t
}

// storeOperator reruns and skips through the engine's functions on the
// store, as the CLI does (the daemon passes its engine, which calls the same).
type storeOperator struct {
	st    *store.Store
	cfg   *config.Config
	clock clockwork.Clock
}

func (o storeOperator) Rerun(ctx context.Context, p, k string, by engine.By) (sekisho.Run, error) {
	return engine.Rerun(ctx, o.st, o.cfg, p, k, o.clock.Now(), by)
}

func (o storeOperator) Skip(ctx context.Context, p, k string, by engine.By) (sekisho.Run, error) {
	return engine.Skip(ctx, o.st, p, k, o.clock.Now(), by)
}

type groups map[string][]string

func (g groups) Members(_ context.Context, group string) ([]string, error) {
	if m, ok := g[group]; ok {
		return m, nil
	}
	return nil, fmt.Errorf("no_such_subteam")
}

// world is a store with a failed run of mart and a waiting run of report,
// the web handler with Slack interactivity over HTTP, and a response_url
// that records the ephemeral answers.
type world struct {
	st      *store.Store
	cfg     *config.Config
	clock   *clockwork.FakeClock
	h       http.Handler
	mu      sync.Mutex
	answers []string
	respond *httptest.Server
	kicks   int
}

func newWorld(t *testing.T, loc string) *world {
	ctx := context.Background()
	st, err := teststore.Open(ctx, loc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	mart := statustest.Pipeline("mart", tokyo, "06:00")
	mart.Owners = []string{"U0OWNER", "-U0GONE"}
	mart.Runbook = "https://wiki.example/runbooks/mart"
	report := statustest.Pipeline("report", tokyo, "08:00", "mart")
	cfg := config.Fill(&config.Config{Location: tokyo, Server: config.Server{Token: token},
		Slack: config.Slack{Language: "en", Token: "xoxb-test", Channel: "#data", Interactivity: config.InteractivityHTTP,
			SigningSecret: secret, Operators: []string{"U0OPS", "U0GONE", "S0ONCALL"}},
		Pipelines: []*config.Pipeline{mart, report}})
	statustest.Put(t, st, statustest.Run{Pipeline: "mart", Date: day, State: sekisho.StateFailed, GateAt: at("02:00"),
		Deadline: at("06:00"), TriggeredAt: at("02:30"), FinishedAt: at("03:10"), Message: "task load failed"})
	statustest.Put(t, st, statustest.Run{Pipeline: "report", Date: day, State: sekisho.StateBlocked, GateAt: at("02:00"),
		Deadline: at("08:00")})
	w := &world{st: st, cfg: cfg, clock: clockwork.NewFakeClockAt(at("07:00"))}
	w.respond = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		var m slack.WebhookMessage
		json.NewDecoder(r.Body).Decode(&m)
		w.mu.Lock()
		w.answers = append(w.answers, m.ResponseType+": "+m.Text)
		w.mu.Unlock()
	}))
	t.Cleanup(w.respond.Close)
	svc := &slackact.Service{Store: st, Config: func() *config.Config { return w.cfg }, Clock: w.clock,
		Operator: storeOperator{st, cfg, w.clock}, Groups: groups{"S0ONCALL": {"U0ONCALL"}},
		Kick: func() { w.mu.Lock(); w.kicks++; w.mu.Unlock() }}
	w.h = web.New(web.Options{Config: func() *config.Config { return w.cfg }, Store: st, Slack: svc, Clock: w.clock,
		Metrics: metrics.New()})
	return w
}

// payload is a block_actions payload as Slack posts it for one click.
func (w *world) payload(user, actionID, blockID, value, option, actionTS string) string {
	return "payload=" + url.QueryEscape(w.payloadJSON(user, actionID, blockID, value, option, actionTS))
}

// payloadJSON is the block_actions payload itself.
func (w *world) payloadJSON(user, actionID, blockID, value, option, actionTS string) string {
	act := map[string]any{"action_id": actionID, "block_id": blockID, "action_ts": actionTS}
	switch {
	case option != "":
		act["type"] = "static_select"
		act["selected_option"] = map[string]any{"value": option, "text": map[string]any{"type": "plain_text", "text": "x"}}
	case strings.HasPrefix(blockID, slackact.ETABlockPrefix):
		act["type"] = "timepicker"
		act["selected_time"] = value
	default:
		act["type"] = "button"
		act["value"] = value
	}
	p := map[string]any{"type": "block_actions", "user": map[string]any{"id": user, "username": strings.ToLower(user), "name": strings.ToLower(user)},
		"api_app_id": "A0SEKISHO", "team": map[string]any{"id": "T0SEKISHO"}, "response_url": w.respond.URL + "/actions/T0/1/x",
		"trigger_id": "1.2.3", "container": map[string]any{"type": "message", "message_ts": "1762106400.000100", "channel_id": "C0DATA"},
		"channel": map[string]any{"id": "C0DATA"}, "actions": []any{act}}
	b, _ := json.Marshal(p)
	return string(b)
}

// post sends a body to /slack/interactions signed with key at ts.
func (w *world) post(t *testing.T, body, key string, ts time.Time) int {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/slack/interactions", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	stamp, sig := slackact.Sign(key, ts, []byte(body))
	req.Header.Set("X-Slack-Request-Timestamp", stamp)
	req.Header.Set("X-Slack-Signature", sig)
	rec := httptest.NewRecorder()
	w.h.ServeHTTP(rec, req)
	return rec.Code
}

func (w *world) get(t *testing.T, target string) string {
	t.Helper()
	rec := httptest.NewRecorder()
	w.h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, target, nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET %s: %d %s", target, rec.Code, rec.Body)
	}
	return rec.Body.String()
}

func (w *world) replies(t *testing.T) []sekisho.Notice {
	t.Helper()
	ns, err := w.st.PendingNotices(context.Background(), 100)
	if err != nil {
		t.Fatal(err)
	}
	var out []sekisho.Notice
	for _, n := range ns {
		if n.Kind == sekisho.NoticeOperatorAction {
			out = append(out, n)
		}
	}
	return out
}

// An operator's rerun from a button starts attempt 2 once, though Slack
// delivers the click twice; the transition says who did it.
func TestRerunFromAButtonHappensOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, loc string) {
		w := newWorld(t, loc)
		ctx := context.Background()
		body := w.payload("U0OPS", slackact.ActionRerun, "sekisho_actions", "mart/"+day, "", "1762149600.000100")
		for i := range 2 { // Slack's retry carries the same action_ts
			if code := w.post(t, body, secret, w.clock.Now()); code != http.StatusOK {
				t.Fatalf("delivery %d: %d", i+1, code)
			}
		}
		r, _ := w.st.Run(ctx, "mart", day)
		if r.Attempt != 2 || r.State != sekisho.StateWaiting {
			t.Fatalf("run after two deliveries: attempt %d %s, want attempt 2 waiting", r.Attempt, r.State)
		}
		trs, _ := w.st.Transitions(ctx, r.ID)
		reruns := 0
		for _, tr := range trs {
			if tr.Reason == sekisho.ReasonOperatorRerun {
				reruns++
				if tr.Detail["by"] != "slack:U0OPS" {
					t.Errorf("rerun transition detail %v, want by slack:U0OPS", tr.Detail)
				}
			}
		}
		if reruns != 1 {
			t.Fatalf("%d rerun transitions, want 1", reruns)
		}
		if rs := w.replies(t); len(rs) != 1 || rs[0].Facts.User != "U0OPS" || rs[0].Facts.Reason != store.ActionRerun {
			t.Fatalf("thread replies %+v, want one rerun by U0OPS", rs)
		}
		if len(w.answers) != 0 {
			t.Fatalf("ephemeral answers %v, want none", w.answers)
		}
		api := w.get(t, "/api/v1/runs/mart/"+day)
		if !strings.Contains(api, `"by": "slack:U0OPS"`) {
			t.Fatalf("GET /api/v1/runs/mart/%s does not show who reran: %s", day, api)
		}
		// A new click (another action_ts) on a run that is running again is
		// refused with the engine's reason, and changes nothing.
		again := w.payload("U0OPS", slackact.ActionRerun, "sekisho_actions", "mart/"+day, "", "1762149700.000200")
		w.post(t, again, secret, w.clock.Now())
		if r2, _ := w.st.Run(ctx, "mart", day); r2.Attempt != 2 {
			t.Fatalf("a rerun of a waiting run made attempt %d", r2.Attempt)
		}
		if len(w.answers) != 1 || !strings.Contains(w.answers[0], "only a finished run can be rerun") || !strings.HasPrefix(w.answers[0], "ephemeral") {
			t.Fatalf("answers %v, want one ephemeral refusal naming the reason", w.answers)
		}
	})
}

// Somebody who is neither an operator nor an owner gets an ephemeral
// refusal and nothing changes; an owner entry "-<id>" takes an operator
// away; a user group in operators lets its members act.
func TestWhoMayAct(t *testing.T) {
	storetest.Each(t, func(t *testing.T, loc string) {
		w := newWorld(t, loc)
		ctx := context.Background()
		for i, user := range []string{"U0OUTSIDER", "U0GONE"} {
			body := w.payload(user, slackact.ActionSkip, "sekisho_actions", "mart/"+day, "", fmt.Sprintf("1762149600.00010%d", i))
			if code := w.post(t, body, secret, w.clock.Now()); code != http.StatusOK {
				t.Fatalf("%s: %d", user, code)
			}
		}
		if r, _ := w.st.Run(ctx, "mart", day); r.State != sekisho.StateFailed || r.Attempt != 1 {
			t.Fatalf("an outsider's click moved the run to %s attempt %d", r.State, r.Attempt)
		}
		if acts, _ := w.st.Actions(ctx, store.ActionFilter{}); len(acts) != 0 {
			t.Fatalf("actions recorded: %+v", acts)
		}
		if len(w.replies(t)) != 0 {
			t.Fatal("an outsider's click queued a reply")
		}
		if len(w.answers) != 2 || !strings.Contains(w.answers[0], "Not allowed") || !strings.HasPrefix(w.answers[0], "ephemeral: ") {
			t.Fatalf("answers %v, want two ephemeral refusals", w.answers)
		}
		// The on-call group's member and the pipeline's owner may act.
		oncall := w.payload("U0ONCALL", slackact.ActionSkip, "sekisho_actions", "report/"+day, "", "1762149600.000200")
		w.post(t, oncall, secret, w.clock.Now())
		if r, _ := w.st.Run(ctx, "report", day); r.State != sekisho.StateSkipped {
			t.Fatalf("report after the on-call member's skip: %s", r.State)
		}
		owner := w.payload("U0OWNER", slackact.ActionRerun, "sekisho_actions", "mart/"+day, "", "1762149600.000300")
		w.post(t, owner, secret, w.clock.Now())
		if r, _ := w.st.Run(ctx, "mart", day); r.Attempt != 2 {
			t.Fatalf("the owner's rerun did not happen: attempt %d", r.Attempt)
		}
	})
}

// Anything not signed with the signing secret, or signed more than five
// minutes ago on the daemon's clock, is 401 and changes nothing.
func TestInteractionsNeedSlacksSignature(t *testing.T) {
	storetest.Each(t, func(t *testing.T, loc string) {
		w := newWorld(t, loc)
		body := w.payload("U0OPS", slackact.ActionRerun, "sekisho_actions", "mart/"+day, "", "1762149600.000100")
		for _, c := range []struct {
			name string
			key  string
			ts   time.Time
		}{
			{"wrong secret", "not-the-secret", w.clock.Now()},
			{"six minutes old", secret, w.clock.Now().Add(-6 * time.Minute)},
			{"six minutes ahead", secret, w.clock.Now().Add(6 * time.Minute)},
		} {
			if code := w.post(t, body, c.key, c.ts); code != http.StatusUnauthorized {
				t.Errorf("%s: %d, want 401", c.name, code)
			}
		}
		req := httptest.NewRequest(http.MethodPost, "/slack/interactions", strings.NewReader(body))
		rec := httptest.NewRecorder()
		w.h.ServeHTTP(rec, req)
		if rec.Code != http.StatusUnauthorized {
			t.Errorf("unsigned: %d, want 401", rec.Code)
		}
		if r, _ := w.st.Run(context.Background(), "mart", day); r.Attempt != 1 {
			t.Fatalf("a refused request reran the run")
		}
		if code := w.post(t, body, secret, w.clock.Now().Add(-4*time.Minute)); code != http.StatusOK {
			t.Fatalf("four minutes old: %d, want 200", code)
		}
	})
}

// slackact.Sign writes what Slack writes: slack-go's own verifier accepts
// it (at the wall clock, which that verifier reads).
func TestSignMatchesSlackGo(t *testing.T) {
	body := []byte("payload=%7B%7D")
	stamp, sig := slackact.Sign(secret, time.Now(), body)
	h := http.Header{}
	h.Set("X-Slack-Request-Timestamp", stamp)
	h.Set("X-Slack-Signature", sig)
	v, err := slack.NewSecretsVerifier(h, secret)
	if err != nil {
		t.Fatal(err)
	}
	v.Write(body)
	if err := v.Ensure(); err != nil {
		t.Fatalf("slack-go refuses sekisho's signature: %v", err)
	}
	if err := slackact.Verify(h, body, secret, time.Now()); err != nil {
		t.Fatal(err)
	}
}

// An acknowledgement with an ETA from the menu (or the API) shows on the
// board and in GET /api/v1/incidents; clicking it twice records it once.
func TestAcknowledgeWithETA(t *testing.T) {
	storetest.Each(t, func(t *testing.T, loc string) {
		w := newWorld(t, loc)
		ctx := context.Background()
		mart, _ := w.st.Run(ctx, "mart", day)
		report, _ := w.st.Run(ctx, "report", day)
		cause := sekisho.IncidentCause{Kind: sekisho.CauseRun, Date: day, Pipeline: "mart", State: "failed"}
		if _, err := w.st.AddNoticesWithIncidents(ctx, nil, []sekisho.IncidentChange{{Cause: cause, Members: []sekisho.IncidentMember{
			{Pipeline: "mart", Date: day, RunID: mart.ID, Role: sekisho.RoleCause, Kind: sekisho.NoticeRunFailed, State: sekisho.StateFailed},
			{Pipeline: "report", Date: day, RunID: report.ID, Role: sekisho.RoleAffected, Kind: sekisho.NoticeUpstreamFailed, State: sekisho.StateBlocked},
		}}}, at("03:10")); err != nil {
			t.Fatal(err)
		}
		if api := w.get(t, "/api/v1/incidents"); !strings.Contains(api, `"acknowledged_by": null`) || !strings.Contains(api, `"eta": null`) {
			t.Fatalf("unacknowledged incident: %s", api)
		}
		body := w.payload("U0OPS", slackact.ActionAck, "sekisho_actions", "", slackact.Target{Pipeline: "report", Key: day}.Value("1h0m0s"), "1762149600.000100")
		w.post(t, body, secret, w.clock.Now())
		w.post(t, body, secret, w.clock.Now())
		api := w.get(t, "/api/v1/incidents")
		for _, want := range []string{`"acknowledged_by": "slack:U0OPS"`, `"acknowledged_name": "u0ops"`,
			`"acknowledged_at": "2026-11-02T22:00:00Z"`, `"eta": "2026-11-02T23:00:00Z"`} {
			if !strings.Contains(api, want) {
				t.Errorf("GET /api/v1/incidents lacks %s: %s", want, api)
			}
		}
		if acts, _ := w.st.Actions(ctx, store.ActionFilter{Incident: cause.Key()}); len(acts) != 1 {
			t.Fatalf("incident history %+v, want the one acknowledgement", acts)
		}
		board := w.get(t, "/?lang=en")
		if !strings.Contains(board, "Being worked on — expected back by 08:00 (@u0ops)") {
			t.Fatalf("the board does not show the acknowledgement")
		}
		if !strings.Contains(board, `href="https://wiki.example/runbooks/mart"`) {
			t.Fatalf("the board does not link the runbook")
		}
		// The time picker gives a time of day in the pipeline's zone.
		pick := w.payload("U0OPS", slackact.ActionAck, slackact.ETABlockPrefix+"mart/"+day, "10:30", "", "1762149900.000100")
		w.post(t, pick, secret, w.clock.Now())
		if api := w.get(t, "/api/v1/incidents"); !strings.Contains(api, `"eta": "2026-11-03T01:30:00Z"`) {
			t.Fatalf("the picked ETA 10:30 JST is not in the API: %s", api)
		}
	})
}

// A maintenance window is listed by GET /api/v1/silences while it holds,
// and not after.
func TestMaintenanceListedWhileActive(t *testing.T) {
	w := newWorld(t, t.TempDir()+"/s.db")
	sched, err := config.ParseMaintenanceSchedule("0 7 * * *", tokyo)
	if err != nil {
		t.Fatal(err)
	}
	w.cfg.Maintenance = []config.Maintenance{{Schedule: "0 7 * * *", Sched: sched, Duration: time.Hour,
		Pipelines: []string{"mart"}, Reason: "daily vacuum"}}
	w.clock.Advance(30 * time.Minute)
	var got struct {
		Silences []struct {
			ID, Reason, State string
			Pipelines         []string
			Until             time.Time
		}
	}
	if err := json.Unmarshal([]byte(w.get(t, "/api/v1/silences")), &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Silences) != 1 || got.Silences[0].Reason != "daily vacuum" || got.Silences[0].State != "active" ||
		!got.Silences[0].Until.Equal(at("08:00")) || got.Silences[0].Pipelines[0] != "mart" {
		t.Fatalf("silences during the window: %+v", got.Silences)
	}
	if board := w.get(t, "/?lang=en"); !strings.Contains(board, "daily vacuum") {
		t.Fatal("the board does not show the maintenance window")
	}
	w.clock.Advance(time.Hour)
	got.Silences = nil
	json.Unmarshal([]byte(w.get(t, "/api/v1/silences")), &got)
	if len(got.Silences) != 0 {
		t.Fatalf("silences after the window: %+v", got.Silences)
	}
}

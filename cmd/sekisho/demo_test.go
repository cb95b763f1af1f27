package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/demo"
	"github.com/sekisho-dev/sekisho/sim/slacksim"
	"github.com/sekisho-dev/sekisho/sim/world"
)

// The JSON API's answers, as far as the demo test reads them.
type apiRun struct {
	Pipeline    string  `json:"pipeline"`
	LogicalDate string  `json:"logical_date"`
	State       string  `json:"state"`
	Attempt     int     `json:"attempt"`
	SLOMet      *bool   `json:"slo_met"`
	FinishedAt  *string `json:"finished_at"`
	Transitions []struct {
		Attempt int    `json:"attempt"`
		From    string `json:"from"`
		To      string `json:"to"`
		At      string `json:"at"`
		Reason  string `json:"reason"`
	} `json:"transitions"`
	Observations []struct {
		Upstream   string `json:"upstream"`
		State      string `json:"state"`
		ExternalID string `json:"external_id"`
		Message    string `json:"message"`
	} `json:"observations"`
	Notices []struct {
		Kind   string  `json:"kind"`
		SentAt *string `json:"sent_at"`
		Text   string  `json:"text"`
	} `json:"notices"`
}

type apiStatus struct {
	Date      string `json:"date"`
	Pipelines []struct {
		Name       string   `json:"name"`
		State      string   `json:"state"`
		AffectedBy []string `json:"affected_by"`
	} `json:"pipelines"`
}

func getJSON(t *testing.T, url string, into any) {
	t.Helper()
	body := getText(t, url)
	if err := json.Unmarshal([]byte(body), into); err != nil {
		t.Fatalf("GET %s: %v: %s", url, err, body)
	}
}

// path is a run's transitions as "from>to:reason" steps.
func (r apiRun) path() []string {
	var p []string
	for _, tr := range r.Transitions {
		p = append(p, fmt.Sprintf("%s>%s:%s", tr.From, tr.To, tr.Reason))
	}
	return p
}

func (r apiRun) noticeKinds() []string {
	var k []string
	for _, n := range r.Notices {
		k = append(k, n.Kind)
	}
	return k
}

// TestDemoWorldIncidents fills nine simulated days (every day of the
// script's cycle) on the fake clock and checks, through the JSON API, that
// each scripted incident left the states, transitions and notices it should.
func TestDemoWorldIncidents(t *testing.T) {
	jst, _ := time.LoadLocation(demo.TimeZone)
	liveAt := time.Date(2026, 3, 20, 0, 50, 0, 0, jst)
	const seed = 3
	var out strings.Builder
	ctx := context.Background()
	s, err := newDemoSystem(ctx, demoOptions{speed: 1440, days: 9, listen: "127.0.0.1:0", seed: seed, lang: "en",
		out: &syncWriter{w: &out}, liveAt: liveAt})
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()
	s.start()
	first := s.from.In(jst).Format("2006-01-02")
	dates := map[demo.Incident]string{}
	for _, inc := range demo.Incidents() {
		dates[inc] = demo.FirstDateWith(inc, first, seed)
		if dates[inc] == "" || dates[inc] >= liveAt.Format("2006-01-02") {
			t.Fatalf("no complete %s day in the window (%q)", inc, dates[inc])
		}
	}

	// Stop in the middle of the downstream failure: ads_daily failed at
	// ~03:50, the operator reruns it at 07:30.
	mid, _ := time.ParseInLocation("2006-01-02 15:04", dates[demo.DownstreamFailure]+" 06:00", jst)
	began := time.Now()
	if _, err := s.fillHistory(ctx, mid); err != nil {
		t.Fatal(err)
	}
	var status apiStatus
	getJSON(t, s.url+"api/v1/status?date="+dates[demo.DownstreamFailure], &status)
	affected := map[string][]string{}
	states := map[string]string{}
	for _, p := range status.Pipelines {
		affected[p.Name], states[p.Name] = p.AffectedBy, p.State
	}
	if states["ads_daily"] != "failed" || states["kant_daily"] != "blocked" || states["reverse_etl_daily"] != "waiting" {
		t.Errorf("mid-incident states = %v, want ads_daily failed, kant_daily blocked, reverse_etl_daily waiting", states)
	}
	for _, name := range []string{"kant_daily", "reverse_etl_daily"} {
		if !slices.Contains(affected[name], "ads_daily") {
			t.Errorf("%s affected_by = %v, want ads_daily in it", name, affected[name])
		}
	}
	if len(affected["socrates_daily"]) != 0 {
		t.Errorf("socrates_daily affected_by = %v, want none", affected["socrates_daily"])
	}
	checkOneImpact(t, s.url, dates[demo.DownstreamFailure], affected)

	// SPEC §20: at 07:05 the on-call engineer picks "in 1 h" on the
	// failure's Slack menu; the simulator posts the signed click, and until
	// the 07:30 rerun the API and the board show who is on it and the ETA.
	acked, _ := time.ParseInLocation("2006-01-02 15:04", dates[demo.DownstreamFailure]+" 07:10", jst)
	if _, err := s.fillHistory(ctx, acked); err != nil {
		t.Fatal(err)
	}
	var incs struct {
		Incidents []struct {
			Key            string  `json:"key"`
			AcknowledgedBy *string `json:"acknowledged_by"`
			ETA            *string `json:"eta"`
		} `json:"incidents"`
	}
	getJSON(t, s.url+"api/v1/incidents?date="+dates[demo.DownstreamFailure], &incs)
	eta := acked.Add(55 * time.Minute).UTC().Format(time.RFC3339)
	ackedInc := false
	for _, inc := range incs.Incidents {
		if inc.Key == "run:ads_daily#"+dates[demo.DownstreamFailure] && inc.AcknowledgedBy != nil &&
			*inc.AcknowledgedBy == "slack:"+world.SlackOperator && inc.ETA != nil && *inc.ETA == eta {
			ackedInc = true
		}
	}
	if !ackedInc {
		t.Errorf("ads_daily's incident is not acknowledged from Slack with ETA %s: %+v", eta, incs.Incidents)
	}
	if board := getText(t, s.url+"?lang=en"); !strings.Contains(board, "Being worked on — expected back by 08:05 (@oncall)") {
		t.Errorf("the board does not show the acknowledgement and its ETA")
	}

	if _, err := s.fillHistory(ctx, liveAt); err != nil {
		t.Fatal(err)
	}
	t.Logf("nine simulated days in %v of wall time", time.Since(began))

	run := func(pipeline string, inc demo.Incident) apiRun {
		var r apiRun
		getJSON(t, s.url+"api/v1/runs/"+pipeline+"/"+dates[inc], &r)
		return r
	}
	isTrue := func(b *bool) bool { return b != nil && *b }
	isFalse := func(b *bool) bool { return b != nil && !*b }
	normalPath := []string{">waiting:gate_opened", "waiting>triggered:condition_met",
		"triggered>running:dag_run_running", "running>succeeded:dag_run_success"}

	tests := []struct {
		name     string
		pipeline string
		incident demo.Incident
		state    string
		attempt  int
		slo      func(*bool) bool
		path     []string // exact transitions, when set
		steps    []string // transitions that must be among them
		notices  []string // exact notice kinds, in order
	}{
		{name: "normal socrates", pipeline: "socrates_daily", incident: demo.Normal, state: "succeeded", attempt: 1,
			slo: isTrue, path: normalPath, notices: nil},
		{name: "normal gate-only watch", pipeline: "hegel_export_watch", incident: demo.Normal, state: "succeeded", attempt: 1,
			slo: isTrue, path: []string{">waiting:gate_opened", "waiting>succeeded:condition_met"}},
		{name: "normal chain end", pipeline: "reverse_etl_daily", incident: demo.Normal, state: "succeeded", attempt: 1,
			slo: isTrue, path: normalPath},
		{name: "glue failure blocks, then the gate recovers on its own", pipeline: "socrates_daily", incident: demo.GlueFailure,
			state: "succeeded", attempt: 1, slo: isTrue,
			path: []string{">waiting:gate_opened", "waiting>blocked:upstream_failed", "blocked>waiting:upstream_recovered",
				"waiting>triggered:condition_met", "triggered>running:dag_run_running", "running>succeeded:dag_run_success"},
			notices: []string{"upstream_failed", "recovery"}},
		{name: "glue failure makes the export watch late", pipeline: "hegel_export_watch", incident: demo.GlueFailure,
			state: "succeeded", attempt: 1, slo: isFalse,
			steps: []string{"waiting>blocked:upstream_failed", "blocked>waiting:upstream_recovered"},
			// The rerun starts at 02:40 and usually runs an hour: the
			// projection passes the 03:00 deadline before it (SPEC §21).
			notices: []string{"upstream_failed", "at_risk", "delay", "recovery"}},
		{name: "late upstream breaks the SLO", pipeline: "socrates_daily", incident: demo.LateUpstream, state: "succeeded",
			attempt: 1, slo: isFalse, path: normalPath, notices: []string{"at_risk", "delay", "recovery"}},
		{name: "long-running DAG run", pipeline: "socrates_daily", incident: demo.LongRunning, state: "succeeded",
			attempt: 1, slo: isTrue, path: normalPath, notices: []string{"long_running", "recovery"}},
		{name: "downstream failure, operator rerun", pipeline: "ads_daily", incident: demo.DownstreamFailure,
			state: "succeeded", attempt: 2, slo: isFalse,
			steps:   []string{"running>failed:dag_run_failed", "failed>waiting:operator_rerun", "running>succeeded:dag_run_success"},
			notices: []string{"run_failed", "operator_action", "delay", "recovery"}}, // operator_action: the Slack acknowledgement's reply
		{name: "downstream failure blocks the next pipeline", pipeline: "kant_daily", incident: demo.DownstreamFailure,
			state: "succeeded", attempt: 1,
			steps:   []string{"waiting>blocked:upstream_failed", "blocked>waiting:upstream_recovered", "running>succeeded:dag_run_success"},
			notices: []string{"upstream_failed", "delay", "recovery"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(tt.pipeline, tt.incident)
			if r.State != tt.state || r.Attempt != tt.attempt {
				t.Errorf("state %s attempt %d, want %s attempt %d", r.State, r.Attempt, tt.state, tt.attempt)
			}
			if tt.slo != nil && !tt.slo(r.SLOMet) {
				t.Errorf("slo_met = %v", r.SLOMet)
			}
			if tt.path != nil && !slices.Equal(r.path(), tt.path) {
				t.Errorf("transitions = %v\nwant %v", r.path(), tt.path)
			}
			for _, step := range tt.steps {
				if !slices.Contains(r.path(), step) {
					t.Errorf("transitions = %v, want %s among them", r.path(), step)
				}
			}
			kinds := r.noticeKinds()
			if !slices.Equal(kinds, tt.notices) {
				t.Errorf("notices = %v, want %v", kinds, tt.notices)
			}
			for _, n := range r.Notices {
				if n.SentAt == nil || n.Text == "" {
					t.Errorf("notice %s not delivered to Slack: sent_at %v, text %q", n.Kind, n.SentAt, n.Text)
				}
			}
		})
	}

	// The TROCCO workflow upstream was learned from a pushed event: the
	// sensor cannot list workflow jobs, so an id means the event arrived.
	ads := run("ads_daily", demo.Normal)
	learned := false
	for _, o := range ads.Observations {
		if o.Upstream == "ads_sources" && o.State == "succeeded" && o.ExternalID != "" {
			learned = true
		}
	}
	if !learned {
		t.Errorf("ads_sources was not learned from the TROCCO event: %+v", ads.Observations)
	}

	// Every notice reached the Slack double, and the simulators saw only
	// requests that match the vendors' API documents.
	var sent int
	for _, m := range s.world.Slack.Messages() {
		if !strings.Contains(m.Text, "digest") && !strings.Contains(m.Text, "Daily") {
			sent++
		}
	}
	if sent == 0 {
		t.Error("the Slack double received no notice")
	}
	// SPEC §17: the day the Glue export fails, its two pipelines post one
	// incident thread (bot mode: the root, kept current, and its replies:
	// joined, recovered, resolved) instead of their own upstream_failed,
	// delay and recovery.
	var glueDay []string
	var roots int
	for _, m := range s.world.Slack.Messages() {
		// orders_quality (the warehouse gate) is late on some days of its
		// own, unrelated to the Glue export: its notices are not the incident's.
		if m.At.In(jst).Format("2006-01-02") == dates[demo.GlueFailure] && !strings.Contains(m.Text, "Today's data status") &&
			!strings.Contains(m.Text, "orders_quality") {
			first, _, _ := strings.Cut(m.Text, "\n")
			glueDay = append(glueDay, first)
			if m.ThreadTS == "" {
				roots++
			}
		}
	}
	if roots != 1 || len(glueDay) < 3 || !strings.Contains(glueDay[0], "Resolved:") || !strings.Contains(glueDay[len(glueDay)-1], "Resolved:") {
		t.Errorf("glue failure day posted %d messages in %d threads, want one incident thread (its root now resolved):\n%q", len(glueDay), roots, glueDay)
	}
	// The failure's messages carry the buttons, and the terminal line the
	// printer makes of them shows them.
	buttons := ""
	for _, m := range s.world.Slack.Messages() {
		if strings.Contains(m.Text, "ads_daily") && demo.Buttons(m.Blocks) != "" {
			buttons += demo.Buttons(m.Blocks) + "\n"
		}
	}
	// (Messages holds each message as last updated: a rerun button goes
	// when its run is no longer finished, every button when it succeeded.)
	if !strings.Contains(buttons, "[Acknowledge (ETA) ▾]") || !strings.Contains(buttons, "[Silence ▾]") {
		t.Errorf("ads_daily's incident shows no buttons on the terminal: %q", buttons)
	}
	if bad := s.world.Composer.InvalidRequests(); len(bad) != 0 {
		t.Errorf("composer-prod saw invalid requests: %+v", bad)
	}
	if bad := s.world.Legacy.InvalidRequests(); len(bad) != 0 {
		t.Errorf("composer-legacy saw invalid requests: %+v", bad)
	}
	if !strings.HasPrefix(out.String(), "Board: ") {
		t.Errorf("the board URL is not the first line: %q", out.String())
	}
	logs, err := os.ReadFile(filepath.Join(s.dir, "sekisho.log"))
	if err != nil || len(logs) == 0 {
		t.Fatalf("daemon log: %v", err)
	}
	for _, secret := range []string{world.AirflowPassword, world.TroccoAPIKey, world.AWSSecretKey, s.cfg.Server.Token.Value(),
		slacksim.WebhookPath} {
		if strings.Contains(string(logs), secret) || strings.Contains(out.String(), secret) {
			t.Errorf("a secret (%.6s…) reached the log or the terminal", secret)
		}
	}
}

// TestDemoCommand starts `sekisho demo` as a user would, checks that the
// board answers, and stops it with a cancel, as Ctrl-C does.
func TestDemoCommand(t *testing.T) {
	jst, _ := time.LoadLocation(demo.TimeZone)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan int, 1)
	go func() {
		done <- Main(ctx, []string{"demo", "--listen", "127.0.0.1:0", "--days", "2", "--speed", "3600"}, nil, pw, io.Discard)
		pw.Close()
	}()
	lines := bufio.NewScanner(pr)
	if !lines.Scan() {
		t.Fatal("no output")
	}
	first := lines.Text()
	url, ok := strings.CutPrefix(first, "Board: ")
	if !ok {
		t.Fatalf("first line %q, want the board URL", first)
	}
	// The demo says where its record is and how to read it from the
	// command line on the demo's own day; the line it prints runs as is.
	var try string
	for try == "" && lines.Scan() {
		if l := strings.TrimSpace(lines.Text()); strings.HasPrefix(l, "sekisho status ") {
			try = l
		}
	}
	go io.Copy(io.Discard, pr) // keep the demo's terminal flowing
	if !strings.Contains(try, " --date "+time.Now().In(jst).Format("2006-01-02")) {
		t.Fatalf("status line %q, want the demo's day", try)
	}
	var out, errOut strings.Builder
	if code := Main(ctx, strings.Fields(try)[1:], nil, &out, &errOut); code != exitOK || !strings.Contains(out.String(), "ads_daily") {
		t.Errorf("%s: exit %d\n%s%s", try, code, out.String(), errOut.String())
	}
	// It runs daemon.Run, so it is elected as `sekisho run` is.
	var cluster struct {
		Role string `json:"role"`
	}
	for deadline := time.Now().Add(10 * time.Second); cluster.Role != "leader"; time.Sleep(20 * time.Millisecond) {
		getJSON(t, url+"api/v1/cluster", &cluster)
		if time.Now().After(deadline) {
			t.Fatalf("role %q, want leader: the demo does not run the daemon's election", cluster.Role)
		}
	}
	for _, path := range []string{"healthz", "api/v1/status"} {
		deadline := time.Now().Add(10 * time.Second)
		for {
			resp, err := http.Get(url + path)
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					break
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("GET %s: %v", path, err)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	cancel()
	select {
	case code := <-done:
		if code != exitOK {
			t.Errorf("exit code %d, want 0", code)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the demo did not stop within 5 seconds of the cancel")
	}
	if _, err := http.Get(url + "healthz"); err == nil {
		t.Error("the board still answers after the demo stopped")
	}
}

// TestDemoBusyPort: a board port already taken ends the demo with exit 1,
// the address and the --listen hint, and leaves no temporary directory.
func TestDemoBusyPort(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	addr := busy.Addr().String()
	var stdout, stderr strings.Builder
	code := Main(context.Background(), []string{"demo", "--listen", addr, "--days", "1"}, nil, &stdout, &stderr)
	if code != exitRuntime {
		t.Errorf("exit code %d, want %d", code, exitRuntime)
	}
	if msg := stderr.String(); !strings.Contains(msg, "listen on "+addr) || !strings.Contains(msg, "--listen 127.0.0.1:8081") {
		t.Errorf("stderr %q, want the address and the --listen hint", msg)
	}
	if left, _ := os.ReadDir(tmp); len(left) > 0 {
		t.Errorf("left in the temporary folder: %v", left)
	}
}

// checkOneImpact reads the demo's incident day in every view that says
// what an incident holds back: GET /api/v1/incidents, the board's incident
// block, the route map and the cards' affected_by (GET /api/v1/status).
// They must name the same pipelines and the same dashboards.
func checkOneImpact(t *testing.T, base, date string, affectedBy map[string][]string) {
	t.Helper()
	var api struct {
		Incidents []struct {
			State     string   `json:"state"`
			Pipelines []string `json:"pipelines"`
			Impacts   []string `json:"impacts"`
		} `json:"incidents"`
	}
	getJSON(t, base+"api/v1/incidents?date="+date, &api)
	var pipes, impacts []string
	for _, inc := range api.Incidents {
		if inc.State == "open" && slices.Contains(inc.Pipelines, "ads_daily") {
			pipes, impacts = inc.Pipelines, inc.Impacts
		}
	}
	slices.Sort(pipes)
	slices.Sort(impacts)
	want := []string{"ads_daily", "kant_daily", "reverse_etl_daily"}
	if !slices.Equal(pipes, want) {
		t.Fatalf("API: the open incident holds back %v, want %v (%+v)", pipes, want, api.Incidents)
	}
	if !slices.Contains(impacts, "Service dashboard (reverse ETL)") {
		t.Errorf("API: impacts %v leave out the reverse ETL's dashboard", impacts)
	}

	// The board's incident block.
	board := getText(t, base+"?lang=en")
	_, block, _ := strings.Cut(board, `<section class="affected by-incident">`)
	block, _, _ = strings.Cut(block, "</section>")
	boardPipes := sortedMatches(regexp.MustCompile(`<li><span aria-hidden="true">[^<]*</span> <a href="/pipelines/([a-z0-9_-]+)\?`), block)
	_, impBlock, _ := strings.Cut(block, `<p class="impacts">`)
	impBlock, _, _ = strings.Cut(impBlock, "</p>")
	boardImpacts := sortedMatches(regexp.MustCompile(`<span class="chip">([^<]+)</span>`), impBlock)
	if !slices.Equal(boardPipes, pipes) || !slices.Equal(boardImpacts, impacts) {
		t.Errorf("board's incident block: %v, %v\nwant the API's %v, %v", boardPipes, boardImpacts, pipes, impacts)
	}

	// The route map: the stations drawn as reached by trouble.
	m := getText(t, base+"map?lang=en")
	var mapPipes, mapImpacts []string
	for _, g := range regexp.MustCompile(`<g class="([^"]*)" data-kind="(\w+)" data-name="([^"]*)">`).FindAllStringSubmatch(m, -1) {
		if !strings.Contains(" "+g[1]+" ", " rm-reached ") {
			continue
		}
		switch name := html.UnescapeString(g[3]); g[2] {
		case "pipeline":
			mapPipes = append(mapPipes, name)
		case "impact":
			mapImpacts = append(mapImpacts, name)
		}
	}
	slices.Sort(mapPipes)
	slices.Sort(mapImpacts)
	if !slices.Equal(mapPipes, pipes) || !slices.Equal(mapImpacts, impacts) {
		t.Errorf("map: %v, %v\nwant the API's %v, %v", mapPipes, mapImpacts, pipes, impacts)
	}

	// The cards: whoever a card says is affected by the failure is held
	// back by the incident.
	for name, by := range affectedBy {
		if slices.Contains(by, "ads_daily") && !slices.Contains(pipes, name) {
			t.Errorf("%s's card says it is affected by ads_daily; the incident leaves it out", name)
		}
	}
}

func getText(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s: %s", url, resp.Status, body)
	}
	return string(body)
}

// sortedMatches are re's first groups in s, unescaped and sorted; matches
// without the group are left out.
func sortedMatches(re *regexp.Regexp, s string) []string {
	var out []string
	for _, m := range re.FindAllStringSubmatch(s, -1) {
		if m[1] != "" && !slices.Contains(out, html.UnescapeString(m[1])) {
			out = append(out, html.UnescapeString(m[1]))
		}
	}
	slices.Sort(out)
	return out
}

// TestDemoHourlyRollUp fills the demo's history over a long-running day
// and a downstream-failure day (SPEC §19) and checks, through the JSON API
// and the Airflow simulator, that clickstream_hourly ran once an hour with
// its own keys and dag_run_ids, that the failed load held the 13:00 run and
// missed its interval, and that the daily mart waited for the day's 24
// hours: blocked naming the failed 15:00 run, then triggered only after
// 23:00's run.
func TestDemoHourlyRollUp(t *testing.T) {
	jst, _ := time.LoadLocation(demo.TimeZone)
	const seed = 5
	lr := demo.FirstDateWith(demo.LongRunning, "2026-05-01", seed)
	df := demo.FirstDateWith(demo.DownstreamFailure, lr, seed)
	day := func(date string, hhmm string) time.Time {
		t.Helper()
		at, err := time.ParseInLocation("2006-01-02 15:04", date+" "+hhmm, jst)
		if err != nil {
			t.Fatal(err)
		}
		return at
	}
	liveAt := day(df, "00:50").AddDate(0, 0, 1)
	days := int(liveAt.Sub(day(lr, "00:50")).Hours()/24 + 0.5)
	ctx := context.Background()
	s, err := newDemoSystem(ctx, demoOptions{speed: 1440, days: days, listen: "127.0.0.1:0", seed: seed, lang: "en",
		out: io.Discard, liveAt: liveAt})
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()
	s.start()
	if s.from.In(jst).Format(time.DateOnly) != lr {
		t.Fatalf("the history starts on %s, want %s (the long-running day)", s.from.In(jst).Format(time.DateOnly), lr)
	}
	// The failure day's 22:10: the mart opened at 22:00 and is blocked on
	// the 15:00 run, whose aggregate failed; the operator's rerun is at 22:15.
	if _, err := s.fillHistory(ctx, day(df, "22:10")); err != nil {
		t.Fatal(err)
	}
	var mart apiRun
	getJSON(t, s.url+"api/v1/runs/"+demo.RollUpPipeline+"/"+df, &mart)
	wantMsg := demo.HourlyPipeline + " 15:00 run is failed"
	if mart.State != "blocked" || !mart.observed("hours", wantMsg) {
		t.Errorf("the mart at 22:10 is %s with %+v, want blocked with %q", mart.State, mart.Observations, wantMsg)
	}

	if _, err := s.fillHistory(ctx, liveAt); err != nil {
		t.Fatal(err)
	}
	// One run an hour, keyed by its fire time, each with its own DAG run.
	var dagRuns []string
	for _, r := range s.world.Composer.Runs(demo.DagClickHourly) {
		dagRuns = append(dagRuns, r.DagRunID)
	}
	for _, date := range []string{lr, df} {
		var st struct {
			Pipelines []struct {
				Name      string `json:"name"`
				Intervals []struct {
					Key    string `json:"key"`
					Time   string `json:"time"`
					State  string `json:"state"`
					SLOMet *bool  `json:"slo_met"`
				} `json:"intervals"`
			} `json:"pipelines"`
		}
		getJSON(t, s.url+"api/v1/status?date="+date, &st)
		var missed []string
		n := 0
		for _, p := range st.Pipelines {
			if p.Name != demo.HourlyPipeline {
				continue
			}
			for h, iv := range p.Intervals {
				n++
				key := s.world.HourlyKey(date, h)
				if iv.Key != key || iv.Time != key[11:] || iv.State != "succeeded" {
					t.Errorf("%s interval %d: %+v, want %s succeeded", date, h, iv, key)
				}
				if iv.SLOMet == nil || !*iv.SLOMet {
					missed = append(missed, iv.Time)
				}
				if want := sekisho.DagRunID(demo.HourlyPipeline, key, 1); !slices.Contains(dagRuns, want) {
					t.Errorf("no DAG run %s", want)
				}
			}
		}
		if n != 24 {
			t.Errorf("%s: %d intervals on the board, want 24", date, n)
		}
		if want := map[string][]string{lr: {"13:00"}, df: {"15:00"}}[date]; !slices.Equal(missed, want) {
			t.Errorf("%s: intervals that missed their 45 minutes %v, want %v", date, missed, want)
		}
	}
	hours := int(liveAt.Sub(s.from)/time.Hour) + 1 // every gate from the history's first midnight to liveAt
	if n, distinct := len(dagRuns), len(slices.Compact(slices.Sorted(slices.Values(dagRuns)))); n != distinct || n != hours {
		t.Errorf("%d DAG runs of the hourly aggregate (%d distinct) from %v to %v, want one an hour (%d)", n, distinct, s.from, liveAt, hours)
	}
	// The failed load held 13:00 until its rerun landed.
	var held apiRun
	getJSON(t, s.url+"api/v1/runs/"+demo.HourlyPipeline+"/"+s.world.HourlyKey(lr, demo.HourlyFailedLoad+1), &held)
	for _, step := range []string{"waiting>blocked:upstream_failed", "blocked>waiting:upstream_recovered", "running>succeeded:dag_run_success"} {
		if !slices.Contains(held.path(), step) {
			t.Errorf("%s's 13:00 run: transitions %v, want %s among them", lr, held.path(), step)
		}
	}
	// The operator's rerun of 15:00 cleared its DAG run (Airflow keeps one
	// run per logical date) and attempt 2 succeeded; the mart then waited
	// for 23:00's run and triggered after it.
	var failed apiRun
	getJSON(t, s.url+"api/v1/runs/"+demo.HourlyPipeline+"/"+s.world.HourlyKey(df, demo.HourlyFailedDAG), &failed)
	if failed.State != "succeeded" || failed.Attempt != 2 || !slices.Contains(failed.path(), "failed>waiting:operator_rerun") {
		t.Errorf("the failed hour: %s attempt %d, %v", failed.State, failed.Attempt, failed.path())
	}
	var last apiRun
	getJSON(t, s.url+"api/v1/runs/"+demo.HourlyPipeline+"/"+s.world.HourlyKey(df, 23), &last)
	getJSON(t, s.url+"api/v1/runs/"+demo.RollUpPipeline+"/"+df, &mart)
	lastDone, triggered := last.finishedAt(t), mart.at(t, "triggered")
	if mart.State != "succeeded" || triggered.IsZero() || triggered.Before(lastDone) {
		t.Errorf("the mart is %s, triggered at %v; 23:00's run finished at %v", mart.State, triggered, lastDone)
	}
	if !slices.Contains(mart.path(), "blocked>waiting:upstream_recovered") {
		t.Errorf("the mart's transitions %v do not recover from the failed hour", mart.path())
	}
}

// observed reports whether an observation of upstream carries msg.
func (r apiRun) observed(upstream, msg string) bool {
	for _, o := range r.Observations {
		if o.Upstream == upstream && strings.Contains(o.Message, msg) {
			return true
		}
	}
	return false
}

// at is when the run first moved to state, zero if it never did.
func (r apiRun) at(t *testing.T, state string) time.Time {
	t.Helper()
	for _, tr := range r.Transitions {
		if tr.To == state {
			at, err := time.Parse(time.RFC3339, tr.At)
			if err != nil {
				t.Fatal(err)
			}
			return at
		}
	}
	return time.Time{}
}

func (r apiRun) finishedAt(t *testing.T) time.Time {
	t.Helper()
	if r.FinishedAt == nil {
		t.Fatalf("%s %s has not finished", r.Pipeline, r.LogicalDate)
	}
	at, err := time.Parse(time.RFC3339, *r.FinishedAt)
	if err != nil {
		t.Fatal(err)
	}
	return at
}

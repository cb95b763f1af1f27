package lineage

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/sekisho-dev/sekisho/config"
)

var gate = time.Date(2026, 11, 20, 17, 0, 0, 0, time.UTC)

func TestRunIDIsAStableUUIDv7(t *testing.T) {
	id := RunID("socrates_daily", "2026-11-21", 1, gate)
	if !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(id) {
		t.Fatalf("run id %s is not a UUID version 7", id)
	}
	// The first 48 bits are the gate in Unix milliseconds (RFC 9562 §5.7).
	ms := strings.ReplaceAll(id, "-", "")[:12]
	if want := hex48(gate.UnixMilli()); ms != want {
		t.Errorf("time bits %s, want %s", ms, want)
	}
	if again := RunID("socrates_daily", "2026-11-21", 1, gate); again != id {
		t.Errorf("same attempt, another id: %s, %s", id, again)
	}
	for _, other := range []string{RunID("socrates_daily", "2026-11-21", 2, gate), RunID("socrates_daily", "2026-11-22", 1, gate),
		RunID("kant_daily", "2026-11-21", 1, gate)} {
		if other == id {
			t.Errorf("another attempt with the same id %s", id)
		}
	}
}

func hex48(v int64) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 12)
	for i := 11; i >= 0; i-- {
		out[i] = digits[v&0xf]
		v >>= 4
	}
	return string(out)
}

// endpoint records requests and answers with the codes queued in codes
// (then 201).
type endpoint struct {
	srv   *httptest.Server
	mu    sync.Mutex
	codes []int
	reqs  []*http.Request
	body  []string
}

func newEndpoint(t *testing.T, codes ...int) *endpoint {
	e := &endpoint{codes: codes}
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.mu.Lock()
		defer e.mu.Unlock()
		raw, _ := io.ReadAll(r.Body)
		e.reqs = append(e.reqs, r)
		e.body = append(e.body, string(raw))
		code := http.StatusCreated
		if len(e.codes) > 0 {
			code, e.codes = e.codes[0], e.codes[1:]
		}
		w.WriteHeader(code)
		io.WriteString(w, `{"error":"bad event"}`)
	}))
	t.Cleanup(e.srv.Close)
	return e
}

func fast(o Options) Options {
	o.RetryWaitMin, o.RetryWaitMax = time.Millisecond, time.Millisecond
	return o
}

func event() RunEvent {
	return NewEvent(Facts{Namespace: "sekisho", Pipeline: "p", Date: "2026-11-21", Attempt: 1, GateAt: gate,
		Type: Start, At: gate})
}

func TestBearerAuthRetriesAndRefusals(t *testing.T) {
	ctx := context.Background()
	e := newEndpoint(t, 503, 429, 201, 400)
	c, err := New(config.Lineage{URL: e.srv.URL + "/api/v1/lineage", Auth: "bearer", Token: "s3cret-token"}, fast(Options{}))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Send(ctx, event()); err != nil {
		t.Fatalf("503 and 429 are retried: %v", err)
	}
	if len(e.reqs) != 3 {
		t.Fatalf("%d requests, want 3", len(e.reqs))
	}
	r := e.reqs[2]
	if r.Header.Get("Authorization") != "Bearer s3cret-token" || r.Header.Get("Content-Type") != "application/json" ||
		r.URL.Path != "/api/v1/lineage" || r.URL.RawQuery != "" {
		t.Fatalf("request %s %v", r.URL, r.Header)
	}
	var got RunEvent
	if err := json.Unmarshal([]byte(e.body[2]), &got); err != nil || got.EventType != Start || got.Job.Name != "p" {
		t.Fatalf("body %s", e.body[2])
	}
	err = c.Send(ctx, event())
	if !errors.Is(err, ErrRefused) || strings.Contains(err.Error(), "s3cret-token") {
		t.Fatalf("400: %v", err)
	}
}

func TestOutageIsNotARefusal(t *testing.T) {
	ctx := context.Background()
	e := newEndpoint(t, 500, 500, 500)
	c, _ := New(config.Lineage{URL: e.srv.URL}, fast(Options{Retries: 2}))
	err := c.Send(ctx, event())
	if err == nil || errors.Is(err, ErrRefused) {
		t.Fatalf("after the retries: %v", err)
	}
}

type tokens struct{ n int }

func (s *tokens) Token() (*oauth2.Token, error) {
	s.n++
	return &oauth2.Token{AccessToken: "ya29.test", TokenType: "Bearer", Expiry: time.Now().Add(time.Hour)}, nil
}

// auth: google sends an access token and a requestId derived from the run
// and the event type, so Google's Data Lineage API takes a retry as the
// same request.
func TestGoogleAuthAndRequestID(t *testing.T) {
	ctx := context.Background()
	e := newEndpoint(t, 503)
	url := e.srv.URL + "/v1/projects/p/locations/asia-northeast1:processOpenLineageRunEvent"
	c, err := New(config.Lineage{URL: url, Auth: "google"}, fast(Options{TokenSource: &tokens{}}))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Send(ctx, event()); err != nil {
		t.Fatal(err)
	}
	if len(e.reqs) != 2 {
		t.Fatalf("%d requests", len(e.reqs))
	}
	first, second := e.reqs[0].URL.Query().Get("requestId"), e.reqs[1].URL.Query().Get("requestId")
	if first == "" || first != second || len(first) != 36 || e.reqs[1].Header.Get("Authorization") != "Bearer ya29.test" {
		t.Fatalf("requestIds %q %q, auth %q", first, second, e.reqs[1].Header.Get("Authorization"))
	}
	if e.reqs[0].URL.Path != "/v1/projects/p/locations/asia-northeast1:processOpenLineageRunEvent" {
		t.Fatalf("path %s", e.reqs[0].URL.Path)
	}
	ev := event()
	ev.EventType = Complete
	if requestID(ev.Run.RunID, Complete) == first {
		t.Error("COMPLETE and START share a requestId: Google would drop the second")
	}
}

func TestInputsFollowTheNamingScheme(t *testing.T) {
	cfg := &config.Config{Connections: config.Connections{
		Glue:    &config.Glue{Region: "ap-northeast-1"},
		Trocco:  &config.Trocco{BaseURL: "https://in.trocco.io"},
		Airflow: map[string]*config.Airflow{"legacy": {BaseURL: "https://legacy-dot-asia-northeast1.composer.googleusercontent.com"}},
	}}
	p := &config.Pipeline{Name: "p", Upstreams: []config.Upstream{
		{Name: "a", Type: config.TypeGlueJob, JobName: "hegel-rds-export"},
		{Name: "b", Type: config.TypeGlueWorkflow, WorkflowName: "hegel"},
		{Name: "c", Type: config.TypeTroccoJob, JobDefinitionID: 55},
		{Name: "d", Type: config.TypeTroccoWorkflow, PipelineDefinitionID: 1234},
		{Name: "e", Type: config.TypeAirflowDag, Connection: "legacy", DagID: "export_done"},
		{Name: "f", Type: config.TypePipeline, Pipeline: "kant_daily"},
	}}
	want := []Dataset{
		{Namespace: "awsglue://ap-northeast-1", Name: "job/hegel-rds-export"},
		{Namespace: "awsglue://ap-northeast-1", Name: "workflow/hegel"},
		{Namespace: "trocco://in.trocco.io", Name: "job_definitions/55"},
		{Namespace: "trocco://in.trocco.io", Name: "pipeline_definitions/1234"},
		{Namespace: "airflow://legacy-dot-asia-northeast1.composer.googleusercontent.com", Name: "export_done"},
		{Namespace: "ns", Name: "kant_daily"},
	}
	got := Inputs("ns", cfg, p)
	for i := range want {
		if got[i].Namespace != want[i].Namespace || got[i].Name != want[i].Name || got[i].InputFacets != nil {
			t.Errorf("input %d = %v, want %v", i, got[i], want[i])
		}
	}
	// A config without connections (a test, a gate-only file) still names them.
	if d := Input("ns", &config.Config{}, p.Upstreams[0]); d.Namespace != "awsglue://default" {
		t.Errorf("no glue connection: %v", d)
	}
	// With the account, Glue jobs are named as OpenLineage names Glue
	// resources: the ARN split at the account (spec/Naming.md's AWS Glue
	// entry), so they join Glue's own lineage.
	cfg.Connections.Glue.AccountID = "123456789012"
	for i, want := range []Dataset{{Namespace: "arn:aws:glue:ap-northeast-1:123456789012", Name: "job/hegel-rds-export"},
		{Namespace: "arn:aws:glue:ap-northeast-1:123456789012", Name: "workflow/hegel"}} {
		if got := Input("ns", cfg, p.Upstreams[i]); got.Namespace != want.Namespace || got.Name != want.Name {
			t.Errorf("with account_id, input %d = %v, want %v", i, got, want)
		}
	}
}

// TestParentConf: the DAG run conf names sekisho's run as parent and root
// with the keys the Airflow OpenLineage provider reads, the run id being
// the one sekisho's own events carry.
func TestParentConf(t *testing.T) {
	gate := time.Date(2026, 11, 21, 2, 0, 0, 0, time.UTC)
	c := ParentConf("sekisho", "socrates_daily", "2026-11-21", 2, gate)
	id := RunID("socrates_daily", "2026-11-21", 2, gate)
	want := map[string]any{"parentRunId": id, "parentJobNamespace": "sekisho", "parentJobName": "socrates_daily",
		"rootParentRunId": id, "rootParentJobNamespace": "sekisho", "rootParentJobName": "socrates_daily"}
	if len(c) != len(want) {
		t.Fatalf("conf %v", c)
	}
	for k, v := range want {
		if c[k] != v {
			t.Errorf("%s = %v, want %v", k, c[k], v)
		}
	}
	ev := NewEvent(Facts{Namespace: "sekisho", Pipeline: "socrates_daily", Date: "2026-11-21", Attempt: 2, GateAt: gate, Type: Start, At: gate})
	if ev.Run.RunID != id || ev.Job.Namespace != "sekisho" || ev.Job.Name != "socrates_daily" {
		t.Errorf("the event names run %s job %s/%s; the conf names %s", ev.Run.RunID, ev.Job.Namespace, ev.Job.Name, id)
	}
}

// Without credentials an event waits (an error the caller retries, not a
// refusal that would skip it), and nothing is sent unauthenticated.
func TestGoogleWithoutCredentialsWaits(t *testing.T) {
	t.Setenv("GOOGLE_APPLICATION_CREDENTIALS", filepath.Join(t.TempDir(), "missing.json"))
	e := newEndpoint(t)
	c, err := New(config.Lineage{URL: e.srv.URL, Auth: "google"}, fast(Options{}))
	if err != nil {
		t.Fatal(err)
	}
	err = c.Send(context.Background(), event())
	if err == nil || errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "GOOGLE_APPLICATION_CREDENTIALS") {
		t.Fatalf("Send = %v", err)
	}
	if len(e.reqs) != 0 {
		t.Fatalf("%d requests went out without a token", len(e.reqs))
	}
}

package airflowapi_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"golang.org/x/oauth2"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/client/airflowapi"
	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/sim/airflowsim"
)

var t0 = time.Date(2025, 4, 1, 17, 0, 0, 0, time.UTC)

const (
	password = "s3cret-pa55"
	token    = "ya29.very-secret-token"
)

type env struct {
	sim   *airflowsim.Server
	clock *clockwork.FakeClock
	url   string
	hs    *httptest.Server
}

func newEnv(t *testing.T, opts airflowsim.Options, wrap func(http.Handler) http.Handler) *env {
	t.Helper()
	clk := clockwork.NewFakeClockAt(t0)
	opts.Clock = clk
	s := airflowsim.MustNew(opts)
	var h http.Handler = s
	if wrap != nil {
		h = wrap(s)
	}
	hs := httptest.NewServer(h)
	t.Cleanup(hs.Close)
	t.Cleanup(func() {
		if bad := s.InvalidRequests(); len(bad) > 0 {
			t.Errorf("requests broke the OpenAPI document: %+v", bad)
		}
		if bad := s.InvalidResponses(); len(bad) > 0 {
			t.Errorf("simulator answers broke the OpenAPI document: %+v", bad)
		}
	})
	return &env{sim: s, clock: clk, url: hs.URL, hs: hs}
}

func (e *env) client(t *testing.T, cfg config.Airflow, opts ...airflowapi.Option) *airflowapi.Client {
	t.Helper()
	cfg.BaseURL = e.url
	if cfg.Name == "" {
		cfg.Name = "composer-test"
	}
	opts = append([]airflowapi.Option{airflowapi.WithBackoff(time.Millisecond, 2*time.Millisecond, 3),
		airflowapi.WithTimeout(2 * time.Second)}, opts...)
	c, err := airflowapi.New(&cfg, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestRoundTrip(t *testing.T) {
	for _, v := range []string{airflowapi.V1, airflowapi.V2} {
		t.Run(v, func(t *testing.T) {
			ctx := context.Background()
			e := newEnv(t, airflowsim.Options{Auth: airflowsim.AuthBasic, Username: "sekisho", Password: password}, nil)
			e.sim.AddDAG("main", airflowsim.DAG{Paused: true, Duration: time.Hour})
			c := e.client(t, config.Airflow{APIVersion: v, Auth: "basic", Username: "sekisho", Password: password})

			d, err := c.GetDag(ctx, "main")
			if err != nil || !d.IsPaused {
				t.Fatalf("GetDag = %+v, %v", d, err)
			}
			if d, err = c.Unpause(ctx, "main"); err != nil || d.IsPaused || e.sim.Paused("main") {
				t.Fatalf("Unpause = %+v, %v", d, err)
			}
			res, err := c.TriggerDagRun(ctx, "main", "sekisho__p__2025-04-02__1", map[string]any{"d": "2025-04-02"}, "note", sekisho.DagDates{})
			if err != nil || res.Existed || res.Run.DagRunID != "sekisho__p__2025-04-02__1" || res.Run.State != "queued" {
				t.Fatalf("Trigger = %+v, %v", res, err)
			}
			if res, err = c.TriggerDagRun(ctx, "main", "sekisho__p__2025-04-02__1", nil, "note", sekisho.DagDates{}); err != nil || !res.Existed {
				t.Fatalf("second Trigger = %+v, %v", res, err)
			}
			e.clock.Advance(61 * time.Minute)
			run, err := c.GetDagRun(ctx, "main", "sekisho__p__2025-04-02__1")
			if err != nil || run.State != "success" || !run.StartDate.Equal(t0) || !run.EndDate.Equal(t0.Add(time.Hour)) {
				t.Fatalf("GetDagRun = %+v, %v", run, err)
			}
			if run.Conf["d"] != "2025-04-02" || run.Note != "note" {
				t.Fatalf("conf/note lost: %+v", run)
			}
			tr := e.sim.Triggers()
			if len(tr) != 2 || tr[0].Status != 200 || tr[1].Status != 409 {
				t.Fatalf("triggers: %+v", tr)
			}
		})
	}
}

func TestListDagRunsIncludesQueued(t *testing.T) {
	for _, v := range []string{airflowapi.V1, airflowapi.V2} {
		t.Run(v, func(t *testing.T) {
			e := newEnv(t, airflowsim.Options{}, nil)
			e.sim.AddDAG("up", airflowsim.DAG{Duration: time.Hour})
			for i := range 5 { // more than a page
				e.sim.AddRun("up", "scheduled__"+string(rune('a'+i)), t0.Add(-time.Duration(5-i)*time.Hour), airflowsim.Plan{})
			}
			e.sim.AddRun("up", "scheduled__yesterday", t0.Add(-30*time.Hour), airflowsim.Plan{})
			e.sim.SetPaused("up", true)
			e.sim.AddRun("up", "scheduled__waiting", t0, airflowsim.Plan{})
			c := e.client(t, config.Airflow{APIVersion: v, Auth: "none"}, airflowapi.WithPageSize(2))
			runs, err := c.ListDagRuns(context.Background(), "up", t0.Add(-6*time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]airflowapi.DagRun{}
			for _, r := range runs {
				got[r.DagRunID] = r
			}
			if len(got) != 6 || len(runs) != 6 {
				t.Fatalf("got %d runs (%d distinct), want 5 started + 1 queued: %v", len(runs), len(got), got)
			}
			q := got["scheduled__waiting"]
			if q.State != "queued" || !q.StartDate.IsZero() || !q.Since().Equal(t0) {
				t.Fatalf("queued run: %+v since %v", q, q.Since())
			}
		})
	}
}

func TestPermanentErrorsAreNotRetried(t *testing.T) {
	tests := []struct {
		name     string
		version  string
		status   int // forced by sim.Reject; 0 = wrong password
		notFound bool
		want     string
	}{
		{"401 v1", "v1", 0, false, "401 Unauthorized"},
		{"401 v2", "v2", 0, false, "401 Unauthorized"},
		{"403 v1", "v1", 403, false, "roles/composer.user"},
		{"404 v2", "v2", 404, true, "404 Not Found"},
		{"400 v1", "v1", 400, false, "400 Bad Request"},
		{"422 v2", "v2", 422, false, "path.dag_id: rejected by the simulator"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, airflowsim.Options{Auth: airflowsim.AuthBasic, Username: "sekisho", Password: password}, nil)
			e.sim.AddDAG("main", airflowsim.DAG{})
			pw := password
			if tt.status == 0 {
				pw = "wrong-" + password
			} else {
				e.sim.Reject("main", tt.status)
			}
			c := e.client(t, config.Airflow{APIVersion: tt.version, Auth: "basic", Username: "sekisho", Password: config.Secret(pw)})
			_, err := c.TriggerDagRun(context.Background(), "main", "r1", nil, "", sekisho.DagDates{})
			if !errors.Is(err, sekisho.ErrRejected) {
				t.Fatalf("err = %v, want ErrRejected", err)
			}
			if errors.Is(err, sekisho.ErrNotFound) != tt.notFound {
				t.Fatalf("ErrNotFound = %v, want %v", !tt.notFound, tt.notFound)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err %q does not contain %q", err, tt.want)
			}
			if strings.Contains(err.Error(), password) {
				t.Fatalf("password leaked: %q", err)
			}
			if n := e.sim.Requests()["total"]; n != 1 {
				t.Fatalf("%d requests, want 1 (no retry)", n)
			}
		})
	}
}

// failFirst answers the first n requests with status, then passes through.
func failFirst(n int32, status int, counter *atomic.Int32) func(http.Handler) http.Handler {
	return func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if counter.Add(1) <= n {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(status)
				_, _ = w.Write([]byte(`{"detail":"try later","status":503,"title":"Service Unavailable","type":"about:blank"}`))
				return
			}
			h.ServeHTTP(w, r)
		})
	}
}

func TestTransientErrorsAreRetried(t *testing.T) {
	tests := []struct {
		name      string
		fail      int32
		status    int
		wantErr   bool
		wantCalls int32
	}{
		{"503 twice then ok", 2, 503, false, 3},
		{"429 once then ok", 1, 429, false, 2},
		{"500 always", 100, 500, true, 4}, // 1 + 3 retries
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var calls atomic.Int32
			e := newEnv(t, airflowsim.Options{}, failFirst(tt.fail, tt.status, &calls))
			e.sim.AddDAG("main", airflowsim.DAG{})
			c := e.client(t, config.Airflow{APIVersion: "v1", Auth: "none"})
			_, err := c.GetDag(context.Background(), "main")
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if err != nil && errors.Is(err, sekisho.ErrRejected) {
				t.Fatalf("a 5xx must stay transient: %v", err)
			}
			if calls.Load() != tt.wantCalls {
				t.Fatalf("%d calls, want %d", calls.Load(), tt.wantCalls)
			}
		})
	}
}

func TestTimeoutIsRetried(t *testing.T) {
	var calls atomic.Int32
	slowFirst := func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if calls.Add(1) == 1 {
				select {
				case <-r.Context().Done():
				case <-time.After(2 * time.Second):
				}
				return
			}
			h.ServeHTTP(w, r)
		})
	}
	e := newEnv(t, airflowsim.Options{}, slowFirst)
	e.sim.AddDAG("main", airflowsim.DAG{})
	c := e.client(t, config.Airflow{APIVersion: "v2", Auth: "none"}, airflowapi.WithTimeout(50*time.Millisecond))
	if _, err := c.GetDag(context.Background(), "main"); err != nil {
		t.Fatalf("GetDag after a timeout: %v", err)
	}
	if calls.Load() != 2 {
		t.Fatalf("%d calls, want 2", calls.Load())
	}
}

func TestGoogleAuthSendsBearerToken(t *testing.T) {
	var fetched atomic.Int32
	ts := tokenSourceFunc(func() (*oauth2.Token, error) {
		fetched.Add(1)
		return &oauth2.Token{AccessToken: token, TokenType: "Bearer", Expiry: time.Now().Add(time.Hour)}, nil
	})
	var seen atomic.Value
	record := func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			seen.Store(r.Header.Get("Authorization"))
			h.ServeHTTP(w, r)
		})
	}
	e := newEnv(t, airflowsim.Options{Auth: airflowsim.AuthBearer, Tokens: []string{token}}, record)
	e.sim.AddDAG("main", airflowsim.DAG{})
	c := e.client(t, config.Airflow{APIVersion: "v1", Auth: "google"}, airflowapi.WithTokenSource(ts))
	for range 3 {
		if _, err := c.GetDag(context.Background(), "main"); err != nil {
			t.Fatal(err)
		}
	}
	if got := seen.Load(); got != "Bearer "+token {
		t.Fatalf("Authorization = %q", got)
	}
	if fetched.Load() != 1 {
		t.Fatalf("token fetched %d times, want 1 (cached)", fetched.Load())
	}
}

type tokenSourceFunc func() (*oauth2.Token, error)

func (f tokenSourceFunc) Token() (*oauth2.Token, error) { return f() }

// TestNoCredentialsInErrors uses a server that echoes the Authorization
// header back in its error detail, the worst case.
func TestNoCredentialsInErrors(t *testing.T) {
	echo := func(http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusForbidden)
			u, p, _ := r.BasicAuth()
			_, _ = w.Write([]byte(`{"detail":"denied for ` + r.Header.Get("Authorization") + " " + u + ":" + p + `"}`))
		})
	}
	cases := []struct {
		name   string
		cfg    config.Airflow
		opts   []airflowapi.Option
		secret string
	}{
		{"basic", config.Airflow{Auth: "basic", Username: "sekisho", Password: password}, nil, password},
		{"bearer", config.Airflow{Auth: "bearer", Token: token}, nil, token},
		{"google", config.Airflow{Auth: "google"}, []airflowapi.Option{airflowapi.WithTokenSource(
			oauth2.StaticTokenSource(&oauth2.Token{AccessToken: token}))}, token},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, airflowsim.Options{}, echo)
			c := e.client(t, tc.cfg, tc.opts...)
			_, err := c.TriggerDagRun(context.Background(), "main", "r1", nil, "", sekisho.DagDates{})
			if err == nil || !errors.Is(err, sekisho.ErrRejected) {
				t.Fatalf("err = %v", err)
			}
			if strings.Contains(err.Error(), tc.secret) {
				t.Fatalf("secret in error: %q", err)
			}
			if !strings.Contains(err.Error(), "[redacted]") {
				t.Fatalf("echoed secret was not redacted: %q", err)
			}
		})
	}
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  config.Airflow
		want string
	}{
		{"bad version", config.Airflow{BaseURL: "https://x", APIVersion: "v3", Auth: "none"}, "api_version"},
		{"relative url", config.Airflow{BaseURL: "composer", Auth: "none"}, "base_url"},
		{"bad auth", config.Airflow{BaseURL: "https://x", Auth: "kerberos"}, "auth"},
		{"bearer without token", config.Airflow{BaseURL: "https://x", Auth: "bearer"}, "token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := airflowapi.New(&tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tt.want)
			}
		})
	}
}

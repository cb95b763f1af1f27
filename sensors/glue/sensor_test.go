package glue_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/sensors/glue"
	"github.com/sekisho-dev/sekisho/sim/gluesim"
)

const (
	region    = "ap-northeast-1"
	accessKey = "AKIDSEKISHOTEST"
	secretKey = "sekisho-test-secret"
)

var t0 = time.Date(2025, 3, 10, 2, 0, 0, 0, time.UTC)

type env struct {
	sim    *gluesim.Sim
	clock  *clockwork.FakeClock
	sensor *glue.Sensor
	logs   *bytes.Buffer
}

// isolateAWS keeps the developer's ~/.aws and AWS_* variables out of tests.
func isolateAWS(t *testing.T) {
	empty := filepath.Join(t.TempDir(), "empty")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"AWS_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID",
		"AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_GLUE", "AWS_RETRY_MODE", "AWS_MAX_ATTEMPTS"} {
		t.Setenv(k, "")
	}
	t.Setenv("AWS_CONFIG_FILE", empty)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", empty)
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
}

func newEnv(t *testing.T, opts ...glue.Option) *env {
	return newEnvWith(t, clockwork.NewFakeClockAt(t0), nil, opts...)
}

// newEnvWith is newEnv on a given clock, with extra simulator options.
func newEnvWith(t *testing.T, clock *clockwork.FakeClock, simOpts []gluesim.Option, opts ...glue.Option) *env {
	t.Helper()
	isolateAWS(t)
	sim := gluesim.New(clock, append([]gluesim.Option{gluesim.WithRegion(region), gluesim.WithCredentials(accessKey, secretKey)}, simOpts...)...)
	srv := sim.NewServer()
	t.Cleanup(srv.Close)
	logs := &bytes.Buffer{}
	base := []glue.Option{
		glue.WithStaticCredentials(accessKey, secretKey),
		glue.WithRetry(10, 2*time.Millisecond),
		glue.WithLogger(slog.New(slog.NewTextHandler(logs, nil))),
	}
	s, err := glue.New(context.Background(), &config.Glue{Region: region, Endpoint: srv.URL}, append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return &env{sim: sim, clock: clock, sensor: s, logs: logs}
}

func job(name string) sekisho.Resource { return sekisho.Resource{Type: glue.TypeJob, ID: name} }
func workflow(name string) sekisho.Resource {
	return sekisho.Resource{Type: glue.TypeWorkflow, ID: name}
}

func TestJobRunStates(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		state    string
		want     sekisho.JobState
		finished bool
	}{
		{gluesim.Succeeded, sekisho.JobSucceeded, true},
		{gluesim.Failed, sekisho.JobFailed, true},
		{gluesim.Timeout, sekisho.JobFailed, true},
		{gluesim.Error, sekisho.JobFailed, true},
		{gluesim.Stopped, sekisho.JobFailed, true},
		{gluesim.Expired, sekisho.JobFailed, true},
		{gluesim.Starting, sekisho.JobRunning, false},
		{gluesim.Running, sekisho.JobRunning, false},
		{gluesim.Stopping, sekisho.JobRunning, false},
		{gluesim.Waiting, sekisho.JobRunning, false},
		{"HIBERNATING", sekisho.JobRunning, false},
	}
	start := t0.Add(-time.Hour).Add(250 * time.Millisecond)
	end := t0.Add(-10 * time.Minute)
	for _, tt := range tests {
		t.Run(tt.state, func(t *testing.T) {
			name := "job-" + strings.ToLower(tt.state)
			id := e.sim.StartRun(name, start)
			if err := e.sim.FinishRun(name, id, tt.state, end, "msg of "+tt.state); err != nil {
				t.Fatal(err)
			}
			runs, err := e.sensor.Runs(context.Background(), job(name), t0.Add(-2*time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			if len(runs) != 1 {
				t.Fatalf("got %d runs, want 1", len(runs))
			}
			r := runs[0]
			if r.State != tt.want || r.ExternalID != id || !r.StartedAt.Equal(start) {
				t.Errorf("got %+v, want state %s id %s started %v", r, tt.want, id, start)
			}
			if tt.finished {
				if !r.FinishedAt.Equal(end) || r.Message != "msg of "+tt.state {
					t.Errorf("finished %v message %q, want %v and the message", r.FinishedAt, r.Message, end)
				}
			} else if !r.FinishedAt.IsZero() {
				t.Errorf("a %s run has FinishedAt %v", tt.state, r.FinishedAt)
			}
		})
	}
}

func TestUnknownStateLoggedOnce(t *testing.T) {
	e := newEnv(t)
	id := e.sim.StartRun("odd", t0.Add(-time.Hour))
	if err := e.sim.FinishRun("odd", id, "QUANTUM", t0.Add(-time.Minute), ""); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := e.sensor.Runs(context.Background(), job("odd"), t0.Add(-2*time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	if n := strings.Count(e.logs.String(), "QUANTUM"); n != 1 {
		t.Errorf("unknown state logged %d times, want once:\n%s", n, e.logs)
	}
}

func TestRunFollowsTheClock(t *testing.T) {
	e := newEnv(t)
	e.sim.PlanRun("etl", gluesim.Run{Start: t0.Add(time.Hour), Duration: 30 * time.Minute,
		Outcome: gluesim.Failed, Message: "OutOfMemoryError"})
	steps := []struct {
		advance time.Duration
		want    sekisho.JobState // "" for no run yet
	}{
		{0, ""},
		{time.Hour, sekisho.JobRunning},
		{29 * time.Minute, sekisho.JobRunning},
		{time.Minute, sekisho.JobFailed},
	}
	for i, st := range steps {
		e.clock.Advance(st.advance)
		runs, err := e.sensor.Runs(context.Background(), job("etl"), t0)
		if err != nil {
			t.Fatal(err)
		}
		got := sekisho.JobState("")
		if len(runs) == 1 {
			got = runs[0].State
		}
		if len(runs) > 1 || got != st.want {
			t.Fatalf("step %d: got %v, want %q", i, runs, st.want)
		}
		if got == sekisho.JobFailed && runs[0].Message != "OutOfMemoryError" {
			t.Errorf("message %q", runs[0].Message)
		}
	}
}

func TestJobPagingStopsAtWindow(t *testing.T) {
	e := newEnv(t, glue.WithPageSize(5))
	for d := range 30 { // one run a day at 01:00, newest yesterday
		e.sim.PlanRun("daily", gluesim.Run{Start: t0.Add(-time.Hour - time.Duration(d)*24*time.Hour), Duration: 20 * time.Minute})
	}
	tests := []struct {
		name      string
		since     time.Time
		wantRuns  int
		wantPages int
	}{
		{"window inside the first page", t0.Add(-3 * 24 * time.Hour), 3, 1},
		{"window at a page boundary", t0.Add(-5 * 24 * time.Hour), 5, 2},
		{"window on the third page", t0.Add(-12 * 24 * time.Hour), 12, 3},
		{"window before every run", t0.Add(-100 * 24 * time.Hour), 30, 6},
		{"window after every run", t0, 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.sim.ResetRequests()
			runs, err := e.sensor.Runs(context.Background(), job("daily"), tt.since)
			if err != nil {
				t.Fatal(err)
			}
			if len(runs) != tt.wantRuns {
				t.Errorf("got %d runs, want %d", len(runs), tt.wantRuns)
			}
			for _, r := range runs {
				if r.StartedAt.Before(tt.since) {
					t.Errorf("run %s started %v, before the window %v", r.ExternalID, r.StartedAt, tt.since)
				}
			}
			if got := e.sim.Requests().ByTarget["GetJobRuns"]; got != tt.wantPages {
				t.Errorf("%d requests, want %d", got, tt.wantPages)
			}
		})
	}
}

func TestWorkflowRunStates(t *testing.T) {
	e := newEnv(t)
	start := t0.Add(-2 * time.Hour)
	tests := []struct {
		name string
		run  gluesim.WorkflowRun
		want sekisho.JobState
	}{
		{"completed clean", gluesim.WorkflowRun{Actions: 4}, sekisho.JobSucceeded},
		{"completed with a failed action", gluesim.WorkflowRun{Actions: 4, Failed: 1}, sekisho.JobFailed},
		{"completed with a timed out action", gluesim.WorkflowRun{Actions: 4, Timeout: 1}, sekisho.JobFailed},
		{"completed with an errored action", gluesim.WorkflowRun{Actions: 4, Errored: 1}, sekisho.JobFailed},
		{"completed with a stopped action", gluesim.WorkflowRun{Actions: 4, Stopped: 1}, sekisho.JobFailed},
		{"stopped", gluesim.WorkflowRun{Actions: 4, Status: gluesim.WorkflowStopped}, sekisho.JobFailed},
		{"error", gluesim.WorkflowRun{Actions: 4, Status: gluesim.WorkflowError, Message: "boom"}, sekisho.JobFailed},
		{"stopping", gluesim.WorkflowRun{Actions: 4, Status: gluesim.WorkflowStopping}, sekisho.JobRunning},
		{"still running", gluesim.WorkflowRun{Actions: 4, Duration: 5 * time.Hour}, sekisho.JobRunning},
		{"unknown status", gluesim.WorkflowRun{Actions: 4, Status: "PONDERING"}, sekisho.JobRunning},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name := "wf" + string(rune('a'+i))
			r := tt.run
			r.Start = start
			if r.Duration == 0 {
				r.Duration = time.Hour
			}
			id := e.sim.PlanWorkflowRun(name, r)
			runs, err := e.sensor.Runs(context.Background(), workflow(name), t0.Add(-3*time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			if len(runs) != 1 || runs[0].State != tt.want || runs[0].ExternalID != id {
				t.Fatalf("got %+v, want one run %s in state %s", runs, id, tt.want)
			}
			if tt.want == sekisho.JobFailed && runs[0].Message == "" {
				t.Error("a failed workflow run carries no message")
			}
		})
	}
}

func TestNotFound(t *testing.T) {
	e := newEnv(t)
	for _, r := range []sekisho.Resource{job("nope"), workflow("nope")} {
		_, err := e.sensor.Runs(context.Background(), r, t0)
		if !errors.Is(err, sekisho.ErrNotFound) {
			t.Errorf("%s: got %v, want ErrNotFound", r, err)
		}
	}
	if got := e.sim.Requests().Total; got != 2 {
		t.Errorf("not found was retried: %d requests, want 2", got)
	}
}

func TestUnsupportedResourceType(t *testing.T) {
	e := newEnv(t)
	if _, err := e.sensor.Runs(context.Background(), sekisho.Resource{Type: "trocco_job", ID: "1"}, t0); err == nil {
		t.Error("a trocco resource was accepted")
	}
}

func TestWrongCredentialsAreRejected(t *testing.T) {
	isolateAWS(t)
	clock := clockwork.NewFakeClockAt(t0)
	sim := gluesim.New(clock, gluesim.WithCredentials(accessKey, secretKey))
	sim.AddJob("etl")
	srv := sim.NewServer()
	defer srv.Close()
	tests := []struct{ name, key, secret, want string }{
		{"unknown key", "AKIDSOMEONEELSE", secretKey, "UnrecognizedClientException"},
		{"wrong secret", accessKey, "not-the-secret", "InvalidSignatureException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := glue.New(context.Background(), &config.Glue{Region: region, Endpoint: srv.URL},
				glue.WithStaticCredentials(tt.key, tt.secret), glue.WithRetry(3, time.Millisecond))
			if err != nil {
				t.Fatal(err)
			}
			_, err = s.Runs(context.Background(), job("etl"), t0)
			if err == nil || !strings.Contains(err.Error(), tt.want) || errors.Is(err, sekisho.ErrNotFound) {
				t.Fatalf("got %v, want %s", err, tt.want)
			}
			if strings.Contains(err.Error(), tt.secret) {
				t.Error("the error shows the secret key")
			}
		})
	}
}

func TestNewNeedsRegion(t *testing.T) {
	isolateAWS(t)
	if _, err := glue.New(context.Background(), &config.Glue{}, glue.WithStaticCredentials("a", "b")); err == nil ||
		!strings.Contains(err.Error(), "region") {
		t.Errorf("got %v, want an error naming the region", err)
	}
	if _, err := glue.New(context.Background(), nil); err == nil {
		t.Error("nil config accepted")
	}
}

// TestFaultsNeverFailAnUpstream runs many checks against an endpoint that
// answers 30% of requests with 500s, throttling or truncated bodies: every
// check must either report the true state or return an error, never a
// false failed.
func TestFaultsNeverFailAnUpstream(t *testing.T) {
	e := newEnv(t)
	want := map[string]sekisho.JobState{}
	for i := range 20 {
		name := "job" + string(rune('a'+i))
		outcome, state := gluesim.Succeeded, sekisho.JobSucceeded
		switch i % 3 {
		case 1:
			outcome, state = gluesim.Failed, sekisho.JobFailed
		case 2:
			outcome, state = "", sekisho.JobRunning
		}
		if outcome == "" {
			e.sim.StartRun(name, t0.Add(-time.Hour))
		} else {
			e.sim.PlanRun(name, gluesim.Run{Start: t0.Add(-time.Hour), Duration: 30 * time.Minute, Outcome: outcome})
		}
		want[name] = state
	}
	e.sim.SetFaults(gluesim.Faults{ErrorRate: 0.1, ThrottleRate: 0.1, MalformedRate: 0.1, Seed: 42})
	checks, errs := 0, 0
	for range 10 {
		for name, w := range want {
			checks++
			runs, err := e.sensor.Runs(context.Background(), job(name), t0.Add(-2*time.Hour))
			if err != nil {
				errs++
				if errors.Is(err, sekisho.ErrNotFound) {
					t.Fatalf("%s: a fault became not found: %v", name, err)
				}
				continue
			}
			if len(runs) != 1 || runs[0].State != w {
				t.Fatalf("%s: got %+v, want %s", name, runs, w)
			}
		}
	}
	st := e.sim.Requests()
	if st.Faults < checks/5 {
		t.Errorf("only %d faults injected in %d requests", st.Faults, st.Total)
	}
	if errs > 0 {
		t.Errorf("%d of %d checks failed despite 10 attempts", errs, checks)
	}
	t.Logf("%d checks, %d requests, %d faults, %d errors", checks, st.Total, st.Faults, errs)
}

// TestDefaultClient checks the production construction (adaptive retryer,
// default page size) against the simulator.
func TestDefaultClient(t *testing.T) {
	isolateAWS(t)
	sim := gluesim.New(clockwork.NewFakeClockAt(t0))
	sim.PlanRun("etl", gluesim.Run{Start: t0.Add(-time.Hour), Duration: time.Minute})
	srv := sim.NewServer()
	defer srv.Close()
	s, err := glue.New(context.Background(), &config.Glue{Region: region, Endpoint: srv.URL},
		glue.WithStaticCredentials(accessKey, secretKey))
	if err != nil {
		t.Fatal(err)
	}
	runs, err := s.Runs(context.Background(), job("etl"), t0.Add(-2*time.Hour))
	if err != nil || len(runs) != 1 || runs[0].State != sekisho.JobSucceeded {
		t.Fatalf("got %+v %v", runs, err)
	}
}

// BenchmarkRuns measures one check of a daily job through the real SDK and
// the simulator on loopback.
func BenchmarkRuns(b *testing.B) {
	sim := gluesim.New(clockwork.NewFakeClockAt(t0))
	for d := range 30 {
		sim.PlanRun("daily", gluesim.Run{Start: t0.Add(-time.Hour - time.Duration(d)*24*time.Hour), Duration: time.Minute})
	}
	srv := sim.NewServer()
	defer srv.Close()
	s, err := glue.New(context.Background(), &config.Glue{Region: region, Endpoint: srv.URL},
		glue.WithStaticCredentials(accessKey, secretKey), glue.WithRetry(3, time.Millisecond))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Runs(context.Background(), job("daily"), t0.Add(-2*time.Hour)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(sim.Requests().Total)/float64(b.N), "requests/check")
}

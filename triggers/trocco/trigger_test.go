package trocco_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/client/troccoapi"
	"github.com/sekisho-dev/sekisho/sim/troccosim"
	"github.com/sekisho-dev/sekisho/tracing"
	"github.com/sekisho-dev/sekisho/triggers/trocco"
)

const key = "trigger-test-key"

type ledger struct {
	mu      sync.Mutex
	learned map[string][]string
}

func (l *ledger) LearnJob(_ context.Context, res, id string, _ time.Time) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.learned[res] = append(l.learned[res], id)
	return nil
}

func (l *ledger) LearnedJobs(_ context.Context, res string, _ time.Time) ([]string, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.learned[res], nil
}

func setup(t *testing.T, apiKey string) (*troccosim.Sim, *clockwork.FakeClock, *ledger, *trocco.Trigger) {
	t.Helper()
	clk := clockwork.NewFakeClockAt(time.Date(2026, 3, 2, 2, 0, 5, 0, time.UTC))
	sim := troccosim.New(troccosim.Options{Token: key, Clock: clk})
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	api, err := troccoapi.New(srv.URL, apiKey, troccoapi.WithClock(clk), troccoapi.WithRetry(1, time.Millisecond, time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	l := &ledger{learned: map[string][]string{}}
	return sim, clk, l, trocco.New(api, l, trocco.WithClock(clk))
}

func request(defID int64) sekisho.TriggerRequest {
	tokyo, _ := time.LoadLocation("Asia/Tokyo")
	return sekisho.TriggerRequest{Pipeline: "ads_daily", LogicalDate: "2026-03-02", Attempt: 1,
		GateAt: time.Date(2026, 3, 2, 2, 0, 0, 0, time.UTC), TimeZone: tokyo,
		Spec: sekisho.TriggerSpec{Type: "trocco_workflow", PipelineDefinitionID: defID}}
}

func TestStartAndFollow(t *testing.T) {
	for _, final := range []struct {
		status string
		want   sekisho.JobState
	}{{"succeeded", sekisho.JobSucceeded}, {"error", sekisho.JobFailed}, {"canceled", sekisho.JobFailed}} {
		t.Run(final.status, func(t *testing.T) {
			sim, clk, l, trig := setup(t, key)
			sim.DefineWorkflow(1234, troccosim.Outcome{RunFor: 45 * time.Minute, Status: final.status})
			ctx := context.Background()
			req := request(1234)
			run, err := trig.Start(ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			jobs := sim.PipelineJobs(1234)
			if len(jobs) != 1 || run.ExternalID != itoa(jobs[0].ID) || run.State != sekisho.JobRunning {
				t.Fatalf("run %+v, sim %+v", run, jobs)
			}
			if jobs[0].ContextTime != "2026-03-02 11:00:00" || jobs[0].TimeZone != "Asia/Tokyo" {
				t.Errorf("context_time %q time_zone %q: want the gate in the pipeline's zone", jobs[0].ContextTime, jobs[0].TimeZone)
			}
			// The POST names its attempt (issue 28): whoever reads TROCCO's
			// side of the wire can tell which attempt asked for the job.
			if got, want := jobs[0].Sender.Traceparent, tracing.Traceparent(req.Pipeline, req.LogicalDate, req.Attempt); got == "" || got[:35] != want[:35] {
				t.Errorf("traceparent %q, want the trace of %s %s attempt %d (%s)", got, req.Pipeline, req.LogicalDate, req.Attempt, want)
			}
			if got := l.learned["trocco_workflow:1234"]; len(got) != 1 || got[0] != run.ExternalID {
				t.Errorf("ledger %v", l.learned)
			}
			clk.Advance(20 * time.Minute)
			st, err := trig.Status(ctx, req, run.ExternalID)
			if err != nil || st.State != sekisho.JobRunning || !st.FinishedAt.IsZero() {
				t.Fatalf("midway %+v %v", st, err)
			}
			clk.Advance(30 * time.Minute)
			st, err = trig.Status(ctx, req, run.ExternalID)
			if err != nil || st.State != final.want || st.FinishedAt.IsZero() {
				t.Fatalf("end %+v %v", st, err)
			}
			if final.want == sekisho.JobFailed && st.Message == "" {
				t.Error("a failed job needs a message")
			}
		})
	}
}

func TestStartRejected(t *testing.T) {
	tests := []struct {
		name     string
		apiKey   string
		defID    int64
		notFound bool
	}{
		{"unknown workflow", key, 999, true},
		{"no workflow id", key, 0, false},
		{"wrong api key", "not-the-key", 1234, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sim, _, l, trig := setup(t, tt.apiKey)
			sim.DefineWorkflow(1234, troccosim.Outcome{RunFor: time.Minute, Status: "succeeded"})
			_, err := trig.Start(context.Background(), request(tt.defID))
			if !errors.Is(err, sekisho.ErrRejected) || errors.Is(err, sekisho.ErrNotFound) != tt.notFound {
				t.Fatalf("err %v", err)
			}
			if len(sim.PipelineJobs(1234)) != 0 || len(l.learned) != 0 {
				t.Error("a rejected start created or recorded a job")
			}
		})
	}
}

func TestStatusOfUnknownJob(t *testing.T) {
	_, _, _, trig := setup(t, key)
	for _, id := range []string{"424242", "abc"} {
		if _, err := trig.Status(context.Background(), request(1234), id); !errors.Is(err, sekisho.ErrNotFound) {
			t.Errorf("%s: %v", id, err)
		}
	}
	if trig.Idempotent() {
		t.Error("TROCCO has no idempotency key")
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestLandsWithin: a restarted daemon waits one request timeout of the
// client before it calls a dead daemon's POST unknown (issue 28).
func TestLandsWithin(t *testing.T) {
	api, err := troccoapi.New("https://trocco.io", key, troccoapi.WithTimeout(7*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	var trig sekisho.Trigger = trocco.New(api, nil)
	b, ok := trig.(sekisho.LandingBound)
	if !ok || trig.Idempotent() {
		t.Fatal("the TROCCO trigger has no idempotency key and must bound how long its request may take to land")
	}
	if got := b.LandsWithin(); got != 7*time.Second {
		t.Errorf("LandsWithin = %s, want the client's timeout 7s", got)
	}
	def, _ := troccoapi.New("https://trocco.io", key)
	if got := trocco.New(def, nil).LandsWithin(); got != troccoapi.DefaultTimeout {
		t.Errorf("LandsWithin = %s, want DefaultTimeout", got)
	}
}

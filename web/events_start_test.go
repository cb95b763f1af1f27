package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/client/troccoapi"
	"github.com/sekisho-dev/sekisho/config"
	sensorglue "github.com/sekisho-dev/sekisho/sensors/glue"
	sensortrocco "github.com/sekisho-dev/sekisho/sensors/trocco"
	"github.com/sekisho-dev/sekisho/sim/gluesim"
	"github.com/sekisho-dev/sekisho/sim/troccosim"
	"github.com/sekisho-dev/sekisho/web"
)

type runRecorder struct {
	mu   sync.Mutex
	runs []sekisho.JobRun
}

func (r *runRecorder) Ingest(_ context.Context, _ sekisho.Resource, run sekisho.JobRun) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.runs = append(r.runs, run)
	return nil
}
func (r *runRecorder) Learn(context.Context, sekisho.Resource, string) error { return nil }

// postEvent posts a JSON event with the write token.
func postEvent(h http.Handler, path, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest("POST", path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+writeToken)
	req.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

// TestGlueEventCountsFromItsStart: a Glue run of 23:30–00:30 reported by
// EventBridge at 00:30 started in the old day, so it must not open the new
// day's gate (window 00:00); it still counts for the old day's.
func TestGlueEventCountsFromItsStart(t *testing.T) {
	empty := filepath.Join(t.TempDir(), "empty")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"AWS_PROFILE", "AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"} {
		t.Setenv(k, "")
	}
	t.Setenv("AWS_CONFIG_FILE", empty)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", empty)
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")

	newDay := time.Date(2026, 11, 4, 0, 0, 0, 0, tokyo)
	clk := clockwork.NewFakeClockAt(newDay.Add(30 * time.Minute))
	sim := gluesim.New(clk)
	srv := sim.NewServer()
	t.Cleanup(srv.Close)
	runID := sim.PlanRun("hegel-rds-export", gluesim.Run{Start: newDay.Add(-30 * time.Minute), Duration: time.Hour})
	sensor, err := sensorglue.New(context.Background(), &config.Glue{Region: "ap-northeast-1", Endpoint: srv.URL},
		sensorglue.WithStaticCredentials("AKID", "secret"), sensorglue.WithRetry(2, time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	f := newFixture(t)
	rec := &runRecorder{}
	h := web.New(web.Options{Config: func() *config.Config { return f.cfg }, Store: f.st, Events: rec, Clock: clk,
		Lookup: func(typ string) web.RunLookup {
			if typ == config.TypeGlueJob {
				return sensor
			}
			return nil
		}})
	body := strings.Replace(strings.Replace(fmt.Sprintf(glueEvent, "hegel-rds-export"), "jr_abc", runID, 1),
		"2026-11-03T02:50:00Z", newDay.Add(30*time.Minute).UTC().Format(time.RFC3339), 1)
	w := postEvent(h, "/api/v1/events/glue", body)
	if w.Code != 202 || len(rec.runs) != 1 {
		t.Fatalf("status %d %s, ingested %v", w.Code, w.Body, rec.runs)
	}
	if got := rec.runs[0].StartedAt; !got.Equal(newDay.Add(-30 * time.Minute)) {
		t.Errorf("started %s, want 23:30 of the old day", got.In(tokyo))
	}
	if _, ok := sekisho.Latest(rec.runs, newDay); ok {
		t.Error("the 23:30 run counts for the new day's window")
	}
	if _, ok := sekisho.Latest(rec.runs, newDay.AddDate(0, 0, -1)); !ok {
		t.Error("the run does not count for its own day")
	}
	if n := sim.Requests().ByTarget["GetJobRun"]; n != 1 {
		t.Errorf("%d look-ups, want one", n)
	}

	// A run Glue does not know is ignored, not ingested with a guess.
	w = postEvent(h, "/api/v1/events/glue", strings.Replace(body, runID, "jr_unknown", 1))
	if w.Code != 202 || !strings.Contains(w.Body.String(), "ignored") || len(rec.runs) != 1 {
		t.Errorf("unknown run: %d %s, ingested %d", w.Code, w.Body, len(rec.runs))
	}
}

// TestTroccoEventCountsFromItsStart: a transfer job that started at 23:30
// and is reported done at 00:30 counts for the old day only; the look-up
// is one GET /api/jobs/{id}.
func TestTroccoEventCountsFromItsStart(t *testing.T) {
	newDay := time.Date(2026, 11, 4, 0, 0, 0, 0, tokyo)
	clk := clockwork.NewFakeClockAt(newDay.Add(30 * time.Minute))
	sim := troccosim.New(troccosim.Options{Token: "k", Clock: clk})
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	id := sim.AddJob(55, newDay.Add(-30*time.Minute), troccosim.Outcome{RunFor: time.Hour, Status: "succeeded"})
	api, err := troccoapi.New(srv.URL, "k", troccoapi.WithClock(clk))
	if err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, func(c *config.Config) {
		c.Pipelines[0].Upstreams = append(c.Pipelines[0].Upstreams, config.Upstream{Name: "master", Type: config.TypeTroccoJob, JobDefinitionID: 55})
	})
	sensor := sensortrocco.New(api, f.st, sensortrocco.WithClock(clk))
	rec := &runRecorder{}
	h := web.New(web.Options{Config: func() *config.Config { return f.cfg }, Store: f.st, Events: rec, Clock: clk,
		Lookup: func(string) web.RunLookup { return sensor }})
	w := postEvent(h, "/api/v1/events/trocco", fmt.Sprintf(`{"job_definition_id": 55, "job_id": %d, "status": "succeeded"}`, id))
	if w.Code != 202 || len(rec.runs) != 1 {
		t.Fatalf("status %d %s, ingested %v", w.Code, w.Body, rec.runs)
	}
	if _, ok := sekisho.Latest(rec.runs, newDay); ok {
		t.Errorf("the job started %s counts for the new day", rec.runs[0].StartedAt.In(tokyo))
	}
	if n := sim.Counts()[fmt.Sprintf("GET /api/jobs/%d", id)]; n != 1 {
		t.Errorf("%d look-ups, want one", n)
	}
}

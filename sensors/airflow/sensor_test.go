package airflow_test

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

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/client/airflowapi"
	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/sensors/airflow"
	"github.com/sekisho-dev/sekisho/sim/airflowsim"
)

var window = time.Date(2025, 4, 1, 15, 0, 0, 0, time.UTC) // 00:00 JST

func sensorFor(t *testing.T, url, version string) *airflow.Sensor {
	t.Helper()
	clients, err := airflowapi.NewClients(map[string]*config.Airflow{
		"composer-legacy": {BaseURL: url, APIVersion: version, Auth: "none"},
	}, airflowapi.WithBackoff(time.Millisecond, time.Millisecond, 2))
	if err != nil {
		t.Fatal(err)
	}
	return airflow.New(clients, nil)
}

var res = sekisho.Resource{Type: "airflow_dag", Connection: "composer-legacy", ID: "export_done"}

// TestStateMapping feeds the sensor Airflow's own answer shapes, one state
// at a time, including states the spec does not list.
func TestStateMapping(t *testing.T) {
	tests := []struct {
		state string
		want  sekisho.JobState
	}{
		{"success", sekisho.JobSucceeded},
		{"failed", sekisho.JobFailed},
		{"queued", sekisho.JobRunning},
		{"running", sekisho.JobRunning},
		{"up_for_retry", sekisho.JobRunning},
		{"restarting", sekisho.JobRunning},
	}
	for _, tt := range tests {
		for _, v := range []string{"v1", "v2"} {
			t.Run(tt.state+" "+v, func(t *testing.T) {
				hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if r.URL.Path != "/api/"+v+"/dags/export_done/dagRuns" {
						http.NotFound(w, r)
						return
					}
					w.Header().Set("Content-Type", "application/json")
					if r.URL.Query().Get("state") == "queued" {
						fmt.Fprint(w, `{"dag_runs":[],"total_entries":0}`)
						return
					}
					fmt.Fprintf(w, `{"dag_runs":[{"dag_id":"export_done","dag_run_id":"scheduled__2025-03-31T15:00:00+00:00",`+
						`"state":%q,"start_date":"2025-04-01T15:00:05.123456+00:00","end_date":"2025-04-01T15:30:00+00:00",`+
						`"logical_date":"2025-03-31T15:00:00+00:00","run_type":"scheduled","conf":{},"note":null}],"total_entries":1}`, tt.state)
				}))
				defer hs.Close()
				runs, err := sensorFor(t, hs.URL, v).Runs(context.Background(), res, window)
				if err != nil || len(runs) != 1 {
					t.Fatalf("Runs = %+v, %v", runs, err)
				}
				r := runs[0]
				if r.State != tt.want || r.ExternalID != "scheduled__2025-03-31T15:00:00+00:00" ||
					!r.StartedAt.Equal(window.Add(5123456*time.Microsecond)) || !r.FinishedAt.Equal(window.Add(30*time.Minute)) {
					t.Fatalf("run = %+v, want state %s", r, tt.want)
				}
			})
		}
	}
}

func TestWindowAndQueuedRuns(t *testing.T) {
	for _, v := range []string{"v1", "v2"} {
		t.Run(v, func(t *testing.T) {
			now := window.Add(3 * time.Hour)
			clk := clockwork.NewFakeClockAt(now)
			s := airflowsim.MustNew(airflowsim.Options{Clock: clk})
			hs := httptest.NewServer(s)
			defer hs.Close()
			s.AddDAG("export_done", airflowsim.DAG{Duration: time.Hour})
			s.AddRun("export_done", "yesterday", window.Add(-20*time.Hour), airflowsim.Plan{})
			s.AddRun("export_done", "early", window.Add(30*time.Minute), airflowsim.Plan{Outcome: "failed"})
			s.SetPaused("export_done", true)
			s.AddRun("export_done", "rerun", window.Add(2*time.Hour), airflowsim.Plan{})

			runs, err := sensorFor(t, hs.URL, v).Runs(context.Background(), res, window)
			if err != nil {
				t.Fatal(err)
			}
			latest, ok := sekisho.Latest(runs, window)
			if len(runs) != 2 || !ok || latest.ExternalID != "rerun" || latest.State != sekisho.JobRunning {
				t.Fatalf("runs %+v latest %+v: want the queued rerun to hide the failed run", runs, latest)
			}
			if len(s.InvalidRequests()) != 0 || len(s.InvalidResponses()) != 0 {
				t.Fatalf("invalid: %v %v", s.InvalidRequests(), s.InvalidResponses())
			}
		})
	}
}

func TestErrors(t *testing.T) {
	s := airflowsim.MustNew(airflowsim.Options{Faults: airflowsim.Faults{ServerError: 1}})
	hs := httptest.NewServer(s)
	defer hs.Close()
	s.AddDAG("export_done", airflowsim.DAG{})
	sn := sensorFor(t, hs.URL, "v1")
	_, err := sn.Runs(context.Background(), res, window)
	if err == nil || errors.Is(err, sekisho.ErrRejected) || errors.Is(err, sekisho.ErrNotFound) {
		t.Fatalf("5xx must be a transient error: %v", err)
	}
	_, err = sn.Runs(context.Background(), sekisho.Resource{Type: "airflow_dag", Connection: "nope", ID: "x"}, window)
	if !errors.Is(err, sekisho.ErrNotFound) || !strings.Contains(err.Error(), "connections.airflow") {
		t.Fatalf("unknown connection: %v", err)
	}
	s.SetFaults(airflowsim.Faults{})
	_, err = sn.Runs(context.Background(), sekisho.Resource{Type: "airflow_dag", Connection: "composer-legacy", ID: "gone"}, window)
	if !errors.Is(err, sekisho.ErrNotFound) {
		t.Fatalf("missing DAG: %v", err)
	}
}

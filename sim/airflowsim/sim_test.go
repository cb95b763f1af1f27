package airflowsim

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
)

var t0 = time.Date(2025, 4, 1, 17, 0, 0, 0, time.UTC)

func newSim(t *testing.T, opts Options) (*Server, *clockwork.FakeClock, *httptest.Server) {
	t.Helper()
	clk := clockwork.NewFakeClockAt(t0)
	opts.Clock = clk
	s := MustNew(opts)
	hs := httptest.NewServer(s)
	t.Cleanup(hs.Close)
	t.Cleanup(func() {
		if bad := s.InvalidResponses(); len(bad) > 0 {
			t.Errorf("simulator answers broke the spec: %+v", bad)
		}
	})
	return s, clk, hs
}

func send(t *testing.T, hs *httptest.Server, method, path, body string, hdr ...string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, hs.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := hs.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	return resp.StatusCode, m
}

func TestTriggerBodyRulesV2(t *testing.T) {
	tests := []struct {
		name       string
		body       string
		wantStatus int
		wantLoc    string
	}{
		{"logical_date null", `{"dag_run_id":"a","logical_date":null,"conf":{},"note":"n"}`, 200, ""},
		{"logical_date missing", `{"dag_run_id":"b","conf":{},"note":"n"}`, 422, "logical_date"},
		{"unknown field", `{"dag_run_id":"c","logical_date":null,"colour":"red"}`, 422, "colour"},
		{"conf not an object", `{"dag_run_id":"d","logical_date":null,"conf":"x"}`, 400, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _, hs := newSim(t, Options{})
			s.AddDAG("main", DAG{})
			status, body := send(t, hs, "POST", "/api/v2/dags/main/dagRuns", tt.body)
			if status != tt.wantStatus {
				t.Fatalf("status %d, want %d: %v", status, tt.wantStatus, body)
			}
			if tt.wantStatus == 200 {
				if n := len(s.InvalidRequests()); n != 0 {
					t.Fatalf("valid request recorded invalid: %v", s.InvalidRequests())
				}
				return
			}
			if n := len(s.InvalidRequests()); n != 1 {
				t.Fatalf("invalid requests = %d, want 1", n)
			}
			if tt.wantLoc != "" {
				d, _ := json.Marshal(body["detail"])
				if !strings.Contains(string(d), tt.wantLoc) {
					t.Fatalf("detail %s does not name %s", d, tt.wantLoc)
				}
			}
		})
	}
}

func TestV1RejectsReadOnlyFields(t *testing.T) {
	s, _, hs := newSim(t, Options{})
	s.AddDAG("main", DAG{})
	status, _ := send(t, hs, "POST", "/api/v1/dags/main/dagRuns", `{"dag_run_id":"a","state":"running"}`)
	if status != 400 || len(s.InvalidRequests()) != 1 {
		t.Fatalf("status %d, invalid %v", status, s.InvalidRequests())
	}
}

func TestUnknownRouteIsInvalid(t *testing.T) {
	s, _, hs := newSim(t, Options{})
	status, _ := send(t, hs, "GET", "/api/v1/dagz", "")
	if status != 404 || len(s.InvalidRequests()) != 1 {
		t.Fatalf("status %d, invalid %v", status, s.InvalidRequests())
	}
}

func TestAuth(t *testing.T) {
	tests := []struct {
		name   string
		opts   Options
		header []string
		want   int
	}{
		{"basic ok", Options{Auth: AuthBasic, Username: "u", Password: "p"}, []string{"Authorization", "Basic dTpw"}, 200},
		{"basic wrong", Options{Auth: AuthBasic, Username: "u", Password: "p"}, []string{"Authorization", "Basic dTp4"}, 401},
		{"bearer ok", Options{Auth: AuthBearer, Tokens: []string{"tok"}}, []string{"Authorization", "Bearer tok"}, 200},
		{"bearer missing", Options{Auth: AuthBearer, Tokens: []string{"tok"}}, nil, 401},
	}
	for _, tt := range tests {
		for _, v := range []string{"v1", "v2"} {
			t.Run(tt.name+" "+v, func(t *testing.T) {
				s, _, hs := newSim(t, tt.opts)
				s.AddDAG("main", DAG{})
				status, body := send(t, hs, "GET", "/api/"+v+"/dags/main", "", tt.header...)
				if status != tt.want {
					t.Fatalf("status %d, want %d", status, tt.want)
				}
				if status == 401 && body["detail"] == nil {
					t.Fatalf("401 without detail: %v", body)
				}
				if len(s.InvalidRequests()) != 0 {
					t.Fatalf("invalid: %v", s.InvalidRequests())
				}
			})
		}
	}
}

func TestRunLifecycle(t *testing.T) {
	for _, v := range []string{"v1", "v2"} {
		t.Run(v, func(t *testing.T) {
			s, clk, hs := newSim(t, Options{})
			s.AddDAG("main", DAG{Paused: true, Duration: time.Hour, QueueDelay: time.Minute})
			body := `{"dag_run_id":"r1","conf":{"d":"x"},"note":"hi"}`
			if v == "v2" {
				body = `{"dag_run_id":"r1","logical_date":null,"conf":{"d":"x"},"note":"hi"}`
			}
			if st, b := send(t, hs, "POST", "/api/"+v+"/dags/main/dagRuns", body); st != 200 || b["state"] != "queued" {
				t.Fatalf("trigger: %d %v", st, b)
			}
			clk.Advance(2 * time.Hour) // paused: stays queued
			if _, b := send(t, hs, "GET", "/api/"+v+"/dags/main/dagRuns/r1", ""); b["state"] != "queued" || b["start_date"] != nil {
				t.Fatalf("paused run moved: %v", b)
			}
			if st, _ := send(t, hs, "PATCH", "/api/"+v+"/dags/main?update_mask=is_paused", `{"is_paused":false}`); st != 200 {
				t.Fatalf("unpause: %d", st)
			}
			clk.Advance(30 * time.Minute)
			if _, b := send(t, hs, "GET", "/api/"+v+"/dags/main/dagRuns/r1", ""); b["state"] != "running" {
				t.Fatalf("want running: %v", b)
			}
			clk.Advance(time.Hour)
			_, b := send(t, hs, "GET", "/api/"+v+"/dags/main/dagRuns/r1", "")
			if b["state"] != "success" || b["end_date"] == nil {
				t.Fatalf("want success: %v", b)
			}
			// started when unpaused, not at trigger time
			want := t0.Add(2 * time.Hour).Format(timeLayout)
			if b["start_date"] != want {
				t.Fatalf("start_date %v, want %v", b["start_date"], want)
			}
			if st, _ := send(t, hs, "POST", "/api/"+v+"/dags/main/dagRuns", body); st != 409 {
				t.Fatalf("duplicate: %d", st)
			}
			tr := s.Triggers()
			if len(tr) != 2 || tr[0].Status != 200 || tr[1].Status != 409 || tr[0].At != t0 {
				t.Fatalf("triggers %+v", tr)
			}
			if len(s.InvalidRequests()) != 0 {
				t.Fatalf("invalid: %v", s.InvalidRequests())
			}
		})
	}
}

func TestListFiltersLikeAirflow(t *testing.T) {
	s, clk, hs := newSim(t, Options{})
	s.AddDAG("up", DAG{Duration: time.Hour})
	s.AddRun("up", "scheduled__old", t0.Add(-30*time.Hour), Plan{})
	s.AddRun("up", "scheduled__new", t0.Add(-30*time.Minute), Plan{Outcome: "failed"})
	s.AddRun("up", "scheduled__future", t0.Add(time.Hour), Plan{})
	s.SetPaused("up", true)
	s.AddRun("up", "scheduled__queued", t0, Plan{})
	clk.Advance(time.Minute)
	for _, v := range []string{"v1", "v2"} {
		since := t0.Add(-2 * time.Hour).Format(time.RFC3339)
		_, b := send(t, hs, "GET", "/api/"+v+"/dags/up/dagRuns?start_date_gte="+since+"&order_by=-start_date&limit=1", "")
		runs, _ := b["dag_runs"].([]any)
		if b["total_entries"] != float64(1) || len(runs) != 1 || runs[0].(map[string]any)["dag_run_id"] != "scheduled__new" {
			t.Fatalf("%s started filter: %v", v, b)
		}
		_, b = send(t, hs, "GET", "/api/"+v+"/dags/up/dagRuns?state=queued", "")
		if b["total_entries"] != float64(1) {
			t.Fatalf("%s queued filter (future run must be invisible): %v", v, b)
		}
	}
	if len(s.InvalidRequests()) != 0 {
		t.Fatalf("invalid: %v", s.InvalidRequests())
	}
}

func TestFaultsAreSeeded(t *testing.T) {
	counts := func() map[string]int {
		s, _, hs := newSim(t, Options{Seed: 7, Faults: Faults{ServerError: 0.2, TooMany: 0.1, Malformed: 0.1}})
		s.AddDAG("main", DAG{})
		for range 50 {
			send(t, hs, "GET", "/api/v1/dags/main", "")
		}
		return s.Faults()
	}
	a, b := counts(), counts()
	if a["server_error"] == 0 || a["too_many"] == 0 || a["malformed"] == 0 {
		t.Fatalf("faults not injected: %v", a)
	}
	if a["server_error"] != b["server_error"] || a["malformed"] != b["malformed"] {
		t.Fatalf("same seed, different faults: %v vs %v", a, b)
	}
}

package troccosim_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/sekisho-dev/sekisho/sim/troccosim"
)

const token = "sim-token"

var t0 = time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC)

func get(t *testing.T, srv *httptest.Server, path, auth string) (int, http.Header, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: not JSON: %q", path, b)
	}
	return resp.StatusCode, resp.Header, m
}

func TestWireFormat(t *testing.T) {
	clk := clockwork.NewFakeClockAt(t0)
	sim := troccosim.New(troccosim.Options{Token: token, Clock: clk, PageSize: 1})
	srv := httptest.NewServer(sim)
	defer srv.Close()
	a := sim.AddJob(55, t0, troccosim.Outcome{RunFor: time.Minute, Status: "succeeded"})
	b := sim.AddJob(55, t0.Add(time.Second), troccosim.Outcome{RunFor: time.Hour, Status: "error"})
	sim.DefineJob(56)
	clk.Advance(2 * time.Minute)
	list := "/api/job_definitions/55/jobs?start_time=2026-03-02+09:00:00&end_time=2026-03-02+11:00:00&time_zone=Asia/Tokyo&limit=10"

	tests := []struct {
		name, path, auth string
		code             int
		check            func(t *testing.T, h http.Header, m map[string]any)
	}{
		{"no token", list, "", 401, func(t *testing.T, _ http.Header, m map[string]any) {
			if m["error"] == nil {
				t.Errorf("want {\"error\":…}: %v", m)
			}
		}},
		{"wrong token", list, "Token nope", 401, nil},
		{"bearer is not token", list, "Bearer " + token, 401, nil},
		{"first page newest first", list, "Token " + token, 200, func(t *testing.T, _ http.Header, m map[string]any) {
			items := m["items"].([]any)
			job := items[0].(map[string]any)
			if len(items) != 1 || int64(job["id"].(float64)) != b || job["status"] != "executing" || m["next_cursor"] == nil {
				t.Errorf("page %v", m)
			}
			if s := job["created_at"].(string); !strings.HasSuffix(s, "+09:00") || job["finished_at"] != nil {
				t.Errorf("times %v", job)
			}
		}},
		{"empty list omits items", "/api/job_definitions/56/jobs", "Token " + token, 200, func(t *testing.T, _ http.Header, m map[string]any) {
			if _, ok := m["items"]; ok || m["next_cursor"] != nil {
				t.Errorf("page %v", m)
			}
		}},
		{"unknown definition", "/api/job_definitions/99/jobs", "Token " + token, 404, func(t *testing.T, _ http.Header, m map[string]any) {
			if m["message"] == nil {
				t.Errorf("want {\"message\":…}: %v", m)
			}
		}},
		{"unknown workflow job", "/api/pipeline_jobs/12345", "Token " + token, 404, nil},
		{"unknown path", "/api/nothing", "Token " + token, 404, nil},
		{"bad start time", "/api/job_definitions/55/jobs?start_time=yesterday", "Token " + token, 400, func(t *testing.T, _ http.Header, m map[string]any) {
			if errs, ok := m["errors"].([]any); !ok || len(errs) == 0 {
				t.Errorf("want errors: %v", m)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, h, m := get(t, srv, tt.path, tt.auth)
			if code != tt.code {
				t.Fatalf("code %d, want %d: %v", code, tt.code, m)
			}
			if tt.check != nil {
				tt.check(t, h, m)
			}
		})
	}
	// Follow the cursor to the second, last page.
	_, _, m := get(t, srv, list, "Token "+token)
	_, _, m2 := get(t, srv, list+"&cursor="+m["next_cursor"].(string), "Token "+token)
	items := m2["items"].([]any)
	if len(items) != 1 || int64(items[0].(map[string]any)["id"].(float64)) != a || m2["next_cursor"] != nil {
		t.Errorf("second page %v", m2)
	}
	if sim.Counts()["GET /api/job_definitions/55/jobs"] < 3 || sim.Total() < 10 {
		t.Errorf("counts %v total %d", sim.Counts(), sim.Total())
	}
}

func TestInjectedRateLimit(t *testing.T) {
	clk := clockwork.NewFakeClockAt(t0)
	sim := troccosim.New(troccosim.Options{Token: token, Clock: clk,
		Faults: troccosim.Faults{RateLimit: 1, ResetIn: 90 * time.Second}})
	srv := httptest.NewServer(sim)
	defer srv.Close()
	code, h, _ := get(t, srv, "/api/pipeline_jobs/1", "Token "+token)
	reset, _ := strconv.ParseInt(h.Get("X-Rate-Limit-Reset"), 10, 64)
	if code != 429 || reset != t0.Add(90*time.Second).Unix() {
		t.Fatalf("code %d reset %d", code, reset)
	}
	if sim.FaultCounts()["rate_limit"] != 1 {
		t.Errorf("faults %v", sim.FaultCounts())
	}
}

func TestWorkflowJobLifecycle(t *testing.T) {
	clk := clockwork.NewFakeClockAt(t0)
	sim := troccosim.New(troccosim.Options{Token: token, Clock: clk})
	srv := httptest.NewServer(sim)
	defer srv.Close()
	id := sim.StartWorkflowJob(7, t0.Add(time.Minute), troccosim.Outcome{RunFor: 10 * time.Minute, Status: "canceled"})
	path := "/api/pipeline_jobs/" + strconv.FormatInt(id, 10)
	steps := []struct {
		at     time.Duration
		code   int
		status string
	}{{0, 404, ""}, {time.Minute, 200, "queued"}, {5 * time.Minute, 200, "executing"}, {11 * time.Minute, 200, "canceled"}}
	for _, s := range steps {
		clk.Advance(s.at - clk.Since(t0))
		code, _, m := get(t, srv, path, "Token "+token)
		if code != s.code || (s.status != "" && m["status"] != s.status) {
			t.Errorf("at +%v: %d %v", s.at, code, m)
		}
	}
	sim.DeleteWorkflow(7)
	if code, _, _ := get(t, srv, path, "Token "+token); code != 403 {
		t.Errorf("deleted workflow: %d, want 403", code)
	}
}

func TestDocumentedLimitEnforced(t *testing.T) {
	at := time.Date(2026, 3, 2, 1, 3, 0, 0, troccosim.JST) // 3 minutes into a 15-minute window
	clk := clockwork.NewFakeClockAt(at)
	sim := troccosim.New(troccosim.Options{Token: token, Clock: clk})
	srv := httptest.NewServer(sim)
	defer srv.Close()
	for i := range 100 {
		if code, _, _ := get(t, srv, "/api/pipeline_jobs/1", "Token "+token); code != 404 {
			t.Fatalf("call %d: %d", i, code)
		}
	}
	code, h, _ := get(t, srv, "/api/pipeline_jobs/1", "Token "+token)
	reset, _ := strconv.ParseInt(h.Get("X-Rate-Limit-Reset"), 10, 64)
	if code != 429 || reset != at.Add(12*time.Minute).Unix() || h.Get("X-Rate-Limit-Limit") != "100" {
		t.Fatalf("101st call: code %d reset %d, want 429 at the window's end %d", code, reset, at.Add(12*time.Minute).Unix())
	}
	clk.Advance(12 * time.Minute)
	if code, _, _ := get(t, srv, "/api/pipeline_jobs/1", "Token "+token); code != 404 {
		t.Fatalf("next window: %d", code)
	}
	if sim.Throttled() != 1 {
		t.Errorf("throttled %d, want 1", sim.Throttled())
	}
}

func TestDailyLimitEnforced(t *testing.T) {
	clk := clockwork.NewFakeClockAt(time.Date(2026, 3, 2, 23, 0, 0, 0, troccosim.JST))
	sim := troccosim.New(troccosim.Options{Token: token, Clock: clk, Limit: troccosim.Limit{Daily: 2}})
	srv := httptest.NewServer(sim)
	defer srv.Close()
	var codes []int
	for range 3 {
		code, _, _ := get(t, srv, "/api/pipeline_jobs/1", "Token "+token)
		codes = append(codes, code)
	}
	clk.Advance(time.Hour) // the JST day turns
	code, _, _ := get(t, srv, "/api/pipeline_jobs/1", "Token "+token)
	codes = append(codes, code)
	if fmt.Sprint(codes) != "[404 404 429 404]" {
		t.Errorf("codes %v", codes)
	}
}

func TestGetJob(t *testing.T) {
	clk := clockwork.NewFakeClockAt(t0)
	sim := troccosim.New(troccosim.Options{Token: token, Clock: clk})
	srv := httptest.NewServer(sim)
	defer srv.Close()
	id := sim.AddJob(55, t0.Add(-time.Hour), troccosim.Outcome{RunFor: 30 * time.Minute, Status: "succeeded"})
	code, _, m := get(t, srv, fmt.Sprintf("/api/jobs/%d", id), "Token "+token)
	if code != 200 || m["status"] != "succeeded" || m["started_at"] == nil || m["job_definition_id"].(float64) != 55 {
		t.Errorf("code %d body %v", code, m)
	}
	if code, _, _ := get(t, srv, "/api/jobs/999999", "Token "+token); code != 404 {
		t.Errorf("unknown job: %d", code)
	}
}

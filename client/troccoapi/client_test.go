package troccoapi_test

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
	"github.com/sekisho-dev/sekisho/client/troccoapi"
	"github.com/sekisho-dev/sekisho/sim/troccosim"
)

const key = "tr-secret-api-key-123"

var t0 = time.Date(2026, 3, 2, 1, 0, 0, 0, troccosim.JST)

func newClient(t *testing.T, url string, clk clockwork.Clock, opts ...troccoapi.Option) *troccoapi.Client {
	t.Helper()
	base := []troccoapi.Option{troccoapi.WithRetry(3, time.Millisecond, 5*time.Millisecond), troccoapi.WithClock(clk)}
	c, err := troccoapi.New(url, key, append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func newSim(t *testing.T, pageSize int) (*troccosim.Sim, *httptest.Server, *clockwork.FakeClock) {
	t.Helper()
	clk := clockwork.NewFakeClockAt(t0)
	sim := troccosim.New(troccosim.Options{Token: key, Clock: clk, PageSize: pageSize})
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	return sim, srv, clk
}

func TestListJobsFollowsCursorPages(t *testing.T) {
	sim, srv, clk := newSim(t, 2)
	want := map[int64]string{}
	for i := range 5 {
		id := sim.AddJob(55, t0.Add(time.Duration(i)*time.Minute), troccosim.Outcome{RunFor: 2 * time.Minute, Status: "succeeded"})
		want[id] = "succeeded"
	}
	sim.AddJob(55, t0.Add(-48*time.Hour), troccosim.Outcome{RunFor: time.Minute, Status: "error"}) // before the window
	sim.AddJob(56, t0, troccosim.Outcome{RunFor: time.Minute, Status: "error"})                    // another definition
	clk.Advance(time.Hour)
	c := newClient(t, srv.URL, clk)
	jobs, err := c.ListJobs(context.Background(), 55, t0.Add(-time.Hour), clk.Now(), "Asia/Tokyo")
	if err != nil {
		t.Fatal(err)
	}
	if len(jobs) != 5 {
		t.Fatalf("got %d jobs, want 5: %+v", len(jobs), jobs)
	}
	for _, j := range jobs {
		if want[j.ID] != j.Status || j.JobDefinitionID != 55 {
			t.Errorf("job %d: status %q def %d", j.ID, j.Status, j.JobDefinitionID)
		}
		if j.FinishedAt.IsZero() || j.StartedAt.Before(t0) {
			t.Errorf("job %d: times %v %v", j.ID, j.StartedAt, j.FinishedAt)
		}
	}
	if n := sim.Counts()["GET /api/job_definitions/55/jobs"]; n != 3 {
		t.Errorf("%d page requests, want 3 (pages of 2)", n)
	}
}

func TestListJobsEmptyPageOmitsItems(t *testing.T) {
	sim, srv, clk := newSim(t, 100)
	sim.DefineJob(7)
	jobs, err := newClient(t, srv.URL, clk).ListJobs(context.Background(), 7, t0.Add(-time.Hour), t0, "")
	if err != nil || len(jobs) != 0 {
		t.Fatalf("jobs %v, err %v", jobs, err)
	}
}

func TestTimestampsAnyOffset(t *testing.T) {
	want := time.Date(2026, 3, 1, 17, 0, 0, 0, time.UTC)
	for _, s := range []string{"2026-03-02T02:00:00.000+09:00", "2026-03-01T17:00:00Z",
		"2026-03-01T17:00:00+00:00", "2026-03-02T02:00:00+0900", "2026-03-02 02:00:00 +0900", "2026-03-01T17:00:00.000000Z"} {
		got, err := troccoapi.ParseTime(s)
		if err != nil || !got.Equal(want) {
			t.Errorf("ParseTime(%q) = %v, %v", s, got, err)
		}
	}
	if _, err := troccoapi.ParseTime("2026-03-02 02:00:00"); err == nil {
		t.Error("a timestamp without an offset must not parse")
	}
}

func TestErrorsAreClassified(t *testing.T) {
	tests := []struct {
		name         string
		status       int
		body         string
		wantRejected bool
		wantNotFound bool
		wantMsg      string
	}{
		{"400 message and errors", 400, `{"message":"不正なリクエストです。","errors":["start_time is invalid"]}`, true, false, "不正なリクエストです。: start_time is invalid"},
		{"401 error shape", 401, `{"error":"Invalid API KEY"}`, true, false, "Invalid API KEY"},
		{"403 deleted", 403, `{"message":"Forbidden"}`, true, true, "Forbidden"},
		{"404", 404, `{"message":"Not Found"}`, true, true, "Not Found"},
		{"422", 422, `{"message":"time_zone is invalid","errors":[{"field":"time_zone"}]}`, true, false, `time_zone is invalid: {"field":"time_zone"}`},
		{"500 after retries", 500, `{"message":"boom"}`, false, false, "boom"},
		{"502 html", 502, `<html>bad gateway</html>`, false, false, "Bad Gateway"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := 0
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				calls++
				w.WriteHeader(tt.status)
				fmt.Fprint(w, tt.body)
			}))
			defer srv.Close()
			_, err := newClient(t, srv.URL, clockwork.NewFakeClock()).GetPipelineJob(context.Background(), 9)
			if err == nil {
				t.Fatal("want an error")
			}
			if errors.Is(err, sekisho.ErrRejected) != tt.wantRejected || errors.Is(err, sekisho.ErrNotFound) != tt.wantNotFound {
				t.Errorf("err %v: rejected %v notfound %v", err, errors.Is(err, sekisho.ErrRejected), errors.Is(err, sekisho.ErrNotFound))
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("err %q does not carry %q", err, tt.wantMsg)
			}
			wantCalls := 1
			if tt.status >= 500 {
				wantCalls = 4
			}
			if calls != wantCalls {
				t.Errorf("%d calls, want %d", calls, wantCalls)
			}
		})
	}
}

func TestAPIKeyNeverInErrors(t *testing.T) {
	// A server that echoes the Authorization header back, and one that is unreachable.
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, `{"message":"bad header %s"}`, r.Header.Get("Authorization"))
	}))
	defer echo.Close()
	dead := httptest.NewServer(http.NotFoundHandler())
	deadURL := dead.URL
	dead.Close()
	for _, url := range []string{echo.URL, deadURL} {
		c := newClient(t, url, clockwork.NewFakeClock())
		_, err := c.GetPipelineJob(context.Background(), 1)
		if err == nil || strings.Contains(err.Error(), key) {
			t.Errorf("error %v leaks the key or is nil", err)
		}
		_, err = c.StartPipelineJob(context.Background(), 1, t0, "Asia/Tokyo")
		if err == nil || strings.Contains(err.Error(), key) {
			t.Errorf("error %v leaks the key or is nil", err)
		}
	}
	if _, err := troccoapi.New("ftp://x", key); err == nil || strings.Contains(err.Error(), key) {
		t.Errorf("bad base url: %v", err)
	}
}

func TestUnauthorizedAgainstSimulator(t *testing.T) {
	_, srv, clk := newSim(t, 100)
	c, _ := troccoapi.New(srv.URL, "wrong-key", troccoapi.WithClock(clk))
	_, err := c.GetPipelineJob(context.Background(), 1)
	if !errors.Is(err, sekisho.ErrRejected) || !strings.Contains(err.Error(), "api_key") {
		t.Fatalf("err %v", err)
	}
}

func TestRateLimitWaitsUntilReset(t *testing.T) {
	// The injected clock stands 0.8s into a second; the reset is the next
	// whole second, so the client must wait about 200ms by that clock.
	clk := clockwork.NewFakeClockAt(t0.Add(800 * time.Millisecond))
	calls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		if calls == 1 {
			w.Header().Set("X-Rate-Limit-Reset", fmt.Sprint(t0.Unix()+1))
			w.WriteHeader(http.StatusTooManyRequests)
			fmt.Fprint(w, `{"message":"Rate limit exceeded"}`)
			return
		}
		fmt.Fprint(w, `{"id":9,"pipeline_definition_id":3,"status":"executing","created_at":"2026-03-02T01:00:00.000+09:00","started_at":null,"finished_at":null}`)
	}))
	defer srv.Close()
	c := newClient(t, srv.URL, clk, troccoapi.WithMaxRateLimitWait(2*time.Second))
	start := time.Now()
	j, err := c.GetPipelineJob(context.Background(), 9)
	if err != nil || j.Status != "executing" {
		t.Fatalf("job %+v err %v", j, err)
	}
	if waited := time.Since(start); waited < 150*time.Millisecond || waited > 1500*time.Millisecond {
		t.Errorf("waited %v, want about 200ms (until the reset)", waited)
	}
}

func TestRateLimitBeyondCapFailsFast(t *testing.T) {
	clk := clockwork.NewFakeClockAt(t0)
	calls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		w.Header().Set("X-Rate-Limit-Reset", fmt.Sprint(clk.Now().Add(15*time.Minute).Unix()))
		w.WriteHeader(http.StatusTooManyRequests)
		fmt.Fprint(w, `{"message":"Rate limit exceeded"}`)
	}))
	defer srv.Close()
	c := newClient(t, srv.URL, clk, troccoapi.WithMaxRateLimitWait(50*time.Millisecond))
	_, err := c.GetPipelineJob(context.Background(), 9)
	var apiErr *troccoapi.APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 429 || errors.Is(err, sekisho.ErrRejected) {
		t.Fatalf("err %v", err)
	}
	if !apiErr.RetryAt.Equal(time.Unix(clk.Now().Add(15*time.Minute).Unix(), 0)) || calls != 1 {
		t.Errorf("retry at %v after %d calls", apiErr.RetryAt, calls)
	}
}

func TestStartPipelineJobThenFollow(t *testing.T) {
	sim, srv, clk := newSim(t, 100)
	sim.DefineWorkflow(1234, troccosim.Outcome{RunFor: 30 * time.Minute, Status: "succeeded"})
	c := newClient(t, srv.URL, clk)
	gate := time.Date(2026, 3, 2, 2, 0, 0, 0, time.UTC)
	j, err := c.StartPipelineJob(context.Background(), 1234, gate, "Asia/Tokyo")
	if err != nil {
		t.Fatal(err)
	}
	got := sim.PipelineJobs(1234)
	if len(got) != 1 || got[0].ID != j.ID || got[0].ContextTime != "2026-03-02 11:00:00" || got[0].TimeZone != "Asia/Tokyo" {
		t.Fatalf("sim holds %+v, client got %+v", got, j)
	}
	clk.Advance(31 * time.Minute)
	j2, err := c.GetPipelineJob(context.Background(), j.ID)
	if err != nil || j2.Status != "succeeded" || j2.FinishedAt.IsZero() {
		t.Fatalf("%+v %v", j2, err)
	}
	_, err = c.StartPipelineJob(context.Background(), 999, gate, "Asia/Tokyo")
	if !errors.Is(err, sekisho.ErrRejected) || !errors.Is(err, sekisho.ErrNotFound) {
		t.Errorf("unknown workflow: %v", err)
	}
}

func TestStartPipelineJobNotRepeatedAfter5xx(t *testing.T) {
	calls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		w.WriteHeader(http.StatusBadGateway)
	}))
	defer srv.Close()
	_, err := newClient(t, srv.URL, clockwork.NewFakeClock()).StartPipelineJob(context.Background(), 1, t0, "Asia/Tokyo")
	if err == nil || errors.Is(err, sekisho.ErrRejected) || calls != 1 {
		t.Fatalf("err %v after %d calls: a POST that may have been applied must not be sent twice", err, calls)
	}
}

func TestMalformedAnswerIsRetriedForGet(t *testing.T) {
	calls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		if calls < 3 {
			fmt.Fprint(w, `{"id":9,"sta`)
			return
		}
		fmt.Fprint(w, `{"id":9,"status":"succeeded"}`)
	}))
	defer srv.Close()
	j, err := newClient(t, srv.URL, clockwork.NewFakeClock()).GetPipelineJob(context.Background(), 9)
	if err != nil || j.Status != "succeeded" || calls != 3 {
		t.Fatalf("job %+v err %v calls %d", j, err, calls)
	}
}

func TestMapStatus(t *testing.T) {
	tests := []struct {
		in    string
		want  sekisho.JobState
		known bool
	}{
		{"succeeded", sekisho.JobSucceeded, true}, {"skipped", sekisho.JobFailed, true},
		{"Skipped", sekisho.JobFailed, true}, {"error", sekisho.JobFailed, true},
		{"canceled", sekisho.JobFailed, true}, {"failed", sekisho.JobFailed, true},
		{"queued", sekisho.JobRunning, true}, {"setting_up", sekisho.JobRunning, true},
		{"executing", sekisho.JobRunning, true}, {"interrupting", sekisho.JobRunning, true},
		{"retry_waiting", sekisho.JobRunning, true}, {"brand_new_state", sekisho.JobRunning, false},
		{"", sekisho.JobRunning, false},
	}
	for _, tt := range tests {
		got, known := troccoapi.MapStatus(tt.in)
		if got != tt.want || known != tt.known {
			t.Errorf("MapStatus(%q) = %v, %v; want %v, %v", tt.in, got, known, tt.want, tt.known)
		}
		if skipped := troccoapi.Skipped(tt.in); skipped != strings.EqualFold(tt.in, "skipped") {
			t.Errorf("Skipped(%q) = %v", tt.in, skipped)
		}
	}
}

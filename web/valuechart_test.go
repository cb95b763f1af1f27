package web_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/testkit/statustest"
)

// TestValueChart: a pipeline with a volume check shows its values of the
// last days with the band its expectations drew, today's short load
// outside it; the run API carries each observation's value and reason.
func TestValueChart(t *testing.T) {
	f := newFixture(t, func(cfg *config.Config) {
		vol := statustest.Pipeline("volume", tokyo, "06:00")
		vol.Upstreams = []config.Upstream{{Name: "orders_rows", Type: config.TypeSQL, DataCheck: &config.DataCheck{Warehouse: "dwh", Query: "SELECT 1",
			Expect: &config.Expect{VsHistory: &config.VsHistory{Days: 28, SameWeekday: true, Tolerance: 0.3}}, OnViolation: "block"}}}
		cfg.Pipelines = append(cfg.Pipelines, vol)
	})
	v := func(x float64) *float64 { return &x }
	for i := 28; i >= 1; i-- {
		d := time.Date(2026, 11, 3, 12, 0, 0, 0, tokyo).AddDate(0, 0, -i).Format(sekisho.DateLayout)
		statustest.Put(t, f.st, statustest.Run{Pipeline: "volume", Date: d, State: sekisho.StateSucceeded, GateAt: at(d, "02:00"),
			FinishedAt: at(d, "02:10"), FirstSuccessAt: at(d, "02:10"),
			Observations: []sekisho.Observation{{Upstream: "orders_rows", Type: config.TypeSQL, State: sekisho.JobSucceeded,
				StartedAt: at(d, "02:10"), FinishedAt: at(d, "02:10"), Value: v(40000)}}})
	}
	statustest.Put(t, f.st, statustest.Run{Pipeline: "volume", Date: day, State: sekisho.StateWaiting, GateAt: at(day, "02:00"),
		Deadline: at(day, "06:00"),
		Observations: []sekisho.Observation{{Upstream: "orders_rows", Type: config.TypeSQL, State: sekisho.JobPending,
			StartedAt: at(day, "02:01"), Value: v(1200), Reason: sekisho.ReasonExpectationFailed,
			Message: "value 1,200 is outside the expected band 28,000–52,000 (median 40,000 of 4 Tuesdays ±30%)"}}})

	code, _, body := f.do(t, http.MethodGet, "/pipelines/volume?lang=en", "", "", "")
	if code != http.StatusOK {
		t.Fatalf("page: %d", code)
	}
	for _, want := range []string{`aria-label="Data volume and its expected band (last 30 days) orders_rows"`, `class="band"`,
		`class="value-out"`, "2026-11-03: value 1,200 is outside the expected band 28,000–52,000", "value 40,000 is within the expected band 28,000–52,000"} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if n := strings.Count(body, `class="value"`); n != 28 {
		t.Errorf("%d passing dots, want one for each of the 28 days of history", n)
	}
	code, _, body = f.do(t, http.MethodGet, "/api/v1/runs/volume/"+day, "", "", "")
	if code != http.StatusOK {
		t.Fatalf("run API: %d %s", code, body)
	}
	var run struct {
		Observations []struct {
			Value  *float64 `json:"value"`
			Reason string   `json:"reason"`
		} `json:"observations"`
	}
	if err := json.Unmarshal([]byte(body), &run); err != nil {
		t.Fatal(err)
	}
	if len(run.Observations) != 1 || run.Observations[0].Value == nil || *run.Observations[0].Value != 1200 ||
		run.Observations[0].Reason != sekisho.ReasonExpectationFailed {
		t.Errorf("run API observations: %s", body)
	}
}

// TestETAShown: an open run's projection is on the board ("ETA 07:00" in
// English), at its station of the route map, and in the status and run
// APIs as "eta"; a finished run's eta is null.
func TestETAShown(t *testing.T) {
	f := newFixture(t)
	// slow's DAG was triggered at 05:40 and has no history: due now, 07:00.
	for _, target := range []string{"/?lang=en", "/map?lang=en"} {
		code, _, body := f.do(t, http.MethodGet, target, "", "", "")
		if code != http.StatusOK || !strings.Contains(body, "ETA 07:00") {
			t.Errorf("%s: %d, no ETA 07:00", target, code)
		}
	}
	code, _, body := f.do(t, http.MethodGet, "/?lang=ja", "", "", "")
	if code != http.StatusOK || !strings.Contains(body, "見込み 07:00") {
		t.Errorf("board in Japanese: %d, no 見込み 07:00", code)
	}
	for _, target := range []string{"/api/v1/runs/slow/" + day, "/api/v1/status"} {
		code, _, body := f.do(t, http.MethodGet, target, "", "", "")
		if code != http.StatusOK || !strings.Contains(body, `"eta": "2026-11-03T07:00:00+09:00"`) {
			t.Errorf("%s: %d %s", target, code, body)
		}
	}
	if _, _, body := f.do(t, http.MethodGet, "/api/v1/runs/normal/"+day, "", "", ""); !strings.Contains(body, `"eta": null`) {
		t.Errorf("a finished run: %s", body)
	}
}

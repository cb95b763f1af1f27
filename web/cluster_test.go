package web_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/metrics"
	"github.com/sekisho-dev/sekisho/web"
)

func TestClusterEndpointAndFooter(t *testing.T) {
	f := newFixture(t)
	if code, _, _ := f.do(t, "GET", "/api/v1/cluster", "", "", ""); code != http.StatusNotImplemented {
		t.Fatalf("without an elector: %d", code)
	}
	exp := time.Date(2026, 11, 3, 7, 0, 6, 0, time.FixedZone("JST", 9*3600))
	view := web.Cluster{Store: "postgres", Self: "sekisho-7d9f-a", Role: "follower", Leader: "sekisho-7d9f-b", Epoch: 12, LeaseExpiresAt: exp}
	f.h = web.New(web.Options{Config: func() *config.Config { return f.cfg }, Store: f.st, Metrics: metrics.New(), Clock: f.clock,
		Cluster: func() web.Cluster { return view }})
	code, _, body := f.do(t, "GET", "/api/v1/cluster", "", "", "")
	var got map[string]any
	if err := json.Unmarshal([]byte(body), &got); code != 200 || err != nil {
		t.Fatalf("%d %v %s", code, err, body)
	}
	want := map[string]any{"store": "postgres", "self": "sekisho-7d9f-a", "role": "follower", "leader": "sekisho-7d9f-b",
		"epoch": float64(12), "lease_expires_at": "2026-11-02T22:00:06Z"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
	if len(got) != len(want) {
		t.Errorf("keys %v", got)
	}
	_, _, page := f.do(t, "GET", "/?lang=en", "", "", "")
	if !strings.Contains(page, `<footer class="cluster muted">sekisho-7d9f-a · follower (leader: sekisho-7d9f-b) · postgres</footer>`) {
		t.Errorf("board footer missing the role:\n%s", page[max(0, len(page)-600):])
	}
	// It stands in the content column, with the rest of the page.
	_, inMain, _ := strings.Cut(page, "<main>")
	inMain, _, _ = strings.Cut(inMain, "</main>")
	if !strings.Contains(inMain, `<footer class="cluster muted">`) {
		t.Error("the cluster footer is outside the page's content column (<main>)")
	}
}

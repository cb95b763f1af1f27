package web_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/store"
)

// TestBoardListsRunningLongQueries: an alerted query is on the board while
// it runs, escaped, and gone once it ends; /metrics counts it.
func TestBoardListsRunningLongQueries(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	now := f.clock.Now()
	a := store.QueryAlert{Watch: "long_queries", Warehouse: "analytics", Key: "4711", User: "analyst", PID: "1073815778",
		StartedAt: now.Add(-47 * time.Minute), Text: "SELECT * FROM logs WHERE note = '<script>'", AlertedAt: now}
	if _, err := f.st.AddQueryAlert(ctx, a, sekisho.Notice{Kind: sekisho.NoticeLongQuery, DedupeKey: "long_query:long_queries:4711", CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	code, _, body := f.do(t, http.MethodGet, "/?lang=en", "", "", "")
	if code != http.StatusOK {
		t.Fatalf("board: %d", code)
	}
	for _, want := range []string{"Long-running queries", "analyst", "pid 1073815778", "47 min", "&lt;script&gt;"} {
		if !strings.Contains(body, want) {
			t.Errorf("board lacks %q", want)
		}
	}
	_, _, metrics := f.do(t, http.MethodGet, "/metrics", "", "", "")
	if !strings.Contains(metrics, "sekisho_query_alerts_total 1") || !strings.Contains(metrics, "sekisho_query_alerts_open 1") {
		t.Errorf("metrics lack the query alerts:\n%s", metrics)
	}
	open, _ := f.st.OpenQueryAlerts(ctx, "")
	if _, err := f.st.EndQueryAlert(ctx, open[0].ID, now, sekisho.Notice{}); err != nil {
		t.Fatal(err)
	}
	if _, _, body := f.do(t, http.MethodGet, "/?lang=en", "", "", ""); strings.Contains(body, "Long-running queries") {
		t.Error("an ended query is still on the board")
	}
}

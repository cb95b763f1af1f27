package web_test

import (
	"context"
	"html"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/marks"
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

// TestBoardShowsABlindWatch: a watch whose last listing failed (here a
// PostgreSQL role without pg_read_all_stats) is a line on the board, with
// the warning mark, and sekisho_watch_failing 1, until a listing works
// again; a watch the config no longer has is shown in neither.
func TestBoardShowsABlindWatch(t *testing.T) {
	f := newFixture(t, func(c *config.Config) {
		c.Watches = []*config.Watch{{Name: "pg_long", Type: "long_queries", Warehouse: "dwh"}}
	})
	ctx := context.Background()
	now := f.clock.Now()
	hidden := `warehouse dwh: role "sekisho" cannot see other roles' sessions in pg_stat_activity; run GRANT pg_read_all_stats TO "sekisho"`
	for _, w := range []store.WatchStatus{
		{Watch: "pg_long", Warehouse: "dwh", Error: hidden, CheckedAt: now.Add(-10 * time.Minute)},
		{Watch: "pg_long", Warehouse: "dwh", Error: hidden, CheckedAt: now.Add(-time.Minute)},
		{Watch: "gone", Warehouse: "old", Error: "connection refused", CheckedAt: now},
	} {
		if err := f.st.SetWatchStatus(ctx, w); err != nil {
			t.Fatal(err)
		}
	}
	for lang, words := range map[string][]string{
		"en": {"cannot watch for long queries", "since 11-03 06:50 (last checked 06:59)"},
		"ja": {"長時間クエリを監視できていません", "11-03 06:50 から（最終確認 06:59）"},
	} {
		_, _, body := f.do(t, http.MethodGet, "/?lang="+lang, "", "", "")
		line := regexp.MustCompile(`<li class="watch-error">.*</li>`).FindString(body)
		for _, want := range append(words, `<span aria-hidden="true">`+marks.Warning.Emoji+`</span> <strong>pg_long</strong>`,
			"(dwh)", html.EscapeString(hidden)) {
			if !strings.Contains(line, want) {
				t.Errorf("%s: the watch's line %q lacks %q", lang, line, want)
			}
		}
		if strings.Contains(body, "connection refused") {
			t.Errorf("%s: the board shows a watch the config no longer has", lang)
		}
	}
	_, _, metrics := f.do(t, http.MethodGet, "/metrics", "", "", "")
	if !strings.Contains(metrics, `sekisho_watch_failing{warehouse="dwh",watch="pg_long"} 1`) || strings.Contains(metrics, `watch="gone"`) {
		t.Errorf("metrics lack the failing watch, or show a removed one:\n%s", metrics)
	}
	if err := f.st.SetWatchStatus(ctx, store.WatchStatus{Watch: "pg_long", Warehouse: "dwh", CheckedAt: now}); err != nil {
		t.Fatal(err)
	}
	if _, _, body := f.do(t, http.MethodGet, "/?lang=en", "", "", ""); strings.Contains(body, "watch-error") {
		t.Error("a watch that lists again is still shown as failing")
	}
	if _, _, metrics := f.do(t, http.MethodGet, "/metrics", "", "", ""); !strings.Contains(metrics, `sekisho_watch_failing{warehouse="dwh",watch="pg_long"} 0`) {
		t.Errorf("metrics still show the watch failing:\n%s", metrics)
	}
}

package watch

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jonboulle/clockwork"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/notify"
	"github.com/sekisho-dev/sekisho/store"
	"github.com/sekisho-dev/sekisho/testkit/pgtest"
	"github.com/sekisho-dev/sekisho/testkit/teststore"
	"github.com/sekisho-dev/sekisho/warehouse"
)

const watchYAML = `version: 1
timezone: Asia/Tokyo
connections:
  warehouses:
    dwh: {type: postgres, dsn: "${DWH_DSN}"}
slack: {token: xoxb-test, channel: "#dwh"}
pipelines:
  - {name: a, schedule: "0 2 * * *", upstreams: []}
watches:
  - name: long_queries
    type: long_queries
    warehouse: dwh
    threshold: 1m
    interval: 1m
    exclude_users: [rdsdb]
    notify: {mention: "<!subteam^S0123>"}
  - name: everyone_excluded
    type: long_queries
    warehouse: dwh
    threshold: 1m
    exclude_users: [postgres]
`

// session is an analyst's connection running one query until cancelled.
type session struct {
	cancel context.CancelFunc
	done   chan struct{}
}

func startQuery(t *testing.T, url, sql string) *session {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	s := &session{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		conn.Exec(ctx, sql)
		conn.Close(context.Background())
	}()
	t.Cleanup(s.stop)
	return s
}

func (s *session) stop() { s.cancel(); <-s.done }

func setup(t *testing.T) (*config.Config, string, map[string]warehouse.Client, string) {
	t.Helper()
	url := pgtest.URL(t)
	cfg, err := config.Parse("p.yaml", []byte(watchYAML), func(k string) (string, bool) { return url, k == "DWH_DSN" })
	if err != nil {
		t.Fatal(err)
	}
	clients, err := warehouse.OpenAll(context.Background(), cfg.Connections.Warehouses, warehouse.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { warehouse.CloseAll(clients) })
	return cfg, url, clients, filepath.Join(t.TempDir(), "s.db")
}

func openStore(t *testing.T, path string) *store.Store {
	t.Helper()
	st, err := teststore.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// waitListed waits until the session's query shows in pg_stat_activity, so
// a pass cannot run before the analyst's query has started.
func waitListed(t *testing.T, c warehouse.Client, text string) warehouse.Query {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
		qs, err := c.Running(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range qs {
			if strings.Contains(q.Text, text) {
				return q
			}
		}
		time.Sleep(10 * time.Millisecond) // another session starting, not a schedule
	}
	t.Fatalf("%q never showed as running", text)
	return warehouse.Query{}
}

// waitGone waits until a cancelled session's query has left
// pg_stat_activity (the backend exits just after the client hangs up).
func waitGone(t *testing.T, c warehouse.Client, text string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
		qs, err := c.Running(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if !slices.ContainsFunc(qs, func(q warehouse.Query) bool { return strings.Contains(q.Text, text) }) {
			return
		}
		time.Sleep(10 * time.Millisecond) // a backend exiting, not a schedule
	}
	t.Fatalf("%q still runs after its session was cancelled", text)
}

func kinds(t *testing.T, st *store.Store) map[sekisho.NoticeKind][]sekisho.Notice {
	t.Helper()
	ns, err := st.AllNotices(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	out := map[sekisho.NoticeKind][]sekisho.Notice{}
	for _, n := range ns {
		out[n.Kind] = append(out[n.Kind], n)
	}
	return out
}

func TestLongQueryNotifiedOnceAcrossRestart(t *testing.T) {
	cfg, url, clients, path := setup(t)
	ctx := context.Background()
	w := cfg.Watch("long_queries")
	long := startQuery(t, url, "SELECT pg_sleep(600) /* months of logs, no date filter */")
	q := waitListed(t, clients["dwh"], "months of logs")
	short := startQuery(t, url, "SELECT pg_sleep(601) /* a quick look */")
	waitListed(t, clients["dwh"], "a quick look")

	clock := clockwork.NewFakeClockAt(q.StartedAt.Add(30 * time.Second))
	st := openStore(t, path)
	r := New(cfg, st, clients, clock, nil, nil)
	next, err := r.Pass(ctx, w)
	if err != nil {
		t.Fatal(err)
	}
	if got := kinds(t, st); len(got) != 0 {
		t.Fatalf("notices before the threshold: %v", got)
	}
	// The next look is when the long query crosses the threshold, not a
	// whole interval later.
	if want := q.StartedAt.Add(time.Minute); next.After(want) || next.Before(want.Add(-time.Second)) {
		t.Errorf("next pass at %s, want when the query crosses the threshold (%s)", next, want)
	}
	// The quick look ends before its threshold: it is never notified.
	short.stop()
	waitGone(t, clients["dwh"], "a quick look")
	clock.Advance(45 * time.Second)
	for range 3 {
		if _, err := r.Pass(ctx, w); err != nil {
			t.Fatal(err)
		}
	}
	got := kinds(t, st)[sekisho.NoticeLongQuery]
	if len(got) != 1 || got[0].Facts.PID != q.PID || got[0].Facts.User != "postgres" ||
		!strings.Contains(got[0].Facts.Message, "months of logs") || got[0].Facts.Mention != "<!subteam^S0123>" {
		t.Fatalf("long_query notices after the threshold: %+v", got)
	}
	open, _ := st.OpenQueryAlerts(ctx, "")
	if len(open) != 1 || open[0].Key != q.Key {
		t.Fatalf("open alerts: %+v", open)
	}
	// A restart: a new runner on the reopened store notifies nothing new.
	st.Close()
	st = openStore(t, path)
	defer st.Close()
	clock.Advance(time.Minute)
	if _, err := New(cfg, st, clients, clock, nil, nil).Pass(ctx, w); err != nil {
		t.Fatal(err)
	}
	if got := kinds(t, st)[sekisho.NoticeLongQuery]; len(got) != 1 {
		t.Fatalf("after a restart: %d long_query notices, want 1", len(got))
	}
	// The query ends: the alert ends, and bot mode replies in the thread.
	long.stop()
	waitGone(t, clients["dwh"], "months of logs")
	r = New(cfg, st, clients, clock, nil, nil)
	if _, err := r.Pass(ctx, w); err != nil {
		t.Fatal(err)
	}
	ended := kinds(t, st)[sekisho.NoticeLongQueryEnded]
	if len(ended) != 1 || ended[0].Facts.ExternalID != q.Key {
		t.Fatalf("long_query_ended notices: %+v", ended)
	}
	if open, _ := st.OpenQueryAlerts(ctx, ""); len(open) != 0 {
		t.Errorf("alerts still open after the query ended: %+v", open)
	}
	total, openN, err := st.CountQueryAlerts(ctx)
	if err != nil || total != 1 || openN != 0 {
		t.Errorf("counts = %d, %d, %v", total, openN, err)
	}
}

func TestExcludedUsersAreNeverNotified(t *testing.T) {
	cfg, url, clients, path := setup(t)
	startQuery(t, url, "SELECT pg_sleep(600) /* excluded */")
	q := waitListed(t, clients["dwh"], "excluded")
	st := openStore(t, path)
	defer st.Close()
	clock := clockwork.NewFakeClockAt(q.StartedAt.Add(time.Hour))
	if _, err := New(cfg, st, clients, clock, nil, nil).Pass(context.Background(), cfg.Watch("everyone_excluded")); err != nil {
		t.Fatal(err)
	}
	if got := kinds(t, st); len(got) != 0 {
		t.Errorf("an excluded user's query was notified: %v", got)
	}
}

// TestBlindWatchIsRecorded: a PostgreSQL watch whose role lacks
// pg_read_all_stats records the listing's error in the store for the board
// (real server, a real role); once the role is granted, the next pass
// records success and the error is gone.
func TestBlindWatchIsRecorded(t *testing.T) {
	url := pgtest.URL(t)
	role, roleURL := pgtest.Role(t, url)
	cfg, err := config.Parse("p.yaml", []byte(watchYAML), func(k string) (string, bool) { return roleURL, k == "DWH_DSN" })
	if err != nil {
		t.Fatal(err)
	}
	clients, err := warehouse.OpenAll(context.Background(), cfg.Connections.Warehouses, warehouse.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer warehouse.CloseAll(clients)
	st := openStore(t, filepath.Join(t.TempDir(), "s.db"))
	defer st.Close()
	ctx := context.Background()
	clock := clockwork.NewFakeClockAt(time.Date(2026, 11, 3, 1, 0, 0, 0, time.UTC))
	r := New(cfg, st, clients, clock, nil, nil)
	w := cfg.Watch("long_queries")
	status := func() store.WatchStatus {
		t.Helper()
		ws, err := st.WatchStatuses(ctx)
		if err != nil || len(ws) != 1 {
			t.Fatalf("watch statuses = %+v, %v", ws, err)
		}
		return ws[0]
	}
	if _, err := r.Pass(ctx, w); !errors.Is(err, warehouse.ErrHiddenSessions) {
		t.Fatalf("pass without pg_read_all_stats: %v, want ErrHiddenSessions", err)
	}
	got := status()
	if got.Watch != "long_queries" || got.Warehouse != "dwh" || !strings.Contains(got.Error, "GRANT pg_read_all_stats TO \""+role+"\"") ||
		!got.CheckedAt.Equal(clock.Now()) || !got.FailingSince.Equal(clock.Now()) {
		t.Fatalf("status after the blind pass = %+v", got)
	}
	admin, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, "GRANT pg_read_all_stats TO "+role); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Minute)
	if _, err := r.Pass(ctx, w); err != nil {
		t.Fatalf("pass with pg_read_all_stats: %v", err)
	}
	if got := status(); got.Error != "" || !got.FailingSince.IsZero() || !got.CheckedAt.Equal(clock.Now()) {
		t.Fatalf("status after the pass that sees = %+v", got)
	}
}

// TestStoredErrorHasNoSecret: whatever a listing's error quotes, the text
// stored for the board carries neither the DSN nor its password.
func TestStoredErrorHasNoSecret(t *testing.T) {
	for _, dsn := range []string{
		"postgres://sekisho:S3cret-pw@db.internal:5432/dwh?sslmode=require",
		"postgres://sekisho@db.internal/dwh?password=S3cret-pw",
		"host=db.internal user=sekisho password='S3cret-pw' dbname=dwh",
	} {
		cfg, err := config.Parse("p.yaml", []byte(watchYAML), func(k string) (string, bool) { return dsn, k == "DWH_DSN" })
		if err != nil {
			t.Fatal(err)
		}
		r := New(cfg, nil, nil, nil, nil, nil)
		got := r.scrub(cfg.Watch("long_queries"), fmt.Errorf("connect to %s: password S3cret-pw refused: %w", dsn, warehouse.ErrHiddenSessions))
		if strings.Contains(got, "S3cret-pw") || strings.Contains(got, dsn) || !strings.Contains(got, "refused") {
			t.Errorf("stored %q for dsn %s", got, dsn)
		}
	}
	cfg, _ := config.Parse("p.yaml", []byte(watchYAML), func(k string) (string, bool) { return "postgres://x@h/d", k == "DWH_DSN" })
	if got := New(cfg, nil, nil, nil, nil, nil).scrub(cfg.Watch("long_queries"), errors.New(strings.Repeat("é", 2*MaxError))); len([]rune(got)) > MaxError+1 {
		t.Errorf("stored %d runes, want at most %d", len([]rune(got)), MaxError+1)
	}
}

func TestNoticeText(t *testing.T) {
	start := time.Date(2026, 3, 2, 1, 13, 0, 0, time.UTC)
	text := "SELECT * FROM logs.access " + strings.Repeat("x", 2000)
	n := sekisho.Notice{Kind: sekisho.NoticeLongQuery, DedupeKey: "long_query:w:1", CreatedAt: start.Add(47*time.Minute + 30*time.Second),
		Facts: sekisho.NoticeFacts{Watch: "long_queries", Warehouse: "analytics", User: "analyst", PID: "1073815778",
			StartedAt: start, Message: warehouse.Truncate(text, MaxText), Mention: "<!subteam^S0123>", TimeZone: "Asia/Tokyo", MaxDuration: "30m0s"}}
	ja := notify.Render("ja", n, nil, "").Text()
	for _, want := range []string{"<!subteam^S0123> 🐢 長時間実行中のクエリがあります（long_queries: analytics）",
		"*ユーザー*: analyst", "*PID*: 1073815778", "*開始*: 2026-03-02 10:13:00 JST", "*経過*: 47 分", "```\nSELECT * FROM logs.access xxx"} {
		if !strings.Contains(ja, want) {
			t.Errorf("ja text lacks %q:\n%s", want, ja)
		}
	}
	if strings.Count(ja, "x") > MaxText {
		t.Errorf("the query text is not cut at %d characters", MaxText)
	}
	en := notify.Render("en", n, nil, "").Text()
	if !strings.Contains(en, "A query has been running for a long time") || !strings.Contains(en, "*Elapsed*: 47 min") {
		t.Errorf("en text:\n%s", en)
	}
}

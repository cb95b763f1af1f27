package warehouse

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jonboulle/clockwork"

	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/policy/budget"
	"github.com/sekisho-dev/sekisho/testkit/pgtest"
)

func openPG(t *testing.T) (Client, string) {
	t.Helper()
	url := pgtest.URL(t)
	c, err := Open(context.Background(), &config.Warehouse{Name: "dwh", Type: config.WarehousePostgres, DSN: config.Secret(url)}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, url
}

func TestPostgresCheck(t *testing.T) {
	c, _ := openPG(t)
	ctx := context.Background()
	tests := []struct {
		name  string
		query string
		want  string
	}{
		{"true", "SELECT true", "pass"},
		{"false", "SELECT false", "fail"},
		{"count above zero", "SELECT COUNT(*) FROM generate_series(1, 3)", "pass 3"},
		{"count zero", "SELECT COUNT(*) FROM generate_series(1, 0)", "fail 0"},
		{"numeric", "SELECT 0.5::numeric", "pass 0.5"},
		{"big numeric", "SELECT 123456789012::numeric", "pass 1.23456789012e+11"},
		{"negative", "SELECT -1", "fail -1"},
		{"null", "SELECT NULL", "fail"},
		{"no row", "SELECT 1 WHERE false", "fail"},
		{"first column only", "SELECT 0, 1", "fail 0"},
		{"text t", "SELECT 't'::text", "pass"},
		{"text number", "SELECT '42'::text", "pass 42"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := c.Check(ctx, tt.query)
			if err != nil || got.String() != tt.want {
				t.Errorf("Check(%q) = %v, %v; want %v", tt.query, got, err, tt.want)
			}
		})
	}
	if _, err := c.Check(ctx, "SELECT COUNT(*) FROM no_such_table"); err == nil || !strings.Contains(err.Error(), "no_such_table") {
		t.Errorf("a failing query gave %v, want its error", err)
	}
}

func TestPostgresRunningListsOthersOnly(t *testing.T) {
	c, url := openPG(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// An analyst's session: a query that sleeps until the test cancels it.
	analyst, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer analyst.Close(context.Background())
	var pid int
	if err := analyst.QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&pid); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := analyst.Exec(ctx, "SELECT pg_sleep(600) /* the analyst's long query */")
		done <- err
	}()
	var found Query
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
		qs, err := c.Running(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range qs {
			if strings.Contains(q.Text, "pg_sleep(600)") {
				found = q
			}
			if strings.Contains(q.Text, "pg_stat_activity") {
				t.Fatalf("the watch lists its own query: %+v", q)
			}
		}
		if found.Key != "" {
			break
		}
		time.Sleep(20 * time.Millisecond) // waiting for another session to start, not for a schedule
	}
	if found.Key == "" {
		t.Fatal("the running pg_sleep session was not listed")
	}
	if found.PID != strconv.Itoa(pid) || found.User != "postgres" || found.StartedAt.IsZero() ||
		!strings.HasPrefix(found.Key, found.PID+"@") {
		t.Errorf("listed %+v, want pid %d of user postgres", found, pid)
	}
	cancel()
	<-done
}

// TestPostgresRunningNeedsReadAllStats: a watch whose role lacks
// pg_read_all_stats would see other roles' sessions with a NULL state and
// query, and list nothing; it reports that as its error instead. Granted the
// role it lists the analyst's query; revoked, the error is back.
func TestPostgresRunningNeedsReadAllStats(t *testing.T) {
	url := pgtest.URL(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	admin, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(context.Background())
	role, roleURL := pgtest.Role(t, url)
	c, err := Open(ctx, &config.Warehouse{Name: "dwh", Type: config.WarehousePostgres, DSN: config.Secret(roleURL)}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// The analyst's session runs as the admin role, another role than the
	// watcher's.
	done := make(chan error, 1)
	go func() {
		_, err := admin.Exec(ctx, "SELECT pg_sleep(600) /* the analyst's long query */")
		done <- err
	}()
	defer func() { cancel(); <-done }()
	probe, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer probe.Close(context.Background())
	for deadline := time.Now().Add(10 * time.Second); ; {
		var n int
		probe.QueryRow(context.Background(), "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(600)%' AND state = 'active' AND pid <> pg_backend_pid()").Scan(&n)
		if n > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the analyst's session did not start")
		}
		time.Sleep(20 * time.Millisecond) // waiting for another session to start, not for a schedule
	}
	_, err = c.Running(context.Background())
	if !errors.Is(err, ErrHiddenSessions) || !strings.Contains(err.Error(), `GRANT pg_read_all_stats TO "`+role+`"`) {
		t.Fatalf("without pg_read_all_stats: %v; want ErrHiddenSessions saying what to grant", err)
	}
	grant := func(sql string) {
		if _, err := probe.Exec(context.Background(), sql); err != nil {
			t.Fatal(err)
		}
	}
	grant("GRANT pg_read_all_stats TO " + role)
	qs, err := c.Running(context.Background())
	if err != nil || len(qs) != 1 || !strings.Contains(qs[0].Text, "pg_sleep(600)") {
		t.Fatalf("with pg_read_all_stats: %+v, %v", qs, err)
	}
	grant("REVOKE pg_read_all_stats FROM " + role)
	if _, err := c.Running(context.Background()); !errors.Is(err, ErrHiddenSessions) {
		t.Errorf("after the revoke: %v; want ErrHiddenSessions", err)
	}
}

// TestPostgresErrorsHideThePassword: a connection error names the host and
// user, never the DSN's password (it reaches the board as the check error).
func TestPostgresErrorsHideThePassword(t *testing.T) {
	w := &config.Warehouse{Name: "dwh", Type: config.WarehousePostgres,
		DSN: "postgres://sekisho:SECRET-pw-123@127.0.0.1:1/dwh?sslmode=disable&connect_timeout=2"}
	c, err := Open(context.Background(), w, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, err = c.Check(context.Background(), "SELECT true")
	if err == nil {
		t.Fatal("a check against a closed port succeeded")
	}
	if strings.Contains(err.Error(), "SECRET") {
		t.Errorf("the error shows the password: %v", err)
	}
	bad := &config.Warehouse{Name: "dwh", Type: config.WarehousePostgres, DSN: "postgres://u:SECRET-pw@host:notaport/db"}
	if _, err := Open(context.Background(), bad, Options{}); err == nil || strings.Contains(err.Error(), "SECRET") {
		t.Errorf("a DSN that does not parse: %v", err)
	}
}

// TestPostgresWaitsForBudget: each query waits for a slot of the
// warehouse's budget; one a minute is left for polls here.
func TestPostgresWaitsForBudget(t *testing.T) {
	clock := clockwork.NewFakeClock()
	b := budget.New("warehouse dwh", budget.Limit{Requests: 2, Per: time.Minute}, clock)
	c, err := Open(context.Background(), &config.Warehouse{Name: "dwh", Type: config.WarehousePostgres, DSN: config.Secret(pgtest.URL(t))},
		Options{Budget: func(*config.Warehouse) *budget.Budget { return b }})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if ok, err := c.Check(context.Background(), "SELECT true"); err != nil || !ok.Passed {
		t.Fatalf("first check: %v, %v", ok, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { _, err := c.Running(ctx); errc <- err }()
	clock.BlockUntil(1) // the listing waits for the next minute's slot
	cancel()
	if err := <-errc; err == nil || !strings.Contains(err.Error(), "request budget") {
		t.Fatalf("a listing beyond the budget gave %v, want it held by the budget", err)
	}
	go func() { _, err := c.Running(context.Background()); errc <- err }()
	clock.BlockUntil(1)
	clock.Advance(time.Minute)
	if err := <-errc; err != nil {
		t.Fatalf("listing in the next minute: %v", err)
	}
	if s := b.Stats(); s.Polls != 2 {
		t.Errorf("%d queries drawn from the budget, want 2", s.Polls)
	}
}

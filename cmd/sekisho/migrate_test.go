package main

import (
	"context"
	"strings"
	"testing"

	"github.com/sekisho-dev/sekisho/testkit/pgtest"
	"github.com/sekisho-dev/sekisho/testkit/teststore"
)

// TestMigrateCopiesIntoPostgreSQL copies a daemon's SQLite history into a
// real PostgreSQL database and reads it back with the reading commands.
func TestMigrateCopiesIntoPostgreSQL(t *testing.T) {
	url := pgtest.URL(t)
	// A password in the URL must never be printed (the test server
	// trusts local connections and ignores it).
	withPassword := strings.Replace(url, "postgres://postgres@", "postgres://postgres:s3cret-pw@", 1)
	dir, cfgPath := writeConfig(t, gateOnly)
	db := seed(t, dir, cfgPath)

	// Usage errors.
	for _, args := range [][]string{
		{"migrate", "--from", "sqlite:" + db},
		{"migrate", "--from", withPassword, "--to", withPassword},
		{"migrate", "--from", "sqlite:" + db, "--to", db},
	} {
		code, _, errOut := cli(t, args...)
		if code != 2 || strings.Contains(errOut, "s3cret-pw") {
			t.Fatalf("%v: %d %q", args, code, errOut)
		}
	}
	// Not while the daemon runs on the source.
	st, err := teststore.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.LockDaemon(); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := cli(t, "migrate", "--from", "sqlite:"+db, "--to", withPassword); code != 1 || !strings.Contains(errOut, "in use by another sekisho daemon") {
		t.Fatalf("copy beside a running daemon: %d %q", code, errOut)
	}
	st.Close()

	code, out, errOut := cli(t, "migrate", "--from", "sqlite:"+db, "--to", withPassword)
	if code != 0 || !strings.Contains(out, "runs                   1\n") || !strings.Contains(out, "transitions            2\n") || !strings.Contains(out, "the counts match") {
		t.Fatalf("copy: %d\n%s\n%s", code, out, errOut)
	}
	if strings.Contains(out+errOut, "s3cret-pw") {
		t.Fatalf("the password was printed:\n%s%s", out, errOut)
	}
	// The reading commands see the same history on PostgreSQL.
	_, lite, _ := cli(t, "status", "--json", "--date", "2026-11-20", "-c", cfgPath, "--db", db)
	code, onPG, errOut := cli(t, "status", "--json", "--date", "2026-11-20", "-c", cfgPath, "--db", url)
	if code != 0 || !strings.Contains(onPG, `"timed_out"`) {
		t.Fatalf("status on PostgreSQL: %d %s %s", code, onPG, errOut)
	}
	if stripGenerated(lite) != stripGenerated(onPG) {
		t.Fatalf("status differs:\nsqlite   %s\npostgres %s", lite, onPG)
	}
	// A second copy is refused: the target is not empty.
	code, _, errOut = cli(t, "migrate", "--from", "sqlite:"+db, "--to", url)
	if code != 1 || !strings.Contains(errOut, "not empty") || !strings.Contains(errOut, "runs holds 1 rows") {
		t.Fatalf("second copy: %d %q", code, errOut)
	}
	// Without --from/--to, migrate brings the configured store up to date.
	code, out, _ = cli(t, "migrate", "-c", cfgPath, "--db", dir+"/fresh.db")
	if code != 0 || !strings.Contains(out, "at schema version") {
		t.Fatalf("schema migration: %d %q", code, out)
	}
}

// stripGenerated drops the generated_at line, the one field that differs
// between two calls.
func stripGenerated(s string) string {
	var keep []string
	for _, l := range strings.Split(s, "\n") {
		if !strings.Contains(l, "generated_at") {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n")
}

package main

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sekisho-dev/sekisho/store"
)

// Only the daemon changes the schema (SPEC §9): reading and operator
// commands refuse a store newer than the binary with both versions named,
// and never create or migrate one.
func TestReadingCommandsLeaveTheSchemaAlone(t *testing.T) {
	dir, cfgPath := writeConfig(t, gateOnly)
	missing := filepath.Join(dir, "missing.db")
	for _, args := range [][]string{
		{"status"}, {"report", "slo"}, {"export", "--table", "runs", "--format", "csv"}, {"skip", "kant_daily"},
	} {
		code, _, errOut := cli(t, append(args, "-c", cfgPath, "--db", missing)...)
		if code != 1 || !strings.Contains(errOut, "no sekisho store") {
			t.Fatalf("%v on a missing store: %d %q", args, code, errOut)
		}
	}
	if _, err := store.Open(context.Background(), missing); err == nil {
		t.Fatal("a reading command created the store")
	}

	db := seed(t, dir, cfgPath)
	raw, err := sql.Open("sqlite", db)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (99, '099_future.up.sql', '2030-01-01T00:00:00.000Z')`); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	want := fmt.Sprintf("schema is at version 99, this binary knows up to %d", store.KnownSchemaVersion())
	for _, args := range [][]string{
		{"status"}, {"report", "slo"}, {"export", "--table", "runs", "--format", "csv"}, {"rerun", "kant_daily"}, {"run", "--listen", "127.0.0.1:0"},
	} {
		code, _, errOut := cli(t, append(args, "-c", cfgPath, "--db", db)...)
		if code != 1 || !strings.Contains(errOut, want) {
			t.Fatalf("%v on a newer store: %d %q", args, code, errOut)
		}
	}
}

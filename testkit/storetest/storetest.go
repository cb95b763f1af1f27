// Package storetest runs a store test against every store sekisho has: a
// fresh SQLite file and a fresh PostgreSQL database (testkit/pgtest), so
// both answer the same tests (a conformance suite, as river and gatus run
// theirs against every driver).
package storetest

import (
	"path/filepath"
	"testing"

	"github.com/sekisho-dev/sekisho/testkit/pgtest"
)

// Dialects names the stores in the order Each runs them.
var Dialects = []string{"sqlite", "postgres"}

// Location returns where a fresh, empty store of dialect lives: a path in
// the test's temporary directory, or the URL of a new PostgreSQL database
// (skipping the test without a server, failing it under CI).
func Location(t testing.TB, dialect string) string {
	t.Helper()
	if dialect == "postgres" {
		return pgtest.URL(t)
	}
	return filepath.Join(t.TempDir(), "sekisho.db")
}

// Each runs fn once per dialect, as subtests named after it, each with the
// location of a fresh store.
func Each(t *testing.T, fn func(t *testing.T, location string)) {
	t.Helper()
	for _, d := range Dialects {
		t.Run(d, func(t *testing.T) { fn(t, Location(t, d)) })
	}
}

// Package pgtest hands tests a fresh, empty PostgreSQL database on the real
// server that .ci/postgres starts. Tests never mock a database: without a
// server they skip with a message saying how to get one, and under CI=true
// (where .ci/run always starts one) they fail instead.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvVar names the variable holding the admin URL of the test server.
const EnvVar = "SEKISHO_TEST_POSTGRES"

// AdminURL returns the test server's URL, skipping (or, under CI, failing)
// the test when none is configured.
func AdminURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv(EnvVar)
	if u == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not set under CI=true: .ci/run must start PostgreSQL (eval \"$(.ci/postgres)\")", EnvVar)
		}
		t.Skipf("no PostgreSQL configured: run eval \"$(.ci/postgres)\" to start one and set %s", EnvVar)
	}
	return u
}

// URL creates a new empty database for this test, drops it when the test
// ends, and returns its URL.
func URL(t testing.TB) string {
	t.Helper()
	admin := AdminURL(t)
	name := create(t, admin, "DATABASE", "sekisho_t_", "", " WITH (FORCE)")
	u, err := databaseURL(admin, name)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	return u
}

// Create makes a new empty database named prefix and a random suffix on
// the server of admin, outside any test, and returns its URL and the
// function that drops it: cmd/sekisho-bench's PostgreSQL runs.
func Create(ctx context.Context, admin, prefix string) (string, func(), error) {
	name, drop, err := makeObject(ctx, admin, admin, "DATABASE", prefix, "", " WITH (FORCE)")
	if err != nil {
		return "", nil, err
	}
	u, err := databaseURL(admin, name)
	if err != nil {
		drop()
		return "", nil, err
	}
	return u, drop, nil
}

// databaseURL is the URL of database name on the server of admin.
func databaseURL(admin, name string) (string, error) {
	u, err := url.Parse(admin)
	if err != nil {
		return "", fmt.Errorf("%s is not a URL: %w", EnvVar, err)
	}
	u.Path = "/" + name
	return u.String(), nil
}

// Role creates a login role with no privileges beyond PUBLIC's on the
// server of dbURL, drops it when the test ends, and returns its name and
// dbURL with that role as the user: a watch or a check connecting as a
// role the operator forgot to grant.
func Role(t testing.TB, dbURL string) (name, roleURL string) {
	t.Helper()
	name = create(t, dbURL, "ROLE", "watcher_", " LOGIN", "")
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatalf("pgtest: the database URL does not parse: %v", err)
	}
	u.User = url.User(name)
	return name, u.String()
}

// create makes an object of a fresh random name on the server of on
// (CREATE what name with) and drops it (DROP what IF EXISTS name dropWith),
// as the admin and on a connection of its own, when the test ends.
func create(t testing.TB, on, what, prefix, with, dropWith string) string {
	t.Helper()
	name, drop, err := makeObject(context.Background(), on, AdminURL(t), what, prefix, with, dropWith)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(drop)
	return name
}

// makeObject is create without a test: the object's name and the
// function that drops it.
func makeObject(ctx context.Context, on, admin, what, prefix, with, dropWith string) (string, func(), error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, on)
	if err != nil {
		return "", nil, fmt.Errorf("connect to the test server: %w", err)
	}
	defer conn.Close(ctx)
	var b [6]byte
	rand.Read(b[:])
	name := prefix + hex.EncodeToString(b[:])
	if _, err := conn.Exec(ctx, "CREATE "+what+" "+name+with); err != nil {
		return "", nil, fmt.Errorf("create %s: %w", strings.ToLower(what), err)
	}
	return name, func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if c, err := pgx.Connect(ctx, admin); err == nil {
			c.Exec(ctx, "DROP "+what+" IF EXISTS "+name+dropWith)
			c.Close(ctx)
		}
	}, nil
}

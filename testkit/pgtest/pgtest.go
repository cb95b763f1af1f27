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
	u, drop, err := Create(context.Background(), AdminURL(t), "sekisho_t_")
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(drop)
	return u
}

// Create makes a new empty database named prefix and a random suffix on
// the server of admin, and returns its URL and the function that drops it:
// for tests (URL) and for cmd/sekisho-bench's PostgreSQL runs.
func Create(ctx context.Context, admin, prefix string) (string, func(), error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		return "", nil, fmt.Errorf("connect to the server: %w", err)
	}
	defer conn.Close(ctx)
	var b [6]byte
	rand.Read(b[:])
	name := prefix + hex.EncodeToString(b[:])
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return "", nil, fmt.Errorf("create database: %w", err)
	}
	drop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, admin)
		if err != nil {
			return
		}
		defer c.Close(ctx)
		c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	}
	u, err := url.Parse(admin)
	if err != nil {
		drop()
		return "", nil, fmt.Errorf("%s is not a URL: %w", EnvVar, err)
	}
	u.Path = "/" + name
	return u.String(), drop, nil
}

// Package pgtest hands tests a fresh, empty PostgreSQL database on the real
// server that .ci/postgres starts. Tests never mock a database: without a
// server they skip with a message saying how to get one, and under CI=true
// (where .ci/run always starts one) they fail instead.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
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
	admin := AdminURL(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatalf("pgtest: connect to the test server: %v", err)
	}
	defer conn.Close(ctx)
	var b [6]byte
	rand.Read(b[:])
	name := "sekisho_t_" + hex.EncodeToString(b[:])
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("pgtest: create database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, admin)
		if err != nil {
			return
		}
		defer c.Close(ctx)
		c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	})
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatalf("pgtest: %s is not a URL: %v", EnvVar, err)
	}
	u.Path = "/" + name
	return u.String()
}

// Role creates a login role with no privileges beyond PUBLIC's on the
// server of url, drops it when the test ends, and returns its name and
// url with that role as the user: a watch or a check connecting as a role
// the operator forgot to grant.
func Role(t testing.TB, dbURL string) (name, roleURL string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatalf("pgtest: connect: %v", err)
	}
	defer conn.Close(ctx)
	var b [4]byte
	rand.Read(b[:])
	name = "watcher_" + hex.EncodeToString(b[:])
	if _, err := conn.Exec(ctx, "CREATE ROLE "+name+" LOGIN"); err != nil {
		t.Fatalf("pgtest: create role: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if c, err := pgx.Connect(ctx, AdminURL(t)); err == nil {
			c.Exec(ctx, "DROP ROLE IF EXISTS "+name)
			c.Close(ctx)
		}
	})
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatalf("pgtest: %s is not a URL: %v", dbURL, err)
	}
	u.User = url.User(name)
	return name, u.String()
}

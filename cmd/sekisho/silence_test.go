package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sekisho-dev/sekisho/testkit/teststore"
)

func TestSilenceCommands(t *testing.T) {
	dir, cfgPath := writeConfig(t, gateOnly)
	db := filepath.Join(dir, "s.db")
	// A daemon holds the database: the commands work beside it.
	st, err := teststore.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.LockDaemon(); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := cli(t, "silence", "add", "--pipeline", "kant_daily", "--pipeline", "hegel_daily",
		"--until", "2h", "--reason", "RDS maintenance", "-c", cfgPath, "--db", db)
	id := strings.TrimSpace(out)
	if code != 0 || !strings.HasPrefix(id, "sil_") {
		t.Fatalf("add: %d %q %q", code, out, errOut)
	}
	until := time.Now().Add(3 * time.Hour).Format(time.RFC3339)
	if code, _, errOut := cli(t, "silence", "add", "--pipeline", "kant_daily", "--until", until, "--reason", "backfill",
		"-c", cfgPath, "--db", db); code != 0 {
		t.Fatalf("add with an RFC 3339 end: %d %q", code, errOut)
	}
	// The daemon's store sees them at once.
	active, err := st.SilencesEndingAfter(context.Background(), time.Now())
	if err != nil || len(active) != 2 {
		t.Fatalf("the daemon sees %d silences, %v", len(active), err)
	}
	code, out, _ = cli(t, "silence", "list", "-c", cfgPath, "--db", db)
	if code != 0 || !strings.Contains(out, id) || !strings.Contains(out, "hegel_daily,kant_daily") || !strings.Contains(out, "RDS maintenance") {
		t.Fatalf("list: %d %q", code, out)
	}
	if code, out, _ := cli(t, "silence", "expire", id, "-c", cfgPath, "--db", db); code != 0 || !strings.Contains(out, id+" ended at ") {
		t.Fatalf("expire: %d %q", code, out)
	}
	if _, out, _ := cli(t, "silence", "list", "-c", cfgPath, "--db", db); strings.Contains(out, id) {
		t.Fatalf("an ended silence is listed: %q", out)
	}
	if _, out, _ := cli(t, "silence", "list", "--all", "-c", cfgPath, "--db", db); !strings.Contains(out, id) || !strings.Contains(out, "ended") {
		t.Fatalf("list --all: %q", out)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"silence"}, "want add, list or expire"},
		{[]string{"silence", "mute"}, `unknown silence command "mute"`},
		{[]string{"silence", "add", "--pipeline", "kant_dialy", "--until", "1h", "--reason", "r"}, `unknown pipeline "kant_dialy"`},
		{[]string{"silence", "add", "--until", "1h", "--reason", "r"}, "name at least one pipeline"},
		{[]string{"silence", "add", "--pipeline", "kant_daily", "--reason", "r"}, "--until is required"},
		{[]string{"silence", "add", "--pipeline", "kant_daily", "--until", "tomorrow", "--reason", "r"}, `--until "tomorrow" is neither`},
		{[]string{"silence", "add", "--pipeline", "kant_daily", "--until", "2020-01-01T00:00:00Z", "--reason", "r"}, "is not after the start"},
		{[]string{"silence", "add", "--pipeline", "kant_daily", "--until", "1h"}, "give a reason"},
		{[]string{"silence", "expire", "sil_nope"}, "no silence sil_nope"},
		{[]string{"silence", "expire"}, "want exactly one silence id"},
	} {
		code, _, errOut := cli(t, append(c.args, "-c", cfgPath, "--db", db)...)
		if code != 2 || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: exit %d %q, want 2 and %q", c.args, code, errOut, c.want)
		}
	}
	if code, out, _ := cli(t, "silence", "--help"); code != 0 || !strings.Contains(out, "silence expire ID") {
		t.Errorf("help: %d %q", code, out)
	}
}

// TestSilenceOnAClock: with --now the silence commands live on another
// clock (the demo's), print times in the config's zone as list does, and
// an empty list says so instead of printing a bare header.
func TestSilenceOnAClock(t *testing.T) {
	dir, cfgPath := writeConfig(t, gateOnly)
	db := filepath.Join(dir, "s.db")
	run := func(args ...string) (int, string, string) {
		return cli(t, append(args, "-c", cfgPath, "--db", db)...)
	}
	if code, _, errOut := cli(t, "migrate", "-c", cfgPath, "--db", db); code != 0 {
		t.Fatalf("migrate: %s", errOut)
	}
	if code, out, errOut := run("silence", "list"); code != 0 || !strings.Contains(out, "No active or pending silences") {
		t.Errorf("empty list: %d %q %q", code, out, errOut)
	}
	const demoNow = "2026-11-21T01:00:00+09:00"
	code, out, errOut := run("silence", "add", "--pipeline", "kant_daily", "--until", "2h", "--reason", "r", "--now", demoNow)
	id := strings.TrimSpace(out)
	if code != 0 {
		t.Fatalf("add --now: %d %q", code, errOut)
	}
	if _, out, _ := run("silence", "list", "--now", "2026-11-21T02:00:00+09:00"); !strings.Contains(out, id) ||
		!strings.Contains(out, "active") || !strings.Contains(out, "2026-11-21 03:00 JST") {
		t.Errorf("list on the demo's clock: %q, want %s active until 2026-11-21 03:00 JST", out, id)
	}
	if _, out, _ := run("silence", "list"); strings.Contains(out, id) {
		t.Errorf("on the wall clock the demo's silence has ended, yet list shows it: %q", out)
	}
	if code, out, _ := run("silence", "expire", id, "--now", "2026-11-21T02:30:00+09:00"); code != 0 || strings.TrimSpace(out) != id+" ended at 2026-11-21 02:30 JST" {
		t.Errorf("expire: %d %q, want the end in the config's zone", code, out)
	}
	if code, _, errOut := run("silence", "list", "--now", "tomorrow"); code != 2 || !strings.Contains(errOut, "want an RFC 3339 time") {
		t.Errorf("bad --now: %d %q", code, errOut)
	}
}

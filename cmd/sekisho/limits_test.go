package main

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

// troccoPipelines is n pipelines with one trocco_job upstream each, and a
// secret taken from the environment.
func troccoPipelines(n int, poke string) string {
	var b strings.Builder
	b.WriteString("version: 1\nconnections:\n  trocco:\n    api_key: ${LIMITS_TEST_TROCCO_KEY}\npipelines:\n")
	for i := range n {
		fmt.Fprintf(&b, "  - name: p%d\n    schedule: \"0 2 * * *\"\n    poke_interval: %s\n    upstreams:\n      - {name: j, type: trocco_job, job_definition_id: %d}\n", i, poke, 100+i)
	}
	return b.String()
}

func TestValidateWarnsWhenTheBudgetCannotCarryThePokes(t *testing.T) {
	t.Setenv("LIMITS_TEST_TROCCO_KEY", "k")
	_, few := writeConfig(t, troccoPipelines(5, "5m"))
	if code, out, errOut := cli(t, "validate", "-c", few); code != 0 || strings.Contains(out, "warning") {
		t.Fatalf("5 jobs every 5 minutes fit TROCCO's budget: %d %q %q", code, out, errOut)
	}
	_, many := writeConfig(t, troccoPipelines(50, "60s"))
	code, out, _ := cli(t, "validate", "-c", many)
	want := "warning: connections.trocco: 50 upstream resources at their poke_interval need 750 requests per 15m0s; " +
		"the budget (100 per 15m0s, 10000 a day) leaves 90 of them for polls, so each is checked every 8m20s on average"
	if code != 0 || !strings.Contains(out, want) {
		t.Fatalf("exit %d, output:\n%s\nwant it to contain:\n%s", code, out, want)
	}
}

func TestReadingCommandsRunWithoutSecrets(t *testing.T) {
	t.Setenv("LIMITS_TEST_TROCCO_KEY", "k")
	dir, path := writeConfig(t, troccoPipelines(1, "60s"))
	db := dir + "/s.db"
	if code, _, errOut := cli(t, "migrate", "-c", path, "--db", db); code != 0 && !strings.Contains(errOut, "unknown command") {
		t.Fatalf("migrate: %d %s", code, errOut)
	}
	// An analyst's shell: the key is not exported.
	t.Setenv("LIMITS_TEST_TROCCO_KEY", "")
	unsetEnv(t, "LIMITS_TEST_TROCCO_KEY")
	for _, args := range [][]string{
		{"status", "-c", path, "--db", db},
		{"report", "slo", "-c", path, "--db", db},
		{"export", "--table", "runs", "-c", path, "--db", db},
	} {
		if code, _, errOut := cli(t, args...); code != 0 {
			t.Errorf("%v: exit %d %s", args, code, errOut)
		}
	}
	// validate checks the shape and names what run will need; run insists.
	code, out, errOut := cli(t, "validate", "-c", path)
	if code != 0 || !strings.Contains(out, "warning: LIMITS_TEST_TROCCO_KEY is not set: 'sekisho run' will need it") {
		t.Errorf("validate without the secret: %d %q %q", code, out, errOut)
	}
	code, _, errOut = cli(t, "run", "-c", path, "--db", db, "--listen", "127.0.0.1:0")
	if code != 2 || !strings.Contains(errOut, "LIMITS_TEST_TROCCO_KEY is not set") {
		t.Errorf("run must insist on the secret: %d %q", code, errOut)
	}
}

// unsetEnv removes a variable for the rest of the test.
func unsetEnv(t *testing.T, name string) {
	t.Helper()
	old, had := os.LookupEnv(name)
	os.Unsetenv(name)
	t.Cleanup(func() {
		if had {
			os.Setenv(name, old)
		}
	})
}

package e2e

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// pgServer is a PostgreSQL server of the test's own, started with
// .ci/postgres on a free port, so the test may restart it without touching
// the shared test server other tests use.
type pgServer struct {
	URL string // admin URL
	dir string // holds data/ and log
	bin string // the server's bin directory
}

func startPGServer(t *testing.T) *pgServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	_, file, _, _ := runtime.Caller(0)
	script := filepath.Join(filepath.Dir(filepath.Dir(file)), ".ci", "postgres")
	cmd := exec.Command(script)
	cmd.Env = append(os.Environ(), fmt.Sprintf("SEKISHO_PG_PORT=%d", port))
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("start a private PostgreSQL: %v", err)
	}
	s := &pgServer{}
	for _, line := range strings.Split(string(out), "\n") {
		if v, ok := strings.CutPrefix(line, "export SEKISHO_TEST_POSTGRES="); ok {
			s.URL = strings.Trim(v, "'")
		}
		if v, ok := strings.CutPrefix(line, "export SEKISHO_TEST_POSTGRES_DIR="); ok {
			s.dir = strings.Trim(v, "'")
		}
	}
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	if s.URL == "" || s.dir == "" || len(bins) == 0 {
		t.Fatalf("unexpected .ci/postgres output: %s", out)
	}
	s.bin = bins[len(bins)-1]
	t.Cleanup(func() {
		s.ctl("stop", "-m", "immediate")
		os.RemoveAll(s.dir)
	})
	return s
}

// Restart stops the server (fast: sessions are cut) and starts it again.
func (s *pgServer) Restart(t *testing.T) {
	t.Helper()
	if out, err := s.ctl("restart", "-m", "fast", "-w"); err != nil {
		t.Fatalf("restart PostgreSQL: %v\n%s", err, out)
	}
}

func (s *pgServer) ctl(args ...string) ([]byte, error) {
	line := fmt.Sprintf("'%s/pg_ctl' -D '%s/data' -l '%s/log' %s", s.bin, s.dir, s.dir, strings.Join(args, " "))
	if os.Getuid() == 0 {
		return exec.Command("su", "postgres", "-s", "/bin/sh", "-c", line).CombinedOutput()
	}
	return exec.Command("sh", "-c", line).CombinedOutput()
}

// Command sekisho-habench measures sekisho on a shared PostgreSQL store
// (SPEC §14) and prints the figures BENCHMARKS.md reports:
//
//   - store throughput: transitions written per second through store.Apply
//     on SQLite and on PostgreSQL, unfenced and fenced by a lease epoch;
//   - idle load: transactions per second one idle replica (leader, then a
//     follower beside it) puts on the database;
//   - failover: the real binary, two replicas; the leader is killed
//     (SIGKILL: the lease must run out) or stopped (SIGTERM: it hands over)
//     over and over, and the time until the other replica leads is timed.
//
// Run it from the repository root (it builds cmd/sekisho) against a server
// where it may create databases:
//
//	go run ./cmd/sekisho-habench -postgres "$SEKISHO_TEST_POSTGRES"
package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sekisho-dev/sekisho/testkit/storebench"
	"github.com/sekisho-dev/sekisho/testkit/teststore"
)

func main() {
	admin := flag.String("postgres", os.Getenv("SEKISHO_TEST_POSTGRES"), "admin URL of a PostgreSQL server to create databases on")
	runs := flag.Int("runs", 2000, "runs driven through three transitions each in the throughput part")
	idle := flag.Duration("idle", 60*time.Second, "window of each idle-load measurement")
	kills := flag.Int("kills", 20, "SIGKILLs of the leader in the failover part")
	terms := flag.Int("terms", 20, "SIGTERMs of the leader in the failover part")
	skip := flag.String("skip", "", "comma-separated parts to skip: store, idle, failover")
	flag.Parse()
	if *admin == "" {
		fail(errors.New("give -postgres or set SEKISHO_TEST_POSTGRES (eval \"$(.ci/postgres)\" starts a server)"))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	skipped := map[string]bool{}
	for _, s := range strings.Split(*skip, ",") {
		skipped[strings.TrimSpace(s)] = true
	}
	fmt.Printf("sekisho-habench %s, %s/%s, %d CPUs, %s\n", time.Now().UTC().Format("2006-01-02"), runtime.GOOS, runtime.GOARCH,
		runtime.NumCPU(), runtime.Version())
	fmt.Printf("command: %s\n\n", strings.Join(os.Args, " "))
	if !skipped["store"] {
		if err := throughput(ctx, *admin, *runs); err != nil {
			fail(err)
		}
	}
	if skipped["idle"] && skipped["failover"] {
		return
	}
	dir, err := os.MkdirTemp("", "sekisho-habench-")
	if err != nil {
		fail(err)
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "sekisho")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/sekisho")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		fail(fmt.Errorf("build cmd/sekisho (run from the repository root): %w", err))
	}
	cfg := filepath.Join(dir, "pipelines.yaml")
	if err := os.WriteFile(cfg, []byte(config), 0o644); err != nil {
		fail(err)
	}
	if !skipped["idle"] {
		if err := idleLoad(ctx, *admin, bin, cfg, *idle); err != nil {
			fail(err)
		}
	}
	if !skipped["failover"] {
		if err := failover(ctx, *admin, bin, cfg, *kills, *terms); err != nil {
			fail(err)
		}
	}
}

// config is an idle daemon's: its gates open once a day, far from now.
const config = `version: 1
timezone: UTC
pipelines:
  - name: kant_daily
    schedule: "0 1 * * *"
    upstreams: []
  - name: hegel_daily
    schedule: "0 2 * * *"
    upstreams:
      - {name: kant, type: pipeline, pipeline: kant_daily}
`

func fail(err error) {
	fmt.Fprintln(os.Stderr, "sekisho-habench:", err)
	os.Exit(1)
}

// createDB makes a fresh database on the server and returns its URL and a
// function that drops it.
func createDB(ctx context.Context, admin string) (string, func(), error) {
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		return "", nil, err
	}
	defer conn.Close(ctx)
	var b [6]byte
	rand.Read(b[:])
	name := "sekisho_bench_" + hex.EncodeToString(b[:])
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return "", nil, err
	}
	u, err := url.Parse(admin)
	if err != nil {
		return "", nil, err
	}
	u.Path = "/" + name
	drop := func() {
		c, err := pgx.Connect(context.Background(), admin)
		if err != nil {
			return
		}
		defer c.Close(context.Background())
		c.Exec(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	}
	return u.String(), drop, nil
}

func throughput(ctx context.Context, admin string, n int) error {
	fmt.Println("## Store throughput: store.Apply, one transaction per transition")
	fmt.Println("| store | writes | transitions | per second |")
	fmt.Println("|---|---|---:|---:|")
	for _, d := range []string{"sqlite", "postgres"} {
		for _, fenced := range []bool{false, true} {
			loc, cleanup, err := location(ctx, admin, d)
			if err != nil {
				return err
			}
			st, err := teststore.Open(ctx, loc)
			if err != nil {
				cleanup()
				return err
			}
			var epoch int64
			if fenced {
				if d == "sqlite" {
					st.LockDaemon()
				}
				l, err := st.ClaimLease(ctx, "bench", 0, time.Hour)
				if err != nil {
					return err
				}
				epoch = l.Epoch
			}
			rate, count, err := storebench.TransitionsPerSecond(ctx, st, n, epoch)
			st.Close()
			cleanup()
			if err != nil {
				return err
			}
			kind := "unfenced"
			if fenced {
				kind = "fenced (leader epoch checked)"
			}
			fmt.Printf("| %s | %s | %d | %.0f |\n", d, kind, count, rate)
		}
	}
	fmt.Println()
	return nil
}

func location(ctx context.Context, admin, dialect string) (string, func(), error) {
	if dialect == "postgres" {
		return createDB(ctx, admin)
	}
	dir, err := os.MkdirTemp("", "sekisho-habench-store-")
	if err != nil {
		return "", nil, err
	}
	return filepath.Join(dir, "s.db"), func() { os.RemoveAll(dir) }, nil
}

// replica is one `sekisho run` child on the shared store.
type replica struct {
	cmd  *exec.Cmd
	addr string
	done chan struct{}
}

var listenRE = regexp.MustCompile(`listen=(\S+)`)

func startReplica(ctx context.Context, bin, cfg, db string) (*replica, error) {
	cmd := exec.Command(bin, "run", "-c", cfg, "--db", db, "--listen", "127.0.0.1:0")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	r := &replica{cmd: cmd, done: make(chan struct{})}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if m := listenRE.FindStringSubmatch(sc.Text()); m != nil && strings.Contains(sc.Text(), "sekisho started") {
				select {
				case addr <- m[1]:
				default:
				}
			}
		}
		io.Copy(io.Discard, stderr)
	}()
	go func() { cmd.Wait(); close(r.done) }()
	select {
	case r.addr = <-addr:
		return r, nil
	case <-r.done:
		return nil, errors.New("replica exited at start")
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		return nil, errors.New("replica did not start")
	case <-ctx.Done():
		cmd.Process.Kill()
		return nil, ctx.Err()
	}
}

type cluster struct {
	Role   string `json:"role"`
	Self   string `json:"self"`
	Leader string `json:"leader"`
	Epoch  int64  `json:"epoch"`
}

var httpc = &http.Client{Timeout: time.Second}

func (r *replica) cluster() (cluster, error) {
	var c cluster
	resp, err := httpc.Get("http://" + r.addr + "/api/v1/cluster")
	if err != nil {
		return c, err
	}
	defer resp.Body.Close()
	return c, json.NewDecoder(resp.Body).Decode(&c)
}

// waitRole polls the replica until it reports role, and returns when.
func (r *replica) waitRole(role string, timeout time.Duration) (time.Time, error) {
	end := time.Now().Add(timeout)
	for time.Now().Before(end) {
		if c, err := r.cluster(); err == nil && c.Role == role {
			return time.Now(), nil
		}
		time.Sleep(5 * time.Millisecond)
	}
	return time.Time{}, fmt.Errorf("replica %s not %s within %v", r.addr, role, timeout)
}

func (r *replica) stop(sig syscall.Signal) {
	r.cmd.Process.Signal(sig)
	<-r.done
}

// transactions is the server's count of committed and rolled-back
// transactions in db.
func transactions(ctx context.Context, admin, db string) (int64, error) {
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		return 0, err
	}
	defer conn.Close(ctx)
	name := strings.TrimPrefix(mustParse(db).Path, "/")
	// The statistics are flushed by each backend at most once a second,
	// and a snapshot is cached per transaction: read a fresh one.
	conn.Exec(ctx, "SELECT pg_stat_clear_snapshot()")
	var n int64
	err = conn.QueryRow(ctx, `SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = $1`, name).Scan(&n)
	return n, err
}

func mustParse(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		fail(err)
	}
	return u
}

func rate(ctx context.Context, admin, db string, window time.Duration) (float64, error) {
	a, err := transactions(ctx, admin, db)
	if err != nil {
		return 0, err
	}
	start := time.Now()
	select {
	case <-time.After(window):
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	b, err := transactions(ctx, admin, db)
	if err != nil {
		return 0, err
	}
	return float64(b-a) / time.Since(start).Seconds(), nil
}

func idleLoad(ctx context.Context, admin, bin, cfg string, window time.Duration) error {
	db, drop, err := createDB(ctx, admin)
	if err != nil {
		return err
	}
	defer drop()
	a, err := startReplica(ctx, bin, cfg, db)
	if err != nil {
		return err
	}
	defer a.stop(syscall.SIGTERM)
	if _, err := a.waitRole("leader", 30*time.Second); err != nil {
		return err
	}
	time.Sleep(5 * time.Second) // past start-up
	lead, err := rate(ctx, admin, db, window)
	if err != nil {
		return err
	}
	b, err := startReplica(ctx, bin, cfg, db)
	if err != nil {
		return err
	}
	defer b.stop(syscall.SIGTERM)
	time.Sleep(5 * time.Second)
	both, err := rate(ctx, admin, db, window)
	if err != nil {
		return err
	}
	fmt.Printf("## Idle load on the database (pg_stat_database xact_commit + xact_rollback, %v windows)\n", window)
	fmt.Println("| replicas | transactions/s |")
	fmt.Println("|---|---:|")
	fmt.Printf("| leader alone | %.1f |\n", lead)
	fmt.Printf("| leader + follower | %.1f |\n", both)
	fmt.Printf("| follower (difference) | %.1f |\n\n", both-lead)
	return nil
}

func failover(ctx context.Context, admin, bin, cfg string, kills, terms int) error {
	db, drop, err := createDB(ctx, admin)
	if err != nil {
		return err
	}
	defer drop()
	reps := make([]*replica, 2)
	for i := range reps {
		if reps[i], err = startReplica(ctx, bin, cfg, db); err != nil {
			return err
		}
	}
	defer func() {
		for _, r := range reps {
			r.stop(syscall.SIGTERM)
		}
	}()
	var mu sync.Mutex
	results := map[string][]time.Duration{}
	for _, plan := range []struct {
		name string
		sig  syscall.Signal
		n    int
	}{{"SIGKILL (crash: the lease runs out)", syscall.SIGKILL, kills}, {"SIGTERM (hand-over)", syscall.SIGTERM, terms}} {
		for i := 0; i < plan.n; i++ {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			leader, follower := -1, -1
			for try := 0; try < 3000 && (leader < 0 || follower < 0); try++ {
				leader, follower = -1, -1
				for j, r := range reps {
					c, err := r.cluster()
					if err != nil {
						continue
					}
					if c.Role == "leader" {
						leader = j
					} else if c.Role == "follower" && c.Leader != "" {
						follower = j
					}
				}
				if leader < 0 || follower < 0 {
					time.Sleep(5 * time.Millisecond)
				}
			}
			if leader < 0 || follower < 0 {
				return errors.New("no leader and follower pair")
			}
			// Land the kill anywhere in the renewal cycle.
			time.Sleep(time.Duration(i%7) * 300 * time.Millisecond)
			start := time.Now()
			if plan.sig == syscall.SIGKILL {
				reps[leader].cmd.Process.Kill()
			} else {
				reps[leader].cmd.Process.Signal(syscall.SIGTERM)
			}
			at, err := reps[follower].waitRole("leader", 30*time.Second)
			if err != nil {
				return err
			}
			mu.Lock()
			results[plan.name] = append(results[plan.name], at.Sub(start))
			mu.Unlock()
			<-reps[leader].done
			if reps[leader], err = startReplica(ctx, bin, cfg, db); err != nil {
				return err
			}
			fmt.Fprintf(os.Stderr, "# %s %d: %v\n", plan.name, i+1, at.Sub(start).Round(time.Millisecond))
		}
	}
	fmt.Println("## Failover: leader stopped → the other replica leads (2 replicas, real binary, ha.lease 6s)")
	fmt.Println("| how the leader stopped | samples | p50 | p99 | max |")
	fmt.Println("|---|---:|---:|---:|---:|")
	for _, name := range []string{"SIGKILL (crash: the lease runs out)", "SIGTERM (hand-over)"} {
		d := results[name]
		if len(d) == 0 {
			continue
		}
		sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
		fmt.Printf("| %s | %d | %v | %v | %v |\n", name, len(d), pct(d, 50), pct(d, 99), d[len(d)-1].Round(time.Millisecond))
	}
	fmt.Println()
	return nil
}

// pct is the nearest-rank percentile of sorted d.
func pct(d []time.Duration, p int) time.Duration {
	i := (p*len(d) + 99) / 100
	return d[max(0, min(len(d)-1, i-1))].Round(time.Millisecond)
}

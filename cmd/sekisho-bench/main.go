// Command sekisho-bench measures sekisho at scale against the simulators on
// loopback and prints the figures BENCHMARKS.md reports: API requests per
// poke cycle, event→store latency, gate latency when polling and when
// pushed, peak RSS and CPU of the daemon while 10,000 pipelines wait,
// transitions written per second, the `report slo` time over a year of
// 1,000 pipelines, and the fixed-cron status quo side by side.
//
// The daemon (engine, notice sender, HTTP server, real store, real clients)
// runs in a child process of this binary, so its memory and CPU are read
// from /proc without the simulators'. Linux only.
//
//	go run ./cmd/sekisho-bench                 # everything, 3-minute window
//	go run ./cmd/sekisho-bench -wait 60s       # a shorter window
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"time"
)

func main() {
	child := flag.Bool("child", false, "internal: run the measured daemon")
	cfgPath := flag.String("c", "", "internal: config of the child")
	dbPath := flag.String("db", "", "internal: store of the child")
	listen := flag.String("listen", "", "internal: listen address of the child")
	cpuProfile := flag.String("cpuprofile", "", "write the daemon's CPU profile of the scale run's start (config, gates, first polls) to this file, of its measuring window (what the CPU figure is) to FILE.window, of the listings after it to FILE.listings, execution traces of the window and of the listings to FILE.window.trace and FILE.listings.trace, and its heap profile (live and allocated since start) as it ends to FILE.heap")
	heapFile := flag.String("heapfile", "", "internal: where the child reports its live heap at SIGUSR1")
	pg := flag.String("pg", "", "a PostgreSQL server's URL (e.g. $SEKISHO_TEST_POSTGRES): the scale and model runs keep the daemon's store in a fresh database there, dropped after, instead of a SQLite file")
	model := flag.Bool("model", false, "run only the memory model: the daemon's live heap at 1,000 and 10,000 pipelines, waiting and with open runs")

	pipelines := flag.Int("pipelines", 10000, "pipelines in the scale run")
	resources := flag.Int("resources", 2000, "distinct upstream resources in the scale run")
	latency := flag.Int("latency", 200, "latency pipelines in the scale run (half polled, half pushed)")
	poke := flag.Duration("poke", 60*time.Second, "poke interval of the scale run")
	wait := flag.Duration("wait", 3*time.Minute, "CPU and request window of the scale run")
	i3wait := flag.Duration("issue3-wait", 30*time.Second, "window of the 1,000-pipeline request count")
	i3poke := flag.Duration("issue3-poke", 5*time.Second, "poke interval of the 1,000-pipeline request count")
	skip := flag.String("skip", "", "comma-separated parts to skip: issue3, scale, store, slo")
	keep := flag.Bool("keep", false, "keep the work directories")
	budgetOnly := flag.Bool("budget", false, "run only the request-budget benchmark (virtual time, issue #12)")
	troccoDays := flag.Int("budget-trocco-days", 30, "evaluated days of the TROCCO budget benchmark")
	glueDays := flag.Int("budget-glue-days", 7, "evaluated days of the Glue budget benchmark")
	obs := flag.Bool("observe", false, "scale run with traces and lineage on, against loopback receivers")
	hourlyScale := flag.Int("hourly", 0, "of the scale run's waiting pipelines, this many fire every hour (once in the middle of the -wait window, which must be under an hour) instead of daily: -pipelines 10000 -hourly 1000 is 1,000 hourly + 9,000 daily (issue #21)")
	etaStores := flag.String("eta", "", "comma-separated stores (e.g. written by `sekisho demo --db`): report only the ETA accuracy of their history (issue #26)")
	fireIn := flag.Duration("fire-in", 0, "scale run: every gate fires this long after the daemon starts (it must be ready by then), so the gates open on a daemon already up, and the run prints the time from their fire instant to every gate open (issue #23's goal), and the latency of 50 events pushed in the 3 s after it, while the gates open (their 50 pipelines' gates fire 2 s earlier); 0: they are due a minute before the start, and the run times the start-up")
	historyDays := flag.Int("history-days", 0, "scale run: the store holds this many past days of every pipeline (runs, transitions, observations) before the daemon starts, as after a month of running")
	withSLO := flag.Bool("slo", false, "scale run: every pipeline has an SLO (within 3h), so the engine projects ETAs (from -history-days' history)")
	hourlyMonth := flag.Bool("hourly-month", false, "run only the hourly store benchmark: a month of -hourly-pipelines hourly pipelines, rows per day, store size and `report slo` time (SQLite; PostgreSQL too with -pg) (issue #21)")
	hourlyPipelines := flag.Int("hourly-pipelines", 1000, "hourly pipelines of -hourly-month")
	hourlyDays := flag.Int("hourly-days", 30, "simulated days of -hourly-month")
	flag.Parse()

	logf := func(f string, a ...any) { fmt.Fprintf(os.Stderr, "# "+f+"\n", a...) }
	if *hourlyMonth {
		header()
		if err := runHourlyMonth(context.Background(), *hourlyPipelines, *hourlyDays, *pg, logf); err != nil {
			fail(err)
		}
		return
	}

	if *etaStores != "" {
		header()
		for _, path := range strings.Split(*etaStores, ",") {
			f, err := runETABench(context.Background(), path)
			if err != nil {
				fail(err)
			}
			printETA(path, f)
		}
		return
	}

	if *budgetOnly {
		header()
		if err := runBudgetBench(*troccoDays, *glueDays); err != nil {
			fail(err)
		}
		return
	}

	if *child {
		if err := runChild(*cfgPath, *dbPath, *listen, *cpuProfile, *heapFile); err != nil {
			fmt.Fprintln(os.Stderr, "sekisho-bench child:", err)
			os.Exit(1)
		}
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	self, err := childBinary()
	if err != nil {
		fail(err)
	}
	binDir = filepath.Dir(self)
	defer os.RemoveAll(binDir)
	skipped := map[string]bool{}
	for _, s := range strings.Split(*skip, ",") {
		skipped[strings.TrimSpace(s)] = true
	}
	if *model {
		header()
		if err := runModel(ctx, self, *poke, *pg, logf); err != nil {
			fail(err)
		}
		return
	}

	header()

	var pushP50 time.Duration
	if !skipped["issue3"] {
		sc := scenario{name: "issue3", pipelines: 1000, glue: 200, trocco: 100, perPipeline: 2, poke: *i3poke,
			wait: *i3wait, pushProbes: 50, keep: *keep}
		r, err := sc.run(ctx, self, logf)
		if err != nil {
			fail(err)
		}
		fmt.Println("## 1,000 pipelines on 200 Glue jobs + 100 TROCCO job definitions")
		printRequests(r)
		fmt.Printf("event → store (POST /api/v1/events/glue → observation row): p50 %s, p99 %s, max %s (n=%d)\n\n",
			ms(pct(r.pushStore, 50)), ms(pct(r.pushStore, 99)), ms(pct(r.pushStore, 100)), len(r.pushStore))
	}
	if !skipped["scale"] {
		pool := *resources - 2 - *latency
		sc := scenario{name: "scale", pipelines: *pipelines, glue: pool / 2, trocco: pool / 4, airflow: pool - pool/2 - pool/4,
			perPipeline: 3, latencyPoll: *latency / 2, latencyPush: *latency - *latency/2, poke: *poke, wait: *wait,
			cpuProfile: *cpuProfile, keep: *keep, observe: *obs, pg: *pg, hourly: *hourlyScale, historyDays: *historyDays, slo: *withSLO, fireIn: *fireIn}
		if sc.fireIn > 0 {
			sc.openingPush = 50
		}
		if sc.hourly > 0 && sc.wait >= time.Hour {
			fail(fmt.Errorf("-hourly needs a -wait under an hour (the hourly gates fire once in its middle), not %s", sc.wait))
		}
		r, err := sc.run(ctx, self, logf)
		if err != nil {
			fail(err)
		}
		fmt.Printf("## %d pipelines, %d upstreams over %d distinct resources, poke %s\n", sc.pipelines, r.upstreams, r.resources, sc.poke)
		if sc.hourly > 0 {
			fmt.Printf("of them %d hourly (a round of their gates due %s into the window; %d runs at its end, %d at its start), %d daily\n",
				min(sc.hourly, sc.waiting()), sc.wait/2, r.runsAtEnd, sc.pipelines, sc.pipelines-min(sc.hourly, sc.waiting()))
		}
		if *pg != "" {
			fmt.Println("store: PostgreSQL (a fresh database on the -pg server)")
		}
		if sc.slo {
			fmt.Println("every pipeline has an SLO (within 3h): the engine projects ETAs")
		}
		if h := r.history; sc.historyDays > 0 {
			fmt.Printf("history before the start: %d days, %d runs, %d transitions, %d observations (written in %s)\n",
				sc.historyDays, h.runs, h.transitions, h.observations, h.took.Round(time.Millisecond))
		}
		if sc.fireIn > 0 {
			fmt.Printf("gates fire %s after the start (the daemon ready after %s): fire to every gate open: %s\n",
				sc.fireIn, r.ready.Round(time.Millisecond), r.fireToOpen.Round(time.Millisecond))
		} else {
			fmt.Printf("startup to every gate open: %s (ready after %s)\n", r.startup.Round(time.Millisecond), r.ready.Round(time.Millisecond))
		}
		if sc.observe {
			fmt.Printf("traces and lineage on: %d spans and %d OpenLineage events received\n", r.spans, r.events)
		}
		fmt.Printf("peak RSS (VmHWM): %.1f MiB; RSS at end %.1f MiB\n", float64(r.hwmKB)/1024, float64(r.rssKB)/1024)
		fmt.Printf("CPU while waiting: %s user+sys over %s = %.2f%% of one core\n", r.cpu, r.window.Round(time.Second),
			100*r.cpu.Seconds()/r.window.Seconds())
		printRequests(r)
		fmt.Printf("gate latency, polling (upstream finished → trigger accepted): p50 %s, p99 %s, max %s (n=%d)\n",
			ms(pct(r.pollLat, 50)), ms(pct(r.pollLat, 99)), ms(pct(r.pollLat, 100)), len(r.pollLat))
		fmt.Printf("gate latency, pushed event: p50 %s, p99 %s, max %s (n=%d)\n", ms(pct(r.pushLat, 50)),
			ms(pct(r.pushLat, 99)), ms(pct(r.pushLat, 100)), len(r.pushLat))
		fmt.Print(r.pushSteps)
		if len(r.openLat) > 0 {
			fmt.Printf("gate latency, pushed while the gates open (events from 0.1 s to 3.0 s after the fire instant, %d of them before every gate was open): p50 %s, p99 %s, max %s (n=%d)\n",
				r.openBefore, ms(pct(r.openLat, 50)), ms(pct(r.openLat, 99)), ms(pct(r.openLat, 100)), len(r.openLat))
			fmt.Print(r.openSteps)
		}
		fmt.Printf("listings, after the window (three GETs each, whole answer):")
		for i, l := range r.listings {
			if i%3 == 0 {
				fmt.Printf("\n  %-15s", l.path)
			}
			fmt.Printf(" %s", ms(l.took))
		}
		fmt.Printf("\n  peak RSS after them: %.1f MiB (%+.1f MiB)\n", float64(r.hwmAfterKB)/1024, float64(r.hwmAfterKB-r.hwmKB)/1024)
		if r.missedTriggers > 0 {
			fmt.Printf("WARNING: %d latency pipelines were not triggered in time\n", r.missedTriggers)
		}
		pushP50 = pct(r.pushLat, 50)
		p := sc.poke
		fmt.Printf("Airflow sensors for comparison (detection delay uniform over one poke interval, before scheduling overhead):\n")
		fmt.Printf("  BaseSensorOperator poke_interval 60s: mean %s, p99 %s\n", ms(30*time.Second), ms(59400*time.Millisecond))
		fmt.Printf("  GlueJobSensor poke_interval 120s:     mean %s, p99 %s\n", ms(60*time.Second), ms(118800*time.Millisecond))
		fmt.Printf("  sekisho polling at %s: p99 goal %s\n", p, ms(p+250*time.Millisecond))
		fmt.Println(summaryLine(buildCommit(), loadAverage(), *r) + "\n")
	}
	if !skipped["store"] {
		rate, n, err := transitionsPerSecond(ctx, 2000)
		if err != nil {
			fail(err)
		}
		fmt.Printf("## store\ntransitions written: %.0f per second (%d transitions, one transaction each)\n\n", rate, n)
	}
	if !skipped["slo"] {
		d, err := sloBench(ctx)
		if err != nil {
			fail(err)
		}
		fmt.Printf("## report slo\none year of 1,000 pipelines: %s per report (go test -bench BenchmarkReportYear1000 ./slo)\n\n", ms(d))
	}
	lat := pushP50
	if lat == 0 {
		lat = time.Second
	}
	sq := compareStatusQuo(120, lat)
	fmt.Printf("## fixed cron at the previous month's p80 finish vs sekisho (%d simulated months)\n", sq.months)
	fmt.Printf("cron fires on average at %s after midnight\n", clockOf(sq.cronAt))
	fmt.Printf("normal days: the downstream starts %s later than with sekisho (median; mean %s)\n",
		minutes(sq.laterNormalP50), minutes(sq.laterNormalAvg))
	fmt.Printf("cron starts before the upstream finished on %.1f%% of days (by %s on average): stale or partial data\n",
		100*sq.early, minutes(sq.earlyMean))
}

func printRequests(r *result) {
	cycles := r.window.Seconds() / r.sc.poke.Seconds()
	report := func(kind string, byRes map[string]int, n int) {
		if n == 0 {
			return
		}
		total, max, min := 0, 0, -1
		for _, v := range byRes {
			total += v
			if v > max {
				max = v
			}
			if min < 0 || v < min {
				min = v
			}
		}
		if len(byRes) < n {
			min = 0
		}
		fmt.Printf("  %-8s %5d resources: %6d requests = %.3f per resource per cycle (min %d, max %d per resource in %.1f cycles)\n",
			kind, n, total, float64(total)/float64(n)/cycles, min, max, cycles)
	}
	fmt.Printf("requests per poke cycle over %s (%.1f cycles of %s):\n", r.window.Round(time.Second), cycles, r.sc.poke)
	report("glue", r.glueReq, r.sc.glue)
	report("trocco", r.troccoReq, r.sc.trocco)
	if r.sc.airflow > 0 {
		fmt.Printf("  %-8s %5d resources: %6d requests = %.3f per resource per cycle\n", "airflow", r.sc.airflow, r.airflowList,
			float64(r.airflowList)/float64(r.sc.airflow)/cycles)
	}
}

var nsPerOp = regexp.MustCompile(`BenchmarkReportYear1000\S*\s+\d+\s+(\d+(?:\.\d+)?) ns/op`)

func sloBench(ctx context.Context) (time.Duration, error) {
	out, err := exec.CommandContext(ctx, "go", "test", "-run", "^$", "-bench", "^BenchmarkReportYear1000$", "-benchtime", "5x",
		"github.com/sekisho-dev/sekisho/slo").CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("slo benchmark: %w\n%s", err, out)
	}
	m := nsPerOp.FindSubmatch(out)
	if m == nil {
		return 0, fmt.Errorf("slo benchmark: no ns/op in:\n%s", out)
	}
	ns, _ := strconv.ParseFloat(string(m[1]), 64)
	return time.Duration(ns), nil
}

func ms(d time.Duration) string {
	if d >= 10*time.Second {
		return fmt.Sprintf("%.1f s", d.Seconds())
	}
	return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
}

func minutes(d time.Duration) string { return fmt.Sprintf("%.0f min", d.Minutes()) }

func clockOf(d time.Duration) string {
	return fmt.Sprintf("%02d:%02d", int(d.Hours()), int(d.Minutes())%60)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "sekisho-bench:", err)
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(1)
}

// binDir holds the copy of this binary the daemons run from (childBinary),
// removed as the run ends.
var binDir string

// header prints what every run's output starts with: the machine, the
// build and its load, and the command.
func header() {
	fmt.Printf("sekisho-bench %s, %s/%s, %d CPUs, %s, commit %s, load %s\n", time.Now().UTC().Format("2006-01-02"), runtime.GOOS, runtime.GOARCH,
		runtime.NumCPU(), runtime.Version(), buildCommit(), loadAverage())
	fmt.Printf("command: %s\n\n", strings.Join(os.Args, " "))
}

// childBinary is a copy of this binary, made now in a directory of its
// own, that the daemons measured run from. How a binary's file came into
// the page cache moves its file-backed pages, which peak RSS counts: one
// fresh from the linker peaked ~5 MiB higher than a copy of the same file
// (BENCHMARKS.md, "A binary fresh from the linker peaks higher"), so two
// trees compare only when each runs a copy made the same way.
func childBinary() (string, error) {
	self, err := os.Executable()
	if err != nil {
		return "", err
	}
	dir, err := os.MkdirTemp("", "sekisho-bench-bin")
	if err != nil {
		return "", err
	}
	src, err := os.Open(self)
	if err != nil {
		return "", err
	}
	defer src.Close()
	path := filepath.Join(dir, "sekisho-bench")
	dst, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_EXCL, 0o755)
	if err != nil {
		return "", err
	}
	if _, err := io.Copy(dst, src); err != nil {
		dst.Close()
		return "", err
	}
	return path, dst.Close()
}

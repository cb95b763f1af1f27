package main

// The request-budget benchmark (issue #12): many upstreams of one
// connection under the vendor's limit, their gate latency and the 429s,
// for fixed-interval polling and for polls scheduled by expected finish
// (policy/pollplan), with the push path beside them. Time is virtual: a
// fake clock drives the budget and the simulators, the requests are real
// HTTP on loopback through the real clients, so a month of nights runs in
// seconds and the simulator counts every request against its limit.

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http/httptest"
	"sort"
	"strconv"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/client/troccoapi"
	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/policy/budget"
	"github.com/sekisho-dev/sekisho/policy/pollplan"
	sensorglue "github.com/sekisho-dev/sekisho/sensors/glue"
	"github.com/sekisho-dev/sekisho/sim/gluesim"
	"github.com/sekisho-dev/sekisho/sim/simlimit"
	"github.com/sekisho-dev/sekisho/sim/troccosim"
	"github.com/sekisho-dev/sekisho/testkit/budgettest"
)

// budgetCase is one connection's benchmark.
type budgetCase struct {
	name      string
	jobs      int
	limit     budget.Limit
	poke      time.Duration // poke_interval of every pipeline
	days      int           // evaluated days, after 30 days of history
	gateEarly time.Duration // the gate opens this long before the usual finish
	step      time.Duration // how far the clock moves while a call waits for the budget
}

// vendor is the simulator side of one case: it scripts a job's run and
// answers whether a check sees it ended.
type vendor interface {
	script(job int, start time.Time, runFor time.Duration) (id string)
	check(ctx context.Context, job int, since time.Time, id string) (ended bool, err error)
	lookup(ctx context.Context, job int, id string) error
	throttled() int
	requests() int
}

// budgetResult is one mode's figures.
type budgetResult struct {
	mode                string
	gates               int
	p50, p99, max       time.Duration
	requests, throttled int
	pushP50, pushP99    time.Duration
}

// jobDay is one job's run on one evaluated day.
type jobDay struct {
	job, day     int
	gate, finish time.Time
	id           string
	seen         bool
}

const historyDays = 30

// plan draws each job's usual finish (staggered over the night, 22:00 to
// 06:00) and 30+days finishes around it: a few minutes of jitter, and on one
// day in ten a stall or retry of 30 to 120 minutes.
func (c budgetCase) plan(seed uint64, start time.Time) (usual []time.Duration, finishes [][]time.Time) {
	rng := rand.New(rand.NewPCG(seed, seed^0xb0d9e7))
	usual = make([]time.Duration, c.jobs)
	finishes = make([][]time.Time, c.jobs)
	for j := range c.jobs {
		usual[j] = 22*time.Hour + time.Duration(rng.Int64N(int64(8*time.Hour)))
		for d := range historyDays + c.days {
			f := start.AddDate(0, 0, d).Add(usual[j]).Add(time.Duration(rng.NormFloat64() * float64(3*time.Minute)))
			if rng.IntN(10) == 0 {
				f = f.Add(30*time.Minute + time.Duration(rng.Int64N(int64(90*time.Minute))))
			}
			finishes[j] = append(finishes[j], f)
		}
	}
	return usual, finishes
}

// runBudgetCase simulates c in one mode ("fixed" or "scheduled"), with
// pushed events beside the polls when push is set.
func runBudgetCase(c budgetCase, mode string, push bool, newVendor func(clk *clockwork.FakeClock, b *budget.Budget) (vendor, func())) (budgetResult, error) {
	start := time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)
	usual, finishes := c.plan(1, start)
	clk := clockwork.NewFakeClockAt(start.AddDate(0, 0, historyDays-1))
	b := budget.New(c.name, c.limit, clk)
	v, stop := newVendor(clk, b)
	defer stop()
	share := c.limit.Share(c.jobs)
	runFor := 20 * time.Minute

	// Script every evaluated run, and queue its gate's first check.
	type item struct {
		at   time.Time
		jd   *jobDay
		push bool
	}
	var queue []item
	for d := historyDays; d < historyDays+c.days; d++ {
		for j := range c.jobs {
			f := finishes[j][d]
			jd := &jobDay{job: j, day: d, gate: start.AddDate(0, 0, d).Add(usual[j] - c.gateEarly), finish: f}
			jd.id = v.script(j, f.Add(-runFor), runFor)
			queue = append(queue, item{at: jd.gate, jd: jd})
			if push {
				queue = append(queue, item{at: f, jd: jd, push: true})
			}
		}
	}
	less := func(a, b item) bool { return a.at.Before(b.at) }
	sort.Slice(queue, func(i, j int) bool { return less(queue[i], queue[j]) })
	insert := func(it item) {
		i := sort.Search(len(queue), func(k int) bool { return it.at.Before(queue[k].at) })
		queue = append(queue, item{})
		copy(queue[i+1:], queue[i:])
		queue[i] = it
	}

	done := make(chan struct{})
	go budgettest.Drive(clk, c.step, done)
	defer close(done)
	ctx := context.Background()
	var lat, pushLat []time.Duration
	for len(queue) > 0 {
		it := queue[0]
		queue = queue[1:]
		if it.jd.seen && !it.push {
			continue
		}
		if d := it.at.Sub(clk.Now()); d > 0 {
			clk.Advance(d)
		}
		if it.push {
			// The event arrives at the finish; it counts once one look-up
			// of the run has answered (SPEC §13).
			if err := v.lookup(ctx, it.jd.job, it.jd.id); err != nil {
				return budgetResult{}, err
			}
			pushLat = append(pushLat, clk.Since(it.jd.finish))
			continue
		}
		ended, err := v.check(ctx, it.jd.job, it.jd.gate.Add(-12*time.Hour), it.jd.id)
		if err != nil {
			return budgetResult{}, err
		}
		now := clk.Now()
		if ended {
			it.jd.seen = true
			from := it.jd.finish
			if it.jd.gate.After(from) {
				from = it.jd.gate
			}
			lat = append(lat, now.Sub(from))
			continue
		}
		next := now.Add(share)
		if mode == "scheduled" {
			// The job's own last 30 finishes, as the store would hold them.
			d := it.jd.day
			next = pollplan.Next(pollplan.Input{Now: now, Finishes: finishes[it.jd.job][d-historyDays : d], PokeInterval: c.poke, Share: share})
		}
		insert(item{at: next, jd: it.jd})
	}
	r := budgetResult{mode: mode, gates: len(lat), requests: v.requests(), throttled: v.throttled()}
	r.p50, r.p99, r.max = pct(lat, 50), pct(lat, 99), pct(lat, 100)
	if push {
		r.mode += " + push"
		r.pushP50, r.pushP99 = pct(pushLat, 50), pct(pushLat, 99)
	}
	return r, nil
}

// troccoVendor is the TROCCO simulator enforcing its documented limit,
// asked through the real client.
func troccoVendor(clk *clockwork.FakeClock, b *budget.Budget) (vendor, func()) {
	sim := troccosim.New(troccosim.Options{Token: "bench-key", Clock: clk})
	srv := httptest.NewServer(sim)
	api, err := troccoapi.New(srv.URL, "bench-key", troccoapi.WithClock(clk), troccoapi.WithBudget(b),
		troccoapi.WithRetry(0, time.Millisecond, time.Millisecond))
	if err != nil {
		panic(err)
	}
	return &trocco{sim: sim, api: api, clk: clk}, srv.Close
}

type trocco struct {
	sim *troccosim.Sim
	api *troccoapi.Client
	clk clockwork.Clock
}

func (t *trocco) script(job int, start time.Time, runFor time.Duration) string {
	id := t.sim.AddJob(int64(1000+job), start, troccosim.Outcome{RunFor: runFor, Status: "succeeded"})
	return strconv.FormatInt(id, 10)
}

func (t *trocco) check(ctx context.Context, job int, since time.Time, id string) (bool, error) {
	jobs, err := t.api.ListJobs(ctx, int64(1000+job), since, t.clk.Now(), "UTC")
	if err != nil {
		return false, err
	}
	for _, j := range jobs {
		if strconv.FormatInt(j.ID, 10) == id {
			st, _ := troccoapi.MapStatus(j.Status)
			return st.Ended(), nil
		}
	}
	return false, nil
}

func (t *trocco) lookup(ctx context.Context, _ int, id string) error {
	n, _ := strconv.ParseInt(id, 10, 64)
	_, err := t.api.GetJob(ctx, n)
	return err
}

func (t *trocco) throttled() int { return t.sim.Throttled() }
func (t *trocco) requests() int  { return t.sim.Total() }

// glueVendor is the Glue simulator throttling past the limit, asked
// through the real aws-sdk-go-v2 client.
func glueVendor(limit budget.Limit) func(clk *clockwork.FakeClock, b *budget.Budget) (vendor, func()) {
	return func(clk *clockwork.FakeClock, b *budget.Budget) (vendor, func()) {
		sim := gluesim.New(clk, gluesim.WithLimit(simlimit.Limit{Requests: limit.Requests, Per: limit.Per}))
		srv := sim.NewServer()
		s, err := sensorglue.New(context.Background(), &config.Glue{Region: "ap-northeast-1", Endpoint: srv.URL},
			sensorglue.WithStaticCredentials("AKIDBENCH", "bench-secret"), sensorglue.WithBudget(b),
			sensorglue.WithRetry(1, time.Millisecond), sensorglue.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
		if err != nil {
			panic(err)
		}
		return &glueV{sim: sim, s: s}, srv.Close
	}
}

type glueV struct {
	sim *gluesim.Sim
	s   *sensorglue.Sensor
}

func jobName(job int) string { return "bench-job-" + strconv.Itoa(job) }

func (g *glueV) script(job int, start time.Time, runFor time.Duration) string {
	return g.sim.PlanRun(jobName(job), gluesim.Run{Start: start, Duration: runFor})
}

func (g *glueV) check(ctx context.Context, job int, since time.Time, id string) (bool, error) {
	runs, err := g.s.Runs(ctx, sekisho.Resource{Type: config.TypeGlueJob, ID: jobName(job)}, since)
	if err != nil {
		return false, err
	}
	for _, r := range runs {
		if r.ExternalID == id {
			return r.State.Ended(), nil
		}
	}
	return false, nil
}

func (g *glueV) lookup(ctx context.Context, job int, id string) error {
	_, err := g.s.StartedAt(ctx, sekisho.Resource{Type: config.TypeGlueJob, ID: jobName(job)}, id)
	return err
}

func (g *glueV) throttled() int { return g.sim.Throttled() }
func (g *glueV) requests() int  { return g.sim.Requests().Total }

// runBudgetBench prints the figures of both connections, all modes.
func runBudgetBench(troccoDays, glueDays int) error {
	cases := []struct {
		c budgetCase
		v func(*clockwork.FakeClock, *budget.Budget) (vendor, func())
	}{
		{budgetCase{name: "trocco", jobs: 50, limit: budget.TROCCO, poke: time.Minute, days: troccoDays,
			gateEarly: 2 * time.Hour, step: time.Second}, troccoVendor},
		{budgetCase{name: "glue", jobs: 200, limit: budget.Limit{Requests: 5, Per: time.Second}, poke: 10 * time.Second,
			days: glueDays, gateEarly: 30 * time.Minute, step: 50 * time.Millisecond},
			glueVendor(budget.Limit{Requests: 5, Per: time.Second})},
	}
	for _, tc := range cases {
		c := tc.c
		fmt.Printf("## %d %s upstreams, budget %s, %d days after %d days of history\n\n", c.jobs, c.name, c.limit, c.days, historyDays)
		fmt.Printf("fixed interval: %s (the budget's poll share over %d resources); poke_interval %s; gate opens %s before the usual finish\n\n",
			c.limit.Share(c.jobs), c.jobs, c.poke, c.gateEarly)
		fmt.Println("| mode | gates | gate latency p50 | p99 | max | requests | 429s | push p50 | push p99 |")
		fmt.Println("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
		for _, m := range []struct {
			mode string
			push bool
		}{{"fixed", false}, {"scheduled", false}, {"scheduled", true}} {
			r, err := runBudgetCase(c, m.mode, m.push, tc.v)
			if err != nil {
				return fmt.Errorf("%s %s: %w", c.name, m.mode, err)
			}
			push := "-"
			push99 := "-"
			if m.push {
				push, push99 = r.pushP50.Round(time.Millisecond).String(), r.pushP99.Round(time.Millisecond).String()
			}
			fmt.Printf("| %s | %d | %s | %s | %s | %d | %d | %s | %s |\n", r.mode, r.gates, r.p50.Round(time.Second),
				r.p99.Round(time.Second), r.max.Round(time.Second), r.requests, r.throttled, push, push99)
		}
		fmt.Println()
	}
	return nil
}

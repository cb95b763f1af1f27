package main

import (
	"context"
	"fmt"
	"time"
)

// modelPoint is one measured daemon of the memory model.
type modelPoint struct {
	name      string
	pipelines int
	pool      int  // resources of the waiting pool
	open      bool // gates open: every pipeline has a waiting run
	r         *result
}

// runModel measures the live heap of the daemon at 1,000 and 10,000
// pipelines, with gates still ahead (waiting pipelines, no run) and with
// every gate open (a waiting run each), and at 10,000 open runs on a
// smaller pool of resources, and derives the bytes per waiting pipeline,
// per open run and per polled resource (BENCHMARKS.md, "Memory model").
func runModel(ctx context.Context, self string, poke time.Duration, pg string, logf func(string, ...any)) error {
	points := []*modelPoint{
		{name: "1k waiting", pipelines: 1000, pool: 2000},
		{name: "1k open", pipelines: 1000, pool: 2000, open: true},
		{name: "10k waiting", pipelines: 10000, pool: 2000},
		{name: "10k open", pipelines: 10000, pool: 2000, open: true},
		{name: "10k open, 500 resources", pipelines: 10000, pool: 500, open: true},
	}
	for _, p := range points {
		sc := scenario{name: "model " + p.name, pipelines: p.pipelines, glue: p.pool / 2, trocco: p.pool / 4,
			airflow: p.pool - p.pool/2 - p.pool/4, perPipeline: 3, poke: poke, model: true, gatesLater: !p.open, pg: pg}
		r, err := sc.run(ctx, self, logf)
		if err != nil {
			return fmt.Errorf("%s: %w", p.name, err)
		}
		p.r = r
		logf("%s: live heap %.1f MiB, RSS %.1f MiB, peak RSS %.1f MiB, %d resources polled", p.name, mib(r.heap.live),
			float64(r.rssKB)/1024, float64(r.hwmKB)/1024, r.used)
	}
	fmt.Println("## memory model (live heap after a full GC, one poke cycle after the gates)")
	fmt.Println("| daemon | pipelines | resources polled | live heap | heap in use | heap free, kept | stacks | Go runtime mapped | RSS | RSS − Go mapped | peak RSS |")
	fmt.Println("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, p := range points {
		used := p.r.used
		if !p.open {
			used = 0
		}
		h := p.r.heap
		fmt.Printf("| %s | %d | %d | %.1f MiB | %.1f MiB | %.1f MiB | %.1f MiB | %.1f MiB | %.1f MiB | %.1f MiB | %.1f MiB |\n",
			p.name, p.pipelines, used, mib(h.live), mib(h.inuse), mib(h.idle), mib(h.stacks), mib(h.goMapped),
			float64(p.r.rssKB)/1024, float64(p.r.rssKB)/1024-mib(h.goMapped), float64(p.r.hwmKB)/1024)
	}
	w1, o1, w10, o10, small := points[0].r, points[1].r, points[2].r, points[3].r, points[4].r
	perPipeline := float64(w10.heap.live-w1.heap.live) / float64(9000)
	perResource := float64(o10.heap.live-small.heap.live) / float64(o10.used-small.used)
	perRun10 := (float64(o10.heap.live-w10.heap.live) - perResource*float64(o10.used)) / 10000
	perRun1 := (float64(o1.heap.live-w1.heap.live) - perResource*float64(o1.used)) / 1000
	base := float64(w1.heap.live) - perPipeline*1000
	fmt.Printf("\nper waiting pipeline (config, schedule; no run): %.0f B  ((10k waiting − 1k waiting) / 9,000)\n", perPipeline)
	fmt.Printf("per polled resource: %.0f B  ((10k open − 10k open on 500) / (%d − %d) resources)\n", perResource, o10.used, small.used)
	fmt.Printf("per open run: %.0f B at 10,000, %.0f B at 1,000  ((open − waiting − resources × per resource) / runs)\n", perRun10, perRun1)
	fmt.Printf("fixed: %.1f MiB (1k waiting − 1,000 pipelines)\n\n", base/(1<<20))
	return nil
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }

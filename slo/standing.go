package slo

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"

	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/store"
)

// Standing is Compute's per-pipeline rows kept between calls, for a caller
// that asks for the same range again and again (the attainment metric,
// every refresh of /metrics). Rows walks only the pipelines whose rows may
// have changed since the last call:
//   - those this store's own writes touched in the range (ChangesBetween);
//   - those with a day whose verdict the passing of time alone changes (a
//     gate coming due, a deadline reached without a success: changesAt)
//     at or before now.
//
// Everything is walked again when the config, the range or the pipeline
// selection changes, or when the store cannot say what changed (another
// process wrote, retention pruned, the change log overflowed). The rows
// are those Compute gives at the same now; Overall is not kept.
//
// At 10,000 pipelines with 30 days of history a whole walk reads ~300,000
// run records (~0.5 s and ~60 MB of garbage, BenchmarkReportYear1000's
// scale); between two refreshes of a live daemon most pipelines changed
// neither way.
type Standing struct {
	mu      sync.Mutex
	cfg     *config.Config
	key     Query // the range and selection the rows are of (Now cleared)
	version store.ListingVersion
	rows    []Row   // Compute's rows, in its order (by name)
	until   []int64 // per row, Unix ms: walk again at or after it (0: only after a write)

	// walked counts the pipelines walked by the last call (tests).
	walked int
}

// Rows returns Compute(ctx, st, cfg, q).Pipelines, from the rows kept by
// the last call where nothing can have changed them. The slice is the
// caller's: the next call does not change it.
func (t *Standing) Rows(ctx context.Context, st *store.Store, cfg *config.Config, q Query) ([]Row, error) {
	s, err := resolve(cfg, q)
	if err != nil {
		return nil, err
	}
	key := Query{From: s.from, To: s.to, Pipeline: q.Pipeline}
	t.mu.Lock()
	defer t.mu.Unlock()
	// The version is read before the runs, so what is walked now is at
	// least as new as the version it is kept under.
	v, err := st.ListingVersion(ctx)
	if err != nil {
		return nil, fmt.Errorf("slo: %w", err)
	}
	var stale []int // indexes into s.pipelines (and t.rows)
	if t.cfg == cfg && t.key == key && len(t.rows) == len(s.pipelines) {
		if ch, ok := st.ChangesBetween(t.version, v); ok {
			stale = t.stale(ch, s.now)
		} else {
			t.cfg = nil // cannot say: everything
		}
	} else {
		t.cfg = nil
	}
	if t.cfg == nil {
		t.rows, t.until = make([]Row, len(s.pipelines)), make([]int64, len(s.pipelines))
		stale = make([]int, len(s.pipelines))
		for i := range stale {
			stale[i] = i
		}
	}
	if err := t.walk(ctx, st, s, stale); err != nil {
		t.cfg = nil // half walked: the next call walks everything
		return nil, err
	}
	t.cfg, t.key, t.version, t.walked = cfg, key, v, len(stale)
	return append([]Row(nil), t.rows...), nil
}

// stale lists the rows a write (ch) or the passing of time up to now
// (until) may have changed, in row order.
func (t *Standing) stale(ch store.Changes, now int64) []int {
	touched := map[int]bool{}
	for _, k := range ch.Runs {
		// A run before the range counts too: it may be the pipeline's
		// first, from which missing days are due.
		if i, ok := FindRow(t.rows, k[0]); ok {
			touched[i] = true
		}
	}
	var out []int
	for i := range t.rows {
		if touched[i] || t.until[i] != 0 && t.until[i] <= now {
			out = append(out, i)
		}
	}
	return out
}

// walk computes the rows of the pipelines at indexes stale of s.pipelines.
func (t *Standing) walk(ctx context.Context, st *store.Store, s span, stale []int) error {
	if len(stale) == 0 {
		return nil
	}
	sub := s
	sub.pipelines = make([]*config.Pipeline, len(stale))
	for j, i := range stale {
		sub.pipelines[j] = s.pipelines[i]
	}
	accs := make([]acc, len(stale))
	until := make([]int64, len(stale))
	for j := range until {
		until[j] = math.MaxInt64
	}
	err := walk(ctx, st, sub, func(j int, _ *config.Pipeline, d *day) {
		accs[j].add(d)
		if at := d.changesAt(s.now); at != 0 && at < until[j] {
			until[j] = at
		}
	})
	if err != nil {
		return err
	}
	for j, i := range stale {
		p := s.pipelines[i]
		t.rows[i] = accs[j].row(p.Name, p.SLO)
		if until[j] == math.MaxInt64 {
			until[j] = 0
		}
		t.until[i] = until[j]
	}
	return nil
}

// FindRow finds a pipeline's row in rows in Compute's order (by name), by
// a search: at 10,000 pipelines a map of the rows was 1.8 MB a refresh of
// /metrics.
func FindRow(rows []Row, pipeline string) (int, bool) {
	return slices.BinarySearchFunc(rows, pipeline, func(r Row, name string) int { return strings.Compare(r.Pipeline, name) })
}

package slo

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/store"
)

// span is a Query with its defaults applied and its dates checked.
type span struct {
	from, to       string
	fromDay, toDay int
	now            int64
	pipelines      []*config.Pipeline // sorted by name, the order runs are read in
}

func resolve(cfg *config.Config, q Query) (span, error) {
	if cfg == nil {
		return span{}, fmt.Errorf("slo: no config loaded")
	}
	now := q.Now
	if now.IsZero() {
		now = time.Now()
	}
	loc := cfg.Location
	s := span{to: q.To, from: q.From, now: now.UnixMilli()}
	if s.to == "" {
		s.to = sekisho.DateOf(now, loc)
	}
	var ok bool
	if s.toDay, ok = parseDay([]byte(s.to)); !ok || dateString(s.toDay) != s.to {
		return span{}, badRange("to %q is not a date: use YYYY-MM-DD", s.to)
	}
	if s.from == "" {
		s.fromDay = s.toDay - (DefaultDays - 1)
		s.from = dateString(s.fromDay)
	} else if s.fromDay, ok = parseDay([]byte(s.from)); !ok || dateString(s.fromDay) != s.from {
		return span{}, badRange("from %q is not a date: use YYYY-MM-DD", s.from)
	}
	if s.fromDay > s.toDay {
		return span{}, badRange("from %s is after to %s: swap them", s.from, s.to)
	}
	if q.Pipeline != "" {
		p := cfg.Pipeline(q.Pipeline)
		if p == nil {
			return span{}, fmt.Errorf("pipeline %q is not in %s (%s): %w", q.Pipeline, cfgName(cfg), known(cfg), sekisho.ErrNotFound)
		}
		s.pipelines = []*config.Pipeline{p}
		return s, nil
	}
	s.pipelines = append([]*config.Pipeline(nil), cfg.Pipelines...)
	sort.Slice(s.pipelines, func(i, j int) bool { return s.pipelines[i].Name < s.pipelines[j].Name })
	return s, nil
}

func cfgName(cfg *config.Config) string {
	if cfg.Path != "" {
		return cfg.Path
	}
	return "the config"
}

// known names a few pipelines, enough to spot a typo without flooding a
// terminal with a thousand names.
func known(cfg *config.Config) string {
	if len(cfg.Pipelines) == 0 {
		return "it declares no pipelines"
	}
	var names []string
	for i, p := range cfg.Pipelines {
		if i == 5 {
			names = append(names, fmt.Sprintf("and %d more", len(cfg.Pipelines)-5))
			break
		}
		names = append(names, p.Name)
	}
	return "known: " + strings.Join(names, ", ")
}

// walk calls fn for every selected pipeline and every day of the span,
// judged at the span's now; i is the pipeline's index in s.pipelines. Up to
// readers goroutines read batches of pipelines in parallel (the store's
// read pool has four connections), so fn runs concurrently for different
// pipelines, but for one pipeline always on one goroutine, in date order.
// fn must not keep d.
func walk(ctx context.Context, st *store.Store, s span, fn func(i int, p *config.Pipeline, d *day)) error {
	rd, err := st.SLOReader(ctx, min(readBatch, len(s.pipelines)))
	if err != nil {
		return fmt.Errorf("slo: %w", err)
	}
	defer rd.Close()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		next     atomic.Int64
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	n := rd.Batch()
	batches := (len(s.pipelines) + n - 1) / n
	workers := min(readers, runtime.GOMAXPROCS(0), batches)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			gates := newGateCache() // pipelines often share a schedule and a zone
			names := make([]string, 0, n)
			for {
				b := int(next.Add(1) - 1)
				if b >= batches || ctx.Err() != nil {
					return
				}
				ps := s.pipelines[b*n : min((b+1)*n, len(s.pipelines))]
				names = names[:0]
				for _, p := range ps {
					names = append(names, p.Name)
				}
				err := rd.EachRunRecords(ctx, names, s.from, s.to, func(j int, first, blob string) error {
					p := ps[j]
					if err := walkPipeline(p, s, gates, first, blob, func(d *day) { fn(b*n+j, p, d) }); err != nil {
						return fmt.Errorf("slo: read runs of %s: %w", p.Name, err)
					}
					return nil
				})
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					cancel()
					return
				}
			}
		}()
	}
	wg.Wait()
	if firstErr == nil {
		firstErr = ctx.Err()
	}
	return firstErr
}

// readers bounds the goroutines of one report: the store's read pool has
// four connections, and the server must keep some for the board.
const readers = 2

// readBatch is how many pipelines one query reads: a statement per
// pipeline was most of /metrics' cost at 10,000 pipelines (~2 KB of driver
// allocations each), and a batch holds no more than one pipeline's records
// at a time (each is walked as its row is read). A variable so a test can
// cut the pipelines into short batches.
var readBatch = 256

// gateCache holds one worker's gates of a schedule, zone and calendar
// over the span: pipelines often share them, and working out a day's
// gates (cron's Next, fire by fire) is most of a report's cost, above all
// for sub-daily pipelines (24 fires a day each).
type gateCache struct {
	daily    map[string][]int64       // one gate a day, 0 for none
	subDaily map[string][][]time.Time // each day's gates
	// day is the worker's day being judged, handed to fn by pointer: one
	// a pipeline escaped to the heap (1.3 MB a /metrics refresh at 10,000).
	day *day
}

func newGateCache() gateCache {
	return gateCache{daily: map[string][]int64{}, subDaily: map[string][][]time.Time{}, day: new(day)}
}

// gateKey names what a pipeline's gates depend on.
func gateKey(p *config.Pipeline) string {
	return p.Schedule + "\x00" + p.Timezone + "\x00" + p.CalendarName + "\x00" + strconv.Itoa(p.BusinessDay)
}

// subDailyGates are p's gates on each day of the span, from the cache.
func (c gateCache) subDailyGates(p *config.Pipeline, s span) [][]time.Time {
	key := gateKey(p)
	days, ok := c.subDaily[key]
	if !ok {
		days = make([][]time.Time, s.toDay-s.fromDay+1)
		for n := s.fromDay; n <= s.toDay; n++ {
			days[n-s.fromDay] = p.GatesOn(dateString(n))
		}
		c.subDaily[key] = days
	}
	return days
}

func walkPipeline(p *config.Pipeline, s span, cache gateCache, firstRun, blob string, fn func(d *day)) error {
	if p.SubDaily() {
		return walkSubDaily(p, s, cache.subDailyGates(p, s), firstRun, blob, fn)
	}
	key := gateKey(p)
	gates, ok := cache.daily[key]
	if !ok {
		gates = gateTimes(p, s.fromDay, s.toDay)
		cache.daily[key] = gates
	}
	// Days before the first run ever are not counted as missed: the
	// pipeline may not have existed yet.
	firstDay, ran := parseDay(firstRun)
	d := cache.day
	at := s.fromDay
	emitMissing := func(until int) {
		for ; at < until; at++ {
			g := gates[at-s.fromDay]
			*d = day{day: at, gate: g, due: ran && at >= firstDay && g != 0 && g <= s.now}
			if ran && at >= firstDay && g > s.now {
				d.dueAt = g
			}
			if d.due {
				date := dateString(at)
				gate := time.UnixMilli(g)
				d.deadline = ms(p.Deadline(date, gate))
				d.recoverBy = ms(p.RecoverBy(date, gate))
			}
			d.judge(s.now)
			if d.cell == CellNone && g == 0 && p.Calendar != nil {
				if _, off := p.DayOff(dateString(at)); off {
					d.cell = CellHoliday
				}
			}
			fn(d)
		}
	}
	// Records start with the logical date, so text order is date order.
	// They come sorted, and are then read in place: a list of them was a
	// tenth of a report's garbage.
	var recs []string // only when they must be sorted
	inPlace := sortedRecords(blob)
	if !inPlace {
		recs = strings.Split(blob, ";")
		slices.Sort(recs)
	}
	var f [8]string
	rest, more := blob, blob != ""
	for i := 0; ; i++ {
		var rec string
		switch {
		case inPlace && more:
			rec, rest, more = strings.Cut(rest, ";")
		case !inPlace && i < len(recs):
			rec = recs[i]
		default:
			emitMissing(s.toDay + 1)
			return nil
		}
		r, err := parseRecord(rec, &f, at, s.toDay)
		if err != nil {
			return err
		}
		n := r.day
		emitMissing(n) // uses d for the days before
		*d = r
		d.judge(s.now)
		fn(d)
		at = n + 1
	}
}

// sortedRecords reports whether blob's records (';'-separated) are in
// text order, without splitting it.
func sortedRecords(blob string) bool {
	prev, rest, more := strings.Cut(blob, ";")
	for more {
		var rec string
		rec, rest, more = strings.Cut(rest, ";")
		if rec < prev {
			return false
		}
		prev = rec
	}
	return true
}

// parseRecord reads one record of store.SLORecordFields into a day (not
// judged yet); f is scratch space, reused across records so a year of runs
// allocates none. A record outside [from, to] is unreadable.
func parseRecord(rec string, f *[8]string, from, to int) (day, error) {
	for i := range f {
		if j := strings.IndexByte(rec, '|'); j >= 0 && i < len(f)-1 {
			f[i], rec = rec[:j], rec[j+1:]
		} else {
			f[i], rec = rec, ""
		}
	}
	n, ok := parseDay(f[0])
	attempts, ok2 := digits(f[2])
	if !ok || !ok2 || n < from || n > to {
		return day{}, fmt.Errorf("unreadable run record %q", f[0])
	}
	d := day{day: n, hasRun: true, state: state(f[1]), attempts: attempts}
	d.gate, _ = parseMillis(f[3])
	d.deadline, _ = parseMillis(f[4])
	d.recoverBy, _ = parseMillis(f[5])
	d.success, _ = parseMillis(f[6])
	d.finished, _ = parseMillis(f[7])
	return d, nil
}

// state interns the stored state names, so a year of runs allocates none.
func state(b string) sekisho.State {
	for _, s := range sekisho.States {
		if b == string(s) {
			return s
		}
	}
	return sekisho.State(b)
}

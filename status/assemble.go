package status

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/slo"
	"github.com/sekisho-dev/sekisho/store"
)

// assembler makes a board's entries from the store reads at the time of
// the call, one at a time and each complete: a Board keeps them all
// (assemble), the API's answer writes each as it is made into one reused
// entry (Cache.WriteJSON), so 10,000 entries are never all in memory for
// it. What an entry needs of the others — the board's overall verdict and
// which pipelines upstream of it are in trouble — comes from a first pass
// over every pipeline's state and lateness (newAssembler).
type assembler struct {
	rd       *reads
	on       []string // the date each pipeline shows
	lang     string
	now      time.Time
	from, to int                  // the entries whose ETAs are projected
	next     map[string]time.Time // the poll schedule (Store.NextChecks)
	first    map[string]string    // the first run dates of the missed pipelines
	verdicts []verdict            // each pipeline's, in config order
	index    map[string]int       // config order by name, once any is troubled
	eta      *projector
	troubled bool // any pipeline is
	// lean: a page's board (BuildPage), whose entries outside from..to
	// get a summary only when in trouble, the only ones its page writes.
	lean      bool
	maxUps    int // the most upstreams of a pipeline
	allUps    int // the upstreams of all pipelines
	pipelines []*config.Pipeline
}

// verdict is a pipeline's listing state and lateness on the board, as the
// judge leaves them.
type verdict struct {
	state sekisho.State
	late  bool
}

// newAssembler reads what every call reads afresh (the poll schedule, the
// first runs of missed days) and judges every pipeline's day; it projects
// the ETAs of the entries from..to (to < 0: to the end).
func newAssembler(ctx context.Context, st *store.Store, cfg *config.Config, b *Board, rd *reads, now time.Time,
	projected [2]int) (*assembler, error) {
	n := len(cfg.Pipelines)
	a := &assembler{rd: rd, on: b.on, lang: b.Language, now: now, pipelines: cfg.Pipelines,
		from: min(projected[0], n), to: n, eta: newProjector(ctx, st, rd, now)}
	if projected[1] >= 0 {
		a.to = max(a.from, min(projected[1], n))
	}
	var err error
	if a.next, err = st.NextChecks(ctx); err != nil {
		return nil, fmt.Errorf("status: %w", err)
	}
	if a.verdicts, a.first, err = judgeAll(ctx, st, cfg.Pipelines, b.on, rd, now); err != nil {
		return nil, err
	}
	for i, p := range cfg.Pipelines {
		a.maxUps, a.allUps = max(a.maxUps, len(p.Upstreams)), a.allUps+len(p.Upstreams)
		a.troubled = a.troubled || troubled(a.verdicts[i].state, a.verdicts[i].late)
	}
	if a.troubled {
		a.index = make(map[string]int, n)
		for i, p := range cfg.Pipelines {
			a.index[p.Name] = i
		}
	}
	return a, nil
}

// judgeAll judges the day each of ps shows (on) from rd at now: the
// verdicts in config order, and the first run dates of the missed
// pipelines (FirstRunDates), which the missed days' verdicts wait for.
// The board's first pass and the sekisho_runs metric (Cache.States) both
// judge so.
func judgeAll(ctx context.Context, st *store.Store, ps []*config.Pipeline, on []string, rd *reads,
	now time.Time) ([]verdict, map[string]string, error) {
	verdicts := make([]verdict, len(ps))
	judge := func(i int, d slo.Day, first map[string]string) {
		state, j := judgeDay(d, ps[i].Name, on[i], first, now)
		verdicts[i] = verdict{state: state, late: j.Late()}
	}
	var missed []string
	var missedDays []slo.Day
	var e Pipeline
	for i, p := range ps {
		r, ok := rd.byKey[[2]string{p.Name, on[i]}]
		head(&e, p, on[i], r, ok, now)
		if e.State == sekisho.StateMissed {
			missed, missedDays = append(missed, p.Name), append(missedDays, e.day())
			continue
		}
		judge(i, e.day(), nil)
	}
	first, err := st.FirstRunDates(ctx, missed)
	if err != nil {
		return nil, nil, fmt.Errorf("status: %w", err)
	}
	for i := range ps {
		if len(missedDays) > 0 && verdicts[i].state == "" {
			judge(i, missedDays[0], first)
			missedDays = missedDays[1:]
		}
	}
	return verdicts, first, nil
}

// fill makes e the complete entry of the i-th pipeline, its upstreams in
// ups (empty, with room for them).
func (a *assembler) fill(i int, e *Pipeline, ups []Upstream) {
	p, d := a.pipelines[i], a.on[i]
	r, ok := a.rd.byKey[[2]string{p.Name, d}]
	entry(e, ups, p, d, r, ok, a.rd.obs[r.id], a.rd, a.now)
	if p.SubDaily() {
		e.Intervals = intervals(p, d, a.rd.all[p.Name], a.now)
	}
	if e.State == sekisho.StateHoliday {
		e.off, _ = p.DayOff(d)
		e.Holiday = e.off.Label(a.lang)
	}
	setNextChecks(e, p, a.next)
	if i >= a.from && i < a.to {
		a.eta.project(e)
	}
	var j slo.Judgement
	e.State, j = judgeDay(e.day(), e.Name, e.LogicalDate, a.first, a.now)
	e.SLOMet, e.Late = j.SLO.Bool(), j.Late()
	e.AffectedBy = a.affected(e.pipelineUpstreams, e.Name)
	if !a.lean || (i >= a.from && i < a.to) || e.Troubled() {
		e.Summary = summarize(e, a.lang, a.now)
	}
}

// affected are the troubled pipelines reachable upstream of a pipeline
// through `type: pipeline` upstreams (ups), transitively, sorted: its
// AffectedBy. A cycle (refused by validate, but a board must not hang on a
// bad file) is cut by the visited set.
func (a *assembler) affected(ups []string, name string) []string {
	if !a.troubled || len(ups) == 0 {
		return noNames
	}
	seen := map[string]bool{name: true}
	stack := append([]string{}, ups...)
	var hit []string
	for len(stack) > 0 {
		up := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[up] {
			continue
		}
		seen[up] = true
		i, ok := a.index[up]
		if !ok {
			continue
		}
		if v := a.verdicts[i]; troubled(v.state, v.late) {
			hit = append(hit, up)
		}
		stack = append(stack, a.rd.pipelineUpstreams(a.pipelines[i])...)
	}
	if len(hit) == 0 {
		return noNames
	}
	sort.Strings(hit)
	return hit
}

// overall is the board's verdict: outage while any pipeline failed or
// timed out, degraded while any is blocked, missed or late.
func (a *assembler) overall() string {
	v := OverallOK
	for _, p := range a.verdicts {
		switch {
		case p.state == sekisho.StateFailed || p.state == sekisho.StateTimedOut:
			return OverallOutage
		case p.state == sekisho.StateBlocked || p.state == sekisho.StateMissed || p.late:
			v = OverallDegraded
		}
	}
	return v
}

// assemble fills board b (start's) at now from the store reads rd, with
// the ETAs of the entries in projected (from, to; to < 0: to the end).
// With lean, the entries outside projected keep no upstreams (nil): a page
// of the board shows the upstreams of its cards only, and at 10,000
// pipelines with three upstreams each they were half of its entries'
// bytes.
func assemble(ctx context.Context, st *store.Store, cfg *config.Config, b *Board, rd *reads, now time.Time,
	projected [2]int, lean bool) (*Board, error) {
	a, err := newAssembler(ctx, st, cfg, b, rd, now, projected)
	if err != nil {
		return nil, err
	}
	kept := a.allUps
	a.lean = lean
	if lean {
		kept = 0
		for _, p := range cfg.Pipelines[a.from:a.to] {
			kept += len(p.Upstreams)
		}
	}
	b.slab = slabFor(len(cfg.Pipelines), kept)
	b.Pipelines = b.slab.ptrs
	scratch := make([]Upstream, 0, a.maxUps)
	ups := 0
	for i, p := range cfg.Pipelines {
		e, n := &b.slab.ps[i], len(p.Upstreams)
		if lean && (i < a.from || i >= a.to) {
			a.fill(i, e, scratch)
			e.Upstreams = nil
		} else {
			a.fill(i, e, b.slab.ups[ups:ups:ups+n])
			ups += n
		}
		b.Pipelines = append(b.Pipelines, e)
	}
	b.Overall = a.overall()
	if a.eta.err != nil {
		return nil, fmt.Errorf("status: %w", a.eta.err)
	}
	return b, nil
}

// Answer is a board ready to be written entry by entry (Cache.Answer):
// the answer of GET /api/v1/status.
type Answer struct {
	b    *Board
	a    *assembler
	rd   *reads
	done bool
	// hands is how many goroutines make the entries (1, or 2 with a
	// second CPU), chunk entries at a time (twoHands); tests set both.
	hands, chunk int
}

// answerChunk is how many entries a hand of an answer makes at a time:
// ~100 KB of text at the benchmarks' ~1.6 KB an entry (under the 128 KB a
// pooled buffer may grow to and still go back to answerBufs), handed over
// 78 times at 10,000 pipelines.
const answerChunk = 64

// Answer is Build's board of date as an Answer, from the cached reads:
// its WriteJSON makes each entry as it writes it, into one reused entry,
// so the answer of 10,000 pipelines never holds them all (issue 23: ≤ 10
// MiB a call). What can fail before the first byte (a bad date, the
// store) fails here. The caller calls WriteJSON or Close.
func (c *Cache) Answer(ctx context.Context, st *store.Store, cfg *config.Config, date string, now time.Time) (*Answer, error) {
	b, rd, err := c.start(ctx, st, cfg, date, now)
	if err != nil {
		return nil, err
	}
	a, err := newAssembler(ctx, st, cfg, b, rd, now, all)
	if err != nil {
		rd.mu.RUnlock()
		return nil, err
	}
	b.Overall = a.overall()
	an := &Answer{b: b, a: a, rd: rd, hands: 1, chunk: answerChunk}
	if runtime.GOMAXPROCS(0) > 1 {
		an.hands = 2
	}
	return an, nil
}

// WriteJSON writes the answer as Board.WriteJSON writes Build's board,
// then Closes it. With a second CPU, a second goroutine makes every other
// chunk of entries (twoHands): once newAssembler has judged every
// pipeline, each entry is made from reads nothing writes, and making them
// was most of a warm answer at 10,000 pipelines (issue 23).
func (an *Answer) WriteJSON(w io.Writer) error {
	defer an.Close()
	n := len(an.a.pipelines)
	hands := []*assembler{an.a}
	body := func(buf []byte, w io.Writer) ([]byte, error) { return an.a.appendEntries(buf, w, 0, n) }
	if an.hands > 1 && n > an.chunk {
		hands = append(hands, an.a.fork())
		body = func(buf []byte, w io.Writer) ([]byte, error) {
			return twoHands(buf, w, n, an.chunk, hands[0], hands[1])
		}
	}
	if err := an.b.writeJSON(w, n, body); err != nil {
		return err
	}
	for _, a := range hands {
		if a.eta.err != nil {
			return fmt.Errorf("status: %w", a.eta.err)
		}
	}
	return nil
}

// appendEntries appends the entries from..to as a makes them (fill), one
// reused entry for all, writing buf out to w as it fills (w nil: kept).
func (a *assembler) appendEntries(buf []byte, w io.Writer, from, to int) ([]byte, error) {
	var e Pipeline
	ups := make([]Upstream, 0, a.maxUps)
	return appendEntries(buf, w, from, to, func(i int) *Pipeline {
		a.fill(i, &e, ups)
		return &e
	})
}

// fork is a second hand of a's call: it shares the reads and the
// judgements, which nothing writes once made, and projects ETAs with a
// projector of its own, whose memos are not safe for concurrent use. The
// two may project the same upstream line once each; the projections are
// the same.
func (a *assembler) fork() *assembler {
	f := *a
	f.eta = newProjector(a.eta.ctx, a.eta.st, a.rd, a.now)
	return &f
}

// twoHands appends the n entries chunk entries at a time, made by a (on
// the caller's goroutine) and b (on another) together: each takes the
// next chunk nobody has taken, so neither waits while the other has work.
// The caller also writes the chunks out, in order, to w, and makes one
// itself only while the next to write is not ready: in the daemon's trace
// of a first call it spent 13 of its 56 ms writing, and with every other
// chunk its own b waited for it (issue 23). A chunk made ahead of its
// turn waits in a pooled buffer, at most ahead of them at a time. b makes
// chunk 1 first, so each hand starts at once. It returns once b's
// goroutine has stopped, so nothing reads the cache's reads after the
// caller lets them go.
func twoHands(buf []byte, w io.Writer, n, chunk int, a, b *assembler) ([]byte, error) {
	type part struct {
		bp    *[]byte
		err   error
		panic any // b's, raised again here
	}
	const ahead = 4
	chunks := (n + chunk - 1) / chunk
	made := make([]chan part, chunks) // each chunk's, once made
	for i := range made {
		made[i] = make(chan part, 1)
	}
	make1 := func(h *assembler, i int) part {
		bp := answerBufs.Get().(*[]byte)
		var err error
		*bp, err = h.appendEntries((*bp)[:0], nil, i*chunk, min(n, (i+1)*chunk))
		return part{bp: bp, err: err}
	}
	// room holds a token for each chunk taken and not yet written out;
	// next is the next chunk to take. take takes one, waiting for room
	// (b) or not (the caller, who frees the room); false: none is left,
	// or there is no room now, or the answer has stopped.
	room, stop := make(chan struct{}, ahead), make(chan struct{})
	var next atomic.Int64
	next.Store(2)
	room <- struct{}{} // chunk 1's, b's first
	take := func(wait bool) (int, bool) {
		if wait {
			select {
			case room <- struct{}{}:
			case <-stop:
				return 0, false
			}
		} else {
			select {
			case room <- struct{}{}:
			default:
				return 0, false
			}
		}
		if i := int(next.Add(1)) - 1; i < chunks {
			return i, true
		}
		<-room
		return 0, false
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		i := 1
		// A panic making an entry is the handler's, as it was with one
		// hand (net/http recovers and logs it): it must not end the
		// daemon from a goroutine of its own.
		defer func() {
			if r := recover(); r != nil {
				made[i] <- part{panic: fmt.Sprintf("%v\n%s", r, debug.Stack())}
			}
		}()
		for ok := i < chunks; ok; i, ok = take(true) {
			p := make1(b, i)
			made[i] <- p
			if p.err != nil {
				return
			}
		}
	}()
	defer func() {
		close(stop)
		wg.Wait()
		for _, c := range made {
			select {
			case p := <-c:
				if p.bp != nil {
					putAnswerBuf(p.bp)
				}
			default:
			}
		}
	}()
	// await is chunk i once made, the caller making others meanwhile.
	await := func(i int) part {
		for {
			select {
			case p := <-made[i]:
				return p
			default:
			}
			j, ok := take(false)
			if !ok {
				return <-made[i]
			}
			made[j] <- make1(a, j)
		}
	}
	// Chunk 0 is the caller's, written into buf after the answer's head.
	var err error
	if buf, err = a.appendEntries(buf, w, 0, min(n, chunk)); err != nil || chunks == 1 {
		return buf, err
	}
	if _, err = w.Write(buf); err != nil {
		return buf, err
	}
	buf = buf[:0]
	for i := 1; i < chunks; i++ {
		p := await(i)
		if p.panic != nil {
			panic(fmt.Sprintf("status: the answer's second hand: %v", p.panic))
		}
		if p.err == nil {
			_, p.err = w.Write(*p.bp)
		}
		putAnswerBuf(p.bp)
		<-room
		if p.err != nil {
			return buf, p.err
		}
	}
	return buf, nil
}

// Close lets the cache's reads go; an answer written is closed already.
func (an *Answer) Close() {
	if !an.done {
		an.done = true
		an.rd.mu.RUnlock()
	}
}

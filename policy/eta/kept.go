package eta

import (
	"context"
	"strconv"
	"strings"
	"time"
)

// Keeper keeps each pipeline's summarised history before a date between
// reads (*store.Store, migration 016): a process that starts on a store
// with a month of runs then reads one summary a pipeline instead of
// 300,000 runs (issue 23). The store deletes a summary whenever what it
// was made of changes; EachHistory claims before it reads the times and
// keeps under the claim, so a summary is never older than the store.
type Keeper interface {
	// EachKeptHistory: each pipeline's kept summary (kept), or the
	// pipelines with a history but none kept (kept false).
	EachKeptHistory(ctx context.Context, pipelines []string, before string, n int, fn func(pipeline, summary string, kept bool)) error
	// ClaimHistories claims the pipelines' summaries, before their times
	// are read.
	ClaimHistories(ctx context.Context, pipelines []string, before string, n int) (int64, error)
	// KeepHistories keeps the summaries of the rows still under claim.
	KeepHistories(ctx context.Context, claim int64, before string, n int, pipelines, summaries []string) error
}

// eachKept is EachHistory through a Keeper: the kept summaries, then the
// others read, summarised, handed over and kept. A store that cannot keep
// (its schema predates kept summaries, or it refuses the write: a
// read-only database user) still answers: the claim or the keeping fails
// and only the next reader pays the read again.
func eachKept(ctx context.Context, k Keeper, r ManyReader, pipelines []string, before string,
	fn func(pipeline string, stats Stats, upstreams []string, upstreamStats []UpstreamStats)) error {
	var (
		missing []string
		dec     decoded
	)
	err := k.EachKeptHistory(ctx, pipelines, before, HistoryRuns, func(p, summary string, kept bool) {
		if kept && dec.parse(summary) {
			fn(p, dec.stats, dec.names, dec.ups)
			return
		}
		missing = append(missing, p)
	})
	if err != nil || len(missing) == 0 {
		return err
	}
	claim, claimErr := k.ClaimHistories(ctx, missing, before, HistoryRuns)
	var keep, summaries []string
	err = eachRead(ctx, r, missing, before, func(p string, st Stats, names []string, ups []UpstreamStats) {
		fn(p, st, names, ups)
		if claimErr == nil {
			keep, summaries = append(keep, p), append(summaries, encode(st, names, ups))
		}
	})
	if err != nil || claimErr != nil {
		return err
	}
	// A failure to keep costs the next reader a read, and answers nothing
	// wrong: the answer is the history just read.
	_ = k.KeepHistories(ctx, claim, before, HistoryRuns, keep, summaries)
	return nil
}

// summaryVersion starts every kept summary: a summary of another version
// (written by another release) is read again and replaced.
const summaryVersion = "1"

// encode is a line's summary as kept: the version, the pipeline's Stats,
// then each upstream's stats and name, space-separated fields and
// ';'-separated upstreams (a name is a config name, [a-z0-9_-]: the rest of
// its record).
func encode(st Stats, names []string, ups []UpstreamStats) string {
	var b strings.Builder
	b.WriteString(summaryVersion)
	field := func(v int64) {
		b.WriteByte(' ')
		b.WriteString(strconv.FormatInt(v, 10))
	}
	field(int64(st.N))
	field(int64(st.Total))
	field(int64(st.Down))
	for i, u := range ups {
		b.WriteByte(';')
		b.WriteString(strconv.FormatInt(int64(u.N), 10))
		field(int64(u.Finish))
		field(int64(u.Run))
		b.WriteByte(' ')
		b.WriteString(names[i])
	}
	return b.String()
}

// decoded is a kept summary read back (parse), its lists reused from one
// summary to the next.
type decoded struct {
	stats Stats
	names []string
	ups   []UpstreamStats
}

// parse reads summary (encode's) into d; false when it is not one this
// release wrote.
func (d *decoded) parse(summary string) bool {
	d.names, d.ups = d.names[:0], d.ups[:0]
	head, rest, more := strings.Cut(summary, ";")
	var f [3]int64
	if !fields(head, f[:], summaryVersion) {
		return false
	}
	d.stats = Stats{N: int(f[0]), Total: time.Duration(f[1]), Down: time.Duration(f[2])}
	for more {
		var rec string
		rec, rest, more = strings.Cut(rest, ";")
		// N Finish Run name
		nums, name, ok := cutFields(rec, 3)
		if !ok || name == "" || !fields(nums, f[:], "") {
			return false
		}
		d.names = append(d.names, name)
		d.ups = append(d.ups, UpstreamStats{N: int(f[0]), Finish: time.Duration(f[1]), Run: time.Duration(f[2])})
	}
	return true
}

// fields parses s, after prefix and a space when prefix is set, as exactly
// len(out) space-separated integers.
func fields(s string, out []int64, prefix string) bool {
	if prefix != "" {
		var ok bool
		if s, ok = strings.CutPrefix(s, prefix+" "); !ok {
			return false
		}
	}
	for i := range out {
		var v string
		if i == len(out)-1 {
			v, s = s, ""
		} else {
			var ok bool
			if v, s, ok = strings.Cut(s, " "); !ok {
				return false
			}
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return false
		}
		out[i] = n
	}
	return true
}

// cutFields splits rec after its first n space-separated fields: those,
// and the rest.
func cutFields(rec string, n int) (head, rest string, ok bool) {
	at := 0
	for range n {
		i := strings.IndexByte(rec[at:], ' ')
		if i < 0 {
			return "", "", false
		}
		at += i + 1
	}
	return rec[:at-1], rec[at:], true
}

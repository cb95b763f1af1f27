package slo

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/config"
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
	if loc == nil {
		loc = time.UTC
	}
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

const runsQuery = `SELECT pipeline, logical_date, state, attempt, gate_at, deadline, recover_by,
	first_success_at, finished_at FROM runs WHERE logical_date >= ? AND logical_date <= ?`

// walk calls fn for every configured pipeline (in name order) and every day
// of the span (in date order), judged at the span's now. It holds one row at
// a time; fn must not keep d.
func walk(ctx context.Context, db *sql.DB, s span, fn func(p *config.Pipeline, d *day)) error {
	first, err := firstRuns(ctx, db, s.pipelines)
	if err != nil {
		return err
	}
	q, args := runsQuery, []any{s.from, s.to}
	if len(s.pipelines) == 1 {
		q += ` AND pipeline = ?`
		args = append(args, s.pipelines[0].Name)
	}
	rows, err := db.QueryContext(ctx, q+` ORDER BY pipeline, logical_date`, args...)
	if err != nil {
		return fmt.Errorf("slo: read runs: %w", err)
	}
	defer rows.Close()

	var (
		name, date, state                      sql.RawBytes
		gate, deadline, recoverBy, succ, finAt sql.RawBytes
		attempts                               int
		have                                   = rows.Next()
	)
	scan := func() error {
		return rows.Scan(&name, &date, &state, &attempts, &gate, &deadline, &recoverBy, &succ, &finAt)
	}
	if have {
		if err := scan(); err != nil {
			return fmt.Errorf("slo: read runs: %w", err)
		}
	}
	next := func() error {
		have = rows.Next()
		if have {
			return scan()
		}
		return nil
	}
	var d day
	for _, p := range s.pipelines {
		if err := ctx.Err(); err != nil {
			return err
		}
		gates, err := gateTimes(p, s.fromDay, s.toDay)
		if err != nil {
			return err
		}
		firstDay, ran := first[p.Name]
		// Runs of pipelines no longer configured have no schedule to judge
		// them by; they stay in the views but not in the report.
		for have && string(name) < p.Name {
			if err := next(); err != nil {
				return fmt.Errorf("slo: read runs: %w", err)
			}
		}
		at := s.fromDay
		emitMissing := func(until int) {
			for ; at < until; at++ {
				g := gates[at-s.fromDay]
				d = day{day: at, gate: g, due: ran && at >= firstDay && g != 0 && g <= s.now}
				if d.due {
					date := dateString(at)
					d.deadline = unixMilliOrZero(p.Deadline(date))
					d.recoverBy = unixMilliOrZero(p.RecoverBy(date))
				}
				d.judge(s.now)
				fn(p, &d)
			}
		}
		for have && string(name) == p.Name {
			n, ok := parseDay(date)
			if !ok || n < at {
				return fmt.Errorf("slo: run of %s has a bad logical date %q", p.Name, date)
			}
			emitMissing(n)
			d = day{day: n, hasRun: true, state: sekisho.State(state), attempts: attempts}
			d.gate, _ = parseMillis(gate)
			d.deadline, _ = parseMillis(deadline)
			d.recoverBy, _ = parseMillis(recoverBy)
			d.success, _ = parseMillis(succ)
			d.finished, _ = parseMillis(finAt)
			d.judge(s.now)
			fn(p, &d)
			at = n + 1
			if err := next(); err != nil {
				return fmt.Errorf("slo: read runs: %w", err)
			}
		}
		emitMissing(s.toDay + 1)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("slo: read runs: %w", err)
	}
	return nil
}

// firstRuns finds each pipeline's first logical date ever: days before it
// are not counted as missed, since the pipeline may not have existed then.
func firstRuns(ctx context.Context, db *sql.DB, ps []*config.Pipeline) (map[string]int, error) {
	stmt, err := db.PrepareContext(ctx, `SELECT MIN(logical_date) FROM runs WHERE pipeline = ?`)
	if err != nil {
		return nil, fmt.Errorf("slo: first runs: %w (is this a sekisho database?)", err)
	}
	defer stmt.Close()
	out := make(map[string]int, len(ps))
	for _, p := range ps {
		var first sql.NullString
		if err := stmt.QueryRowContext(ctx, p.Name).Scan(&first); err != nil {
			return nil, fmt.Errorf("slo: first run of %s: %w", p.Name, err)
		}
		if n, ok := parseDay([]byte(first.String)); first.Valid && ok {
			out[p.Name] = n
		}
	}
	return out, nil
}

func unixMilliOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

package notify

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/marks"
	"github.com/sekisho-dev/sekisho/status"
	"github.com/sekisho-dev/sekisho/store"
)

// DigestEntry is one pipeline's line in the daily digest: its entry of
// the status board, so the digest and the board never disagree.
type DigestEntry struct {
	Pipeline    string
	Description string
	LogicalDate string        // today in the pipeline's time zone
	State       sekisho.State // a listing state (scheduled, missed, no_gate) when there is no run
	Late        bool          // past the SLO deadline and not succeeded
	Holiday     string        // a holiday entry's day off (SPEC §18), as the board names it
	// Met and Due summarize a sub-daily pipeline's intervals (SPEC §19):
	// met of the due ones; Due is 0 for a daily pipeline.
	Met, Due int
}

// Mark is the entry's mark and word, from the one table of package marks.
func (e DigestEntry) Mark() marks.Mark { return marks.Of(e.State, e.Late) }

// digestLimit caps the listed pipelines; Slack refuses very long messages
// and nobody reads past a screen. Problems are listed first.
const digestLimit = 40

// BuildDigest lists every pipeline's status for today (each pipeline's
// logical date is today in its own time zone) from status.Build, the board's
// own answer.
func BuildDigest(ctx context.Context, cfg *config.Config, st *store.Store, now time.Time) ([]DigestEntry, error) {
	if len(cfg.Pipelines) == 0 {
		return nil, nil
	}
	b, err := status.Build(ctx, st, cfg, "", now)
	if err != nil {
		return nil, fmt.Errorf("digest: %w", err)
	}
	out := make([]DigestEntry, 0, len(b.Pipelines))
	for _, p := range b.Pipelines {
		e := DigestEntry{Pipeline: p.Name, Description: p.Description, LogicalDate: p.LogicalDate,
			State: p.State, Late: p.Late, Holiday: p.Holiday}
		e.Met, e.Due = p.IntervalsMet()
		out = append(out, e)
	}
	return out, nil
}

// DigestText renders the digest of date in lang: a headline, a count per
// mark, then one line per pipeline, problems first.
func DigestText(lang, date string, entries []DigestEntry, publicURL string) string {
	c := catalogFor(lang)
	lines := []string{fmt.Sprintf(c.digest.headline, date)}
	if len(entries) == 0 {
		return lines[0] + "\n" + c.digest.none
	}
	sorted := append([]DigestEntry(nil), entries...)
	sort.SliceStable(sorted, func(i, j int) bool {
		return marks.Rank(sorted[i].Mark().Emoji) < marks.Rank(sorted[j].Mark().Emoji)
	})
	counts := map[string]int{}
	for _, e := range sorted {
		counts[e.Mark().Emoji]++
	}
	var parts []string
	for _, m := range marks.Order {
		if counts[m] > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", m, counts[m]))
		}
	}
	lines = append(lines, c.digest.counts+": "+strings.Join(parts, "  "))
	for i, e := range sorted {
		if i == digestLimit {
			lines = append(lines, fmt.Sprintf(c.digest.more, len(sorted)-digestLimit))
			break
		}
		m := e.Mark()
		line := m.Emoji + " *" + esc(e.Pipeline) + "*"
		if e.Description != "" {
			line += " — " + esc(e.Description)
		}
		word := m.Word(lang)
		if e.Holiday != "" {
			word += " (" + esc(e.Holiday) + ")"
		}
		if e.Due > 0 {
			word += fmt.Sprintf(" (%d/%d)", e.Met, e.Due)
		}
		lines = append(lines, line+": "+word)
	}
	if link := boardLink(publicURL, ""); link != "" {
		lines = append(lines, "<"+link+">")
	}
	return strings.Join(lines, "\n")
}

// DigestKey is the dedupe key of the digest of one date.
func DigestKey(date string) string {
	return sekisho.NoticeKey(sekisho.NoticeDigest, sekisho.NoticeSubject{Date: date})
}

// digestDue returns the digest date whose time has come at now, if any.
// A daemon started after digest_at still sends that day's digest; the
// dedupe key keeps it to one per day.
func digestDue(cfg *config.Config, now time.Time) (date string, at time.Time, due bool) {
	if !cfg.Slack.DigestAt.Set {
		return "", time.Time{}, false
	}
	loc := cfg.Location
	date = sekisho.DateOf(now, loc)
	at = cfg.Slack.DigestAt.MustOn(date, loc)
	return date, at, !now.Before(at)
}

// nextDigest returns when the next digest falls due after now.
func nextDigest(cfg *config.Config, now time.Time) (time.Time, bool) {
	date, at, due := digestDue(cfg, now)
	if !cfg.Slack.DigestAt.Set {
		return time.Time{}, false
	}
	if !due {
		return at, true
	}
	loc := cfg.Location
	d, _ := time.ParseInLocation(sekisho.DateLayout, date, loc)
	next := time.Date(d.Year(), d.Month(), d.Day()+1, 0, 0, 0, 0, loc).Format(sekisho.DateLayout)
	return cfg.Slack.DigestAt.MustOn(next, loc), true
}

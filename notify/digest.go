package notify

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/store"
)

// DigestEntry is one pipeline's line in the daily digest.
type DigestEntry struct {
	Pipeline    string
	Description string
	LogicalDate string        // today in the pipeline's time zone
	State       sekisho.State // sekisho.StateScheduled when the gate has not opened yet
	Late        bool          // past the SLO deadline and not succeeded
}

// Emoji is the entry's mark: ✅ succeeded, 🚨 failed or timed out, 🐢 late,
// ⏳ in progress, ⏭ skipped, 🕒 scheduled.
func (e DigestEntry) Emoji() string {
	if e.Late {
		return "🐢"
	}
	return stateEmoji(e.State)
}

// severity orders the digest so problems come first.
func (e DigestEntry) severity() int {
	switch e.Emoji() {
	case "🚨":
		return 0
	case "🐢":
		return 1
	case "⏳":
		return 2
	case "🕒":
		return 3
	case "⏭":
		return 4
	}
	return 5
}

// digestLimit caps the listed pipelines; Slack refuses very long messages
// and nobody reads past a screen. Problems are listed first.
const digestLimit = 40

// BuildDigest computes every pipeline's status for today: each pipeline's
// logical date is today in its own time zone.
func BuildDigest(ctx context.Context, cfg *config.Config, st *store.Store, now time.Time) ([]DigestEntry, error) {
	if len(cfg.Pipelines) == 0 {
		return nil, nil
	}
	dates := make([]string, len(cfg.Pipelines))
	from, to := "", ""
	for i, p := range cfg.Pipelines {
		loc := p.Location
		if loc == nil {
			loc = time.UTC
		}
		dates[i] = sekisho.DateOf(now, loc)
		if from == "" || dates[i] < from {
			from = dates[i]
		}
		if dates[i] > to {
			to = dates[i]
		}
	}
	runs, err := st.Runs(ctx, store.RunFilter{From: from, To: to})
	if err != nil {
		return nil, fmt.Errorf("digest: %w", err)
	}
	byKey := make(map[string]sekisho.Run, len(runs))
	for _, r := range runs {
		byKey[r.Pipeline+"\x00"+r.LogicalDate] = r
	}
	out := make([]DigestEntry, 0, len(cfg.Pipelines))
	for i, p := range cfg.Pipelines {
		e := DigestEntry{Pipeline: p.Name, Description: p.Description, LogicalDate: dates[i], State: sekisho.StateScheduled}
		if r, ok := byKey[p.Name+"\x00"+dates[i]]; ok {
			e.State = r.State
			deadline := r.Deadline
			if deadline.IsZero() {
				deadline = p.Deadline(dates[i])
			}
			open := !r.State.Terminal()
			e.Late = open && !deadline.IsZero() && now.After(deadline)
		}
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
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].severity() < sorted[j].severity() })
	counts := map[string]int{}
	for _, e := range sorted {
		counts[e.Emoji()]++
	}
	var parts []string
	for _, m := range []string{"✅", "🚨", "🐢", "⏳", "⏭", "🕒"} {
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
		word := c.state(e.State)
		if e.Late {
			word = fmt.Sprintf(c.digest.late, word)
		}
		line := e.Emoji() + " *" + esc(e.Pipeline) + "*"
		if e.Description != "" {
			line += " — " + esc(e.Description)
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
	if loc == nil {
		loc = time.UTC
	}
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
	if loc == nil {
		loc = time.UTC
	}
	d, _ := time.ParseInLocation(sekisho.DateLayout, date, loc)
	next := time.Date(d.Year(), d.Month(), d.Day()+1, 0, 0, 0, 0, loc).Format(sekisho.DateLayout)
	return cfg.Slack.DigestAt.MustOn(next, loc), true
}

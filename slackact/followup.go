package slackact

import (
	"context"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/store"
)

// Watch is what FollowUps knows of one open incident.
type Watch struct {
	Incident sekisho.Incident
	Ack      *store.Ack // nil: nobody acknowledged it
	// EscalateAfter is the shortest notify.escalate_after among the
	// members a reader would hear about; zero: no escalation.
	EscalateAfter time.Duration
	EscalateTo    []string // the members' escalate_to, once each
	// Silenced: every member is silenced; nothing is said about it.
	Silenced bool
}

// FollowUps decides what the open incidents are owed at now: an
// escalation, once, when one stayed unacknowledged for escalate_after; a
// reply, once per ETA, when an acknowledged one's ETA passed. It returns
// the notices (keyed, so writing them again adds nothing) and the next time
// something falls due (zero: nothing will without a change).
func FollowUps(ws []Watch, now time.Time) ([]sekisho.Notice, time.Time) {
	var out []sekisho.Notice
	var next time.Time
	later := func(t time.Time) {
		if next.IsZero() || t.Before(next) {
			next = t
		}
	}
	for _, w := range ws {
		inc := w.Incident
		if !inc.Open() || w.Silenced {
			continue
		}
		if w.Ack == nil && w.EscalateAfter > 0 {
			due := inc.OpenedAt.Add(w.EscalateAfter)
			if now.Before(due) {
				later(due)
			} else {
				out = append(out, sekisho.Notice{Kind: sekisho.NoticeEscalation, LogicalDate: inc.Cause.Date, CreatedAt: now,
					DedupeKey: sekisho.NoticeKey(sekisho.NoticeEscalation, sekisho.NoticeSubject{Incident: inc.Key}),
					Facts: sekisho.NoticeFacts{Incident: inc.Key, Mention: strings.Join(w.EscalateTo, " "),
						Duration: w.EscalateAfter.String()}})
			}
		}
		if w.Ack != nil && !w.Ack.ETA.IsZero() {
			eta := w.Ack.ETA
			if now.Before(eta) {
				later(eta)
			} else {
				out = append(out, sekisho.Notice{Kind: sekisho.NoticeETAPassed, LogicalDate: inc.Cause.Date, CreatedAt: now,
					DedupeKey: sekisho.NoticeKey(sekisho.NoticeETAPassed, sekisho.NoticeSubject{Incident: inc.Key,
						Request: strconv.FormatInt(eta.Unix(), 10)}),
					Facts: sekisho.NoticeFacts{Incident: inc.Key, ExpectedAt: eta, User: strings.TrimPrefix(w.Ack.By, "slack:"),
						Mention: w.Ack.Name}})
				if !strings.HasPrefix(w.Ack.By, "slack:") {
					out[len(out)-1].Facts.User = ""
				}
			}
		}
	}
	return out, next
}

// Watches builds FollowUps' input from the open incidents, their
// acknowledgements, the config and the silences holding at now.
func Watches(open []sekisho.Incident, acks map[string]store.Ack, cfg *config.Config, sil store.Silences, now time.Time) []Watch {
	var out []Watch
	for _, inc := range open {
		w := Watch{Incident: inc}
		if a, ok := acks[inc.Key]; ok {
			w.Ack = &a
		}
		visible := 0
		for _, m := range inc.Members {
			if _, ok := sil.For(m.Pipeline, now); ok {
				continue
			}
			visible++
			p := cfg.Pipeline(m.Pipeline)
			if p == nil || p.Notify.EscalateAfter <= 0 {
				continue
			}
			if w.EscalateAfter == 0 || p.Notify.EscalateAfter < w.EscalateAfter {
				w.EscalateAfter = p.Notify.EscalateAfter
			}
			if !slices.Contains(w.EscalateTo, p.Notify.EscalateTo) {
				w.EscalateTo = append(w.EscalateTo, p.Notify.EscalateTo)
			}
		}
		w.Silenced = len(inc.Members) > 0 && visible == 0
		out = append(out, w)
	}
	return out
}

// FollowUpRunner writes the follow-ups into the outbox on time. It runs on
// the leader only; what it decides comes from the store, so a restart or a
// new leader picks up where the last one stopped, and the notices' keys
// keep each follow-up to one.
type FollowUpRunner struct {
	Store  *store.Store
	Config func() *config.Config
	Clock  interface {
		Now() time.Time
		After(time.Duration) <-chan time.Time
	}
	Logger *slog.Logger
	Kick   func() // wakes the notice sender
	// Every bounds the wait between passes (default 1m): an incident opened
	// or acknowledged since is seen then.
	Every time.Duration
}

// Pass writes what is due now and returns when the next follow-up falls due.
func (f *FollowUpRunner) Pass(ctx context.Context) (time.Time, error) {
	now := f.Clock.Now()
	cfg := f.Config()
	open, err := f.Store.OpenIncidents(ctx)
	if err != nil || len(open) == 0 {
		return time.Time{}, err
	}
	keys := make([]string, len(open))
	for i, inc := range open {
		keys[i] = inc.Key
	}
	acks, err := f.Store.Acks(ctx, keys...)
	if err != nil {
		return time.Time{}, err
	}
	sil, err := f.Store.SilencesEndingAfter(ctx, now)
	if err != nil {
		return time.Time{}, err
	}
	sil = append(sil, MaintenanceSilences(cfg, now, now.Add(time.Second))...)
	ns, next := FollowUps(Watches(open, acks, cfg, sil, now), now)
	added := false
	for _, n := range ns {
		ok, err := f.Store.AddNotice(ctx, n)
		if err != nil {
			return next, err
		}
		if ok {
			added = true
			if f.Logger != nil {
				f.Logger.Info("incident follow-up queued", "kind", string(n.Kind), "incident", n.Facts.Incident)
			}
		}
	}
	if added && f.Kick != nil {
		f.Kick()
	}
	return next, nil
}

// Run passes until ctx ends: at the next due time, and at least every
// Every.
func (f *FollowUpRunner) Run(ctx context.Context) error {
	every := f.Every
	if every <= 0 {
		every = time.Minute
	}
	for {
		next, err := f.Pass(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil && f.Logger != nil {
			f.Logger.Warn("incident follow-ups", "error", err.Error())
		}
		wait := every
		if !next.IsZero() {
			wait = min(wait, max(0, next.Sub(f.Clock.Now())))
		}
		select {
		case <-ctx.Done():
			return nil
		case <-f.Clock.After(wait):
		}
	}
}

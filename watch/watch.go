// Package watch runs sekisho's standing watches (SPEC §15): a long_queries
// watch lists a warehouse's running queries every interval and queues one
// long_query notice per query that runs past its threshold, through the
// same durable outbox as every notice. The alert and its notice are written
// in one transaction keyed by (watch, query), so a restart never notifies a
// query twice; when an alerted query is gone from the listing, the alert
// ends (and, in Slack bot mode, a reply goes into its thread). It never
// cancels a query.
package watch

import (
	"context"
	"errors"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/store"
	"github.com/sekisho-dev/sekisho/warehouse"
)

// MaxText is how much of a query's text a notice and the board show.
const MaxText = 1000

// Runner runs every watch of one config.
type Runner struct {
	cfg      *config.Config
	st       *store.Store
	clients  map[string]warehouse.Client
	clock    clockwork.Clock
	log      *slog.Logger
	onNotice func()
}

// New returns a runner. clients holds a client per warehouse a watch names;
// onNotice wakes the sender after notices were queued (nil: none).
func New(cfg *config.Config, st *store.Store, clients map[string]warehouse.Client, clock clockwork.Clock, log *slog.Logger, onNotice func()) *Runner {
	if clock == nil {
		clock = clockwork.NewRealClock()
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if onNotice == nil {
		onNotice = func() {}
	}
	return &Runner{cfg: cfg, st: st, clients: clients, clock: clock, log: log, onNotice: onNotice}
}

// Run runs every watch until ctx ends, then returns nil.
func (r *Runner) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for _, w := range r.cfg.Watches {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.loop(ctx, w)
		}()
	}
	wg.Wait()
	return nil
}

func (r *Runner) loop(ctx context.Context, w *config.Watch) {
	for {
		next, err := r.Pass(ctx, w)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			r.log.Warn("long-query watch: pass failed; trying again next interval", "watch", w.Name,
				"warehouse", w.Warehouse, "err", err.Error())
		}
		t := r.clock.NewTimer(max(next.Sub(r.clock.Now()), 0))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.Chan():
		}
	}
}

// Pass lists the running queries once, alerts the new long ones, ends the
// alerts of queries gone, and returns when to look again: after the
// interval, or as soon as a query seen running crosses the threshold, so a
// notice does not wait for the next interval.
func (r *Runner) Pass(ctx context.Context, w *config.Watch) (time.Time, error) {
	now := r.clock.Now()
	next := now.Add(w.Interval)
	qs, err := r.list(ctx, w)
	// The outcome goes to the store, so the board shows a watch that
	// cannot see, on every replica (the listing runs on the leader only).
	st := store.WatchStatus{Watch: w.Name, Warehouse: w.Warehouse, Error: r.scrub(w, err), CheckedAt: now}
	if serr := r.st.SetWatchStatus(ctx, st); serr != nil || err != nil {
		return next, errors.Join(err, serr)
	}
	now = r.clock.Now()
	seen := map[string]bool{}
	queued := false
	for _, q := range qs {
		seen[q.Key] = true
		if slices.Contains(w.ExcludeUsers, q.User) {
			continue
		}
		crosses := q.StartedAt.Add(w.Threshold)
		if now.Before(crosses) {
			if crosses.Before(next) {
				next = crosses
			}
			continue
		}
		added, err := r.st.AddQueryAlert(ctx, r.alert(w, q, now), r.notice(w, q, now))
		if err != nil {
			return next, err
		}
		if added {
			queued = true
			r.log.Info("long query", "watch", w.Name, "warehouse", w.Warehouse, "user", q.User, "pid", q.PID,
				"started_at", q.StartedAt.Format(time.RFC3339), "minutes", int(now.Sub(q.StartedAt).Minutes()))
		}
	}
	open, err := r.st.OpenQueryAlerts(ctx, w.Name)
	if err != nil {
		return next, err
	}
	for _, a := range open {
		if seen[a.Key] {
			continue
		}
		ended, err := r.st.EndQueryAlert(ctx, a.ID, now, r.endNotice(w, a, now))
		if err != nil {
			return next, err
		}
		queued = queued || ended
	}
	if queued {
		r.onNotice()
	}
	return next, nil
}

func (r *Runner) list(ctx context.Context, w *config.Watch) ([]warehouse.Query, error) {
	c, ok := r.clients[w.Warehouse]
	if !ok {
		return nil, errors.New("no client for warehouse " + w.Warehouse)
	}
	return c.Running(ctx)
}

// MaxError is how much of a listing's error the board shows.
const MaxError = 500

// scrub is the text a listing's error is stored and shown with: the
// warehouse's DSN and its password taken out, and cut to MaxError. The
// clients keep them out of their own errors already; this holds for any
// error that quotes them, since the text reaches every board reader.
func (r *Runner) scrub(w *config.Watch, err error) string {
	if err == nil {
		return ""
	}
	msg := err.Error()
	if wh := r.cfg.Connections.Warehouses[w.Warehouse]; wh != nil && wh.DSN != "" {
		dsn := wh.DSN.Value()
		msg = strings.ReplaceAll(msg, dsn, "(the dsn)")
		if pw := dsnPassword(dsn); pw != "" {
			msg = strings.ReplaceAll(msg, pw, "xxxxx")
		}
	}
	return warehouse.Truncate(msg, MaxError)
}

// dsnPassword is the password of a PostgreSQL DSN, written as a URL
// (user:pw@host, ?password=) or as key=value pairs.
func dsnPassword(dsn string) string {
	if u, err := url.Parse(dsn); err == nil && u.Scheme != "" {
		if pw, ok := u.User.Password(); ok {
			return pw
		}
		return u.Query().Get("password")
	}
	for _, f := range strings.Fields(dsn) {
		if v, ok := strings.CutPrefix(f, "password="); ok {
			return strings.Trim(v, "'")
		}
	}
	return ""
}

func (r *Runner) alert(w *config.Watch, q warehouse.Query, now time.Time) store.QueryAlert {
	return store.QueryAlert{Watch: w.Name, Warehouse: w.Warehouse, Key: q.Key, User: q.User, PID: q.PID,
		StartedAt: q.StartedAt, Text: warehouse.Truncate(q.Text, MaxText), AlertedAt: now}
}

func (r *Runner) facts(w *config.Watch, user, pid, key, text string, started time.Time) sekisho.NoticeFacts {
	return sekisho.NoticeFacts{Watch: w.Name, Warehouse: w.Warehouse, User: user, PID: pid, ExternalID: key,
		StartedAt: started, Message: text, Mention: w.Notify.Mention, TimeZone: r.cfg.Timezone,
		MaxDuration: w.Threshold.String()}
}

func (r *Runner) notice(w *config.Watch, q warehouse.Query, now time.Time) sekisho.Notice {
	return sekisho.Notice{Kind: sekisho.NoticeLongQuery, DedupeKey: sekisho.NoticeKey(sekisho.NoticeLongQuery, sekisho.NoticeSubject{Watch: w.Name, ExternalID: q.Key}),
		CreatedAt: now, Facts: r.facts(w, q.User, q.PID, q.Key, warehouse.Truncate(q.Text, MaxText), q.StartedAt)}
}

// endNotice is the thread reply when an alerted query ends, in Slack bot
// mode. Webhook mode has no threads: there the alert just ends (the board
// drops it) and no second loose message is posted.
func (r *Runner) endNotice(w *config.Watch, a store.QueryAlert, now time.Time) sekisho.Notice {
	if r.cfg.Slack.Token == "" {
		return sekisho.Notice{}
	}
	f := r.facts(w, a.User, a.PID, a.Key, "", a.StartedAt)
	f.Duration = now.Sub(a.StartedAt).Round(time.Minute).String()
	return sekisho.Notice{Kind: sekisho.NoticeLongQueryEnded, DedupeKey: sekisho.NoticeKey(sekisho.NoticeLongQueryEnded, sekisho.NoticeSubject{Watch: w.Name, ExternalID: a.Key}),
		CreatedAt: now, Facts: f}
}

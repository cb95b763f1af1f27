// Package notify delivers sekisho's notices to Slack. The engine writes
// notices into the store's outbox in the same transaction as the transition
// that causes them; a Sender reads the outbox, renders each notice in
// Japanese or English, and posts it through an incoming webhook or a bot
// token (threads per run, root message kept current), retrying with
// persisted backoff so a Slack outage or a restart delays notices and loses
// none.
package notify

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/slack-go/slack"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/store"
)

// FilteredPrefix starts the stored text of a notice that the pipeline's
// notify.on does not want: it is marked sent without being posted, and the
// board still shows what it would have said.
const FilteredPrefix = "(filtered: notify.on) "

// Log keys, constant so log queries do not drift.
const (
	logNotice   = "notice"
	logKind     = "kind"
	logPipeline = "pipeline"
	logDate     = "logical_date"
	logError    = "error"
	logText     = "text"
	logRetryAt  = "retry_at"
	// logSlackError is Slack's own error word (invalid_blocks, …).
	logSlackError = "slack_error"
	logTries      = "tries"
)

const batchSize = 100

// Option adjusts a Sender.
type Option func(*Sender)

// WithHTTPClient sets the HTTP client for Slack calls (default: a client
// with a 30s timeout).
func WithHTTPClient(c *http.Client) Option { return func(s *Sender) { s.hc = c } }

// WithBackoff sets the first retry wait and its cap (default 5s and 10m).
func WithBackoff(base, max time.Duration) Option {
	return func(s *Sender) { s.backoff.base, s.backoff.max = base, max }
}

// WithLeader makes every Slack call ask leading first (the replica's
// elector, ha.Elector.IsLeader: nil while it leads and trusts its lease)
// and not go out when it answers an error. A leader paused past its lease
// (SIGSTOP, a frozen VM) that wakes in the middle of a delivery would
// otherwise post a notice the next leader, finding no trace of it in
// Slack, has posted too: the store fences the leader's writes, but a Slack
// post is not a write the store can refuse.
func WithLeader(leading func(context.Context) error) Option {
	return func(s *Sender) { s.leading = leading }
}

// WithPollInterval sets how often the outbox is read when nothing is due
// and nobody kicks (default 30s).
func WithPollInterval(d time.Duration) Option { return func(s *Sender) { s.idle = d } }

// WithCallTimeout bounds each Slack call (default 20s).
func WithCallTimeout(d time.Duration) Option { return func(s *Sender) { s.callTimeout = d } }

// WithMetrics counts each delivery outcome: sent, retry, filtered, silenced,
// grouped (an incident speaks for it) or logged (no Slack configured). *metrics.Metrics has this method.
func WithMetrics(m interface{ Notice(kind, outcome string) }) Option {
	return func(s *Sender) { s.metrics = m }
}

func (s *Sender) count(n sekisho.Notice, outcome string) {
	if s.metrics != nil {
		s.metrics.Notice(string(n.Kind), outcome)
	}
}

// Sender delivers the outbox to Slack. Run it in one goroutine; Kick and
// SetConfig may be called from any goroutine.
type Sender struct {
	st          *store.Store
	clock       clockwork.Clock
	log         *slog.Logger
	hc          *http.Client
	leading     func(context.Context) error // WithLeader's; nil: always
	metrics     interface{ Notice(kind, outcome string) }
	backoff     backoff
	idle        time.Duration
	callTimeout time.Duration
	kick        chan struct{}

	mu         sync.Mutex
	snap       snapshot
	pauseUntil time.Time // no Slack calls before this: outage, rate limit or refused token

	// Owned by the Run goroutine.
	lastDigest string
	chanMu     sync.Mutex
	channelIDs map[string]string // "#name" → channel id, learned from chat.postMessage answers
}

// snapshot is the config a pass works with, so a reload in the middle of
// a pass does not mix two configs.
type snapshot struct {
	cfg    *config.Config
	client *slack.Client // bot mode only
	red    redactor
}

// New returns a Sender for cfg's slack section. The clock drives retries
// and the digest, so tests run an outage of hours on a fake clock.
func New(cfg *config.Config, st *store.Store, clock clockwork.Clock, logger *slog.Logger, opts ...Option) (*Sender, error) {
	if cfg == nil || st == nil {
		return nil, errors.New("notify: need a config and a store")
	}
	if clock == nil {
		clock = clockwork.NewRealClock()
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &Sender{
		st: st, clock: clock, log: logger,
		hc:          &http.Client{Timeout: 30 * time.Second},
		backoff:     backoff{base: 5 * time.Second, max: 10 * time.Minute},
		idle:        30 * time.Second,
		callTimeout: 20 * time.Second,
		kick:        make(chan struct{}, 1),
		channelIDs:  map[string]string{},
	}
	for _, o := range opts {
		o(s)
	}
	if s.leading != nil {
		// Under the pacer, so the check comes after a post's wait for its
		// channel's slot, the last moment before the request leaves.
		s.hc = leaderOnly(s.hc, s.leading)
	}
	// Every Slack call goes through the per-channel pacer (pace.go).
	s.hc = newPacer(nil, clock, PostInterval).client(s.hc)
	if err := s.SetConfig(cfg); err != nil {
		return nil, err
	}
	return s, nil
}

// SetConfig switches to a reloaded config; the next pass uses it.
func (s *Sender) SetConfig(cfg *config.Config) error {
	if cfg == nil {
		return errors.New("notify: nil config")
	}
	sl := cfg.Slack
	if sl.WebhookURL != "" && sl.Token != "" {
		return errors.New("notify: slack has both webhook_url and token: keep one (token and channel for threads, webhook_url for plain messages)")
	}
	snap := snapshot{cfg: cfg, red: newRedactor(sl.WebhookURL.Value(), sl.Token.Value())}
	if sl.Token != "" {
		opts := []slack.Option{slack.OptionHTTPClient(s.hc)}
		if sl.APIURL != "" {
			opts = append(opts, slack.OptionAPIURL(strings.TrimRight(sl.APIURL, "/")+"/"))
		}
		snap.client = slack.New(sl.Token.Value(), opts...)
	}
	s.mu.Lock()
	s.snap = snap
	s.pauseUntil = time.Time{} // a reload may have fixed a refused token
	s.mu.Unlock()
	s.Kick()
	return nil
}

func (s *Sender) snapshot() snapshot {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.snap
}

func (s *Sender) paused() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pauseUntil
}

// Kick wakes the sender early: the engine calls it after writing notices.
func (s *Sender) Kick() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// Run delivers notices until ctx ends, then returns nil. Store errors are
// logged and retried; they do not stop it.
func (s *Sender) Run(ctx context.Context) error {
	for {
		next, err := s.pass(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			s.log.Error("notice outbox", logError, err.Error())
			next = s.clock.Now().Add(s.idle)
		}
		wait := next.Sub(s.clock.Now())
		if wait < 0 {
			wait = 0
		}
		t := s.clock.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-s.kick:
			t.Stop()
		case <-t.Chan():
		}
	}
}

// pass delivers what is due, in id order, never letting a notice overtake
// an earlier undelivered notice of the same run, and returns when the next
// pass should run.
func (s *Sender) pass(ctx context.Context) (time.Time, error) {
	snap := s.snapshot()
	now := s.clock.Now()
	next := now.Add(s.idle)
	if err := s.addDigest(ctx, snap.cfg, now); err != nil {
		s.log.Error("daily digest", logError, err.Error())
	}
	if at, ok := nextDigest(snap.cfg, now); ok {
		next = earliest(next, at)
	}
	if pause := s.paused(); now.Before(pause) {
		return earliest(next, pause), nil
	}
	pending, err := s.st.PendingNotices(ctx, batchSize)
	if err != nil {
		return next, err
	}
	silences, err := s.silencesFor(ctx, pending)
	if err != nil {
		return next, err
	}
	blocked := map[int64]bool{}
	delivered := 0
	incidents := newIncidentPass(pending)
	for _, n := range pending {
		if n.Kind.IsIncident() {
			out, err := s.deliverIncident(ctx, snap, n, now, silences, incidents)
			if err != nil {
				return next, err
			}
			if out.ok {
				delivered++
				continue
			}
			if !out.retryAt.IsZero() {
				next = earliest(next, out.retryAt)
			}
			if out.verdict.global {
				s.pause(out.retryAt)
				break
			}
			continue
		}
		if n.RunID != 0 && blocked[n.RunID] {
			continue
		}
		if n.NextTryAt.After(now) {
			blocked[n.RunID] = n.RunID != 0
			next = earliest(next, n.NextTryAt)
			continue
		}
		out, err := s.deliver(ctx, snap, n, now, silences)
		if err != nil {
			return next, err
		}
		if out.ok {
			delivered++
			continue
		}
		blocked[n.RunID] = n.RunID != 0
		next = earliest(next, out.retryAt)
		if out.verdict.global {
			s.pause(out.retryAt)
			break
		}
	}
	if delivered > 0 && len(pending) == batchSize {
		next = now
	}
	return next, nil
}

// pause holds every delivery until at: one probe per backoff while Slack is
// down or limiting us.
func (s *Sender) pause(at time.Time) {
	s.mu.Lock()
	s.pauseUntil = at
	s.mu.Unlock()
}

type outcome struct {
	ok      bool
	retryAt time.Time
	verdict verdict
}

// deliver renders and posts one due notice. Its error is a store failure
// or a shutdown; a Slack failure is an outcome with a retry time.
func (s *Sender) deliver(ctx context.Context, snap snapshot, n sekisho.Notice, now time.Time, sil store.Silences) (outcome, error) {
	if n.Kind.IsFollowUp() {
		return s.deliverFollowUp(ctx, snap, n, now)
	}
	cfg := snap.cfg
	p := s.pipelineOf(ctx, cfg, n)
	msg := Render(cfg.Slack.Language, n, p, cfg.Server.PublicURL)
	text := msg.Text()
	attrs := []any{logNotice, n.ID, logKind, string(n.Kind), logPipeline, n.Pipeline, logDate, n.LogicalDate}
	if key := n.Facts.SpokenFor; key != "" {
		return s.finishIncident(ctx, n, now, GroupedPrefix+"incident "+key+") ", "grouped", attrs, text)
	}
	if done, err := s.silence(ctx, n, sil, now, text); done || err != nil {
		return outcome{ok: done}, err
	}
	if p != nil && filterable(n.Kind) && !p.Notify.Wants(n.Kind) {
		if _, err := s.st.FinishNotice(ctx, n.ID, now, FilteredPrefix+text); err != nil {
			return outcome{}, err
		}
		s.log.Debug("notice filtered by notify.on", attrs...)
		s.count(n, "filtered")
		return outcome{ok: true}, nil
	}
	if !cfg.Slack.Enabled() {
		// Without Slack the notice still gets its text, so the board and
		// the API show it, and the log carries it.
		if _, err := s.st.FinishNotice(ctx, n.ID, now, text); err != nil {
			return outcome{}, err
		}
		s.log.Info("notice (slack not configured)", append(attrs, logText, text)...)
		s.count(n, "logged")
		return outcome{ok: true}, nil
	}
	return s.attempt(ctx, snap, n, now, text, attrs, func(ctx context.Context) error { return s.post(ctx, snap, n, p, msg) })
}

// attempt makes one delivery try of a due notice with post, recording the
// try before the call and its outcome after.
func (s *Sender) attempt(ctx context.Context, snap snapshot, n sekisho.Notice, now time.Time, text string, attrs []any,
	post func(context.Context) error) (outcome, error) {
	tries := n.Tries + 1
	if err := s.st.StartNoticeTry(ctx, n.ID, now.Add(s.backoff.delay(tries))); err != nil {
		return outcome{}, err
	}
	cctx, cancel := context.WithTimeout(ctx, s.callTimeout)
	err := post(cctx)
	cancel()
	if err == nil {
		if _, err := s.st.FinishNotice(ctx, n.ID, s.clock.Now(), text); err != nil {
			return outcome{}, err
		}
		s.log.Info("notice sent", append(attrs, logTries, tries)...)
		s.count(n, "sent")
		return outcome{ok: true}, nil
	}
	if ctx.Err() != nil {
		return outcome{}, ctx.Err()
	}
	v := classify(err)
	word := slackWord(err)
	if v.config && !v.global && tries >= maxRefusedTries {
		// Slack will never take this notice as it is: keep it, with
		// Slack's word, as done, so it no longer holds back the run.
		if _, err := s.st.FinishNotice(ctx, n.ID, s.clock.Now(), refusedText(word, text)); err != nil {
			return outcome{}, err
		}
		s.count(n, "refused")
		s.log.Error("slack refused a notice for good; marked refused", append(attrs, logSlackError, word, logTries, tries)...)
		return outcome{ok: true}, nil
	}
	at := s.backoff.after(s.clock.Now(), tries, v)
	errText := snap.red.text(err)
	record := s.st.FailNoticeTry
	if v.rateLimited {
		// Slack's 429 is no fault of the notice: give the try back, so a
		// later outage does not meet a backoff grown by rate limits (nor a
		// crash mid-call the long provisional wait StartNoticeTry set).
		record = s.st.ThrottledNoticeTry
	}
	if err := record(ctx, n.ID, at, errText); err != nil {
		return outcome{}, err
	}
	s.count(n, "retry")
	attrs = append(attrs, logError, errText, logSlackError, word, logTries, tries, logRetryAt, at.UTC().Format(time.RFC3339))
	if v.config {
		s.log.Error("slack refused a notice: check slack.token, slack.channel or slack.webhook_url; it stays queued", attrs...)
	} else {
		s.log.Warn("slack delivery failed; will retry", attrs...)
	}
	return outcome{retryAt: at, verdict: v}, nil
}

// post sends one notice in the configured mode.
func (s *Sender) post(ctx context.Context, snap snapshot, n sekisho.Notice, p *config.Pipeline, msg Message) error {
	if snap.client != nil {
		return s.postBot(ctx, snap, n, p, msg)
	}
	return s.postWebhook(ctx, snap, msg)
}

// postWebhook posts one message through the incoming webhook.
func (s *Sender) postWebhook(ctx context.Context, snap snapshot, msg Message) error {
	wm := &slack.WebhookMessage{Text: msg.Text(), Blocks: &slack.Blocks{BlockSet: msg.Blocks()}}
	return postWebhook(ctx, s.hc, snap.cfg.Slack.WebhookURL.Value(), wm)
}

// pipelineOf returns the notice's pipeline from the current config, or
// from the snapshot kept with its run when a reload removed it.
func (s *Sender) pipelineOf(ctx context.Context, cfg *config.Config, n sekisho.Notice) *config.Pipeline {
	if n.Pipeline == "" {
		return nil
	}
	if p := cfg.Pipeline(n.Pipeline); p != nil {
		return p
	}
	if n.RunID == 0 {
		return nil
	}
	r, err := s.st.RunByID(ctx, n.RunID)
	if err != nil {
		return nil
	}
	p, err := config.PipelineFromSpec(r.Spec)
	if err != nil {
		return nil
	}
	return p
}

// filterable reports whether notify.on may silence a kind: the kinds a
// pipeline can name. Digests, config errors and unknown trigger outcomes
// always go out.
func filterable(k sekisho.NoticeKind) bool {
	for _, x := range sekisho.NoticeKinds {
		if x == k {
			return true
		}
	}
	return false
}

// addDigest queues today's digest once its time has come.
func (s *Sender) addDigest(ctx context.Context, cfg *config.Config, now time.Time) error {
	date, _, due := digestDue(cfg, now)
	if !due || s.lastDigest == date {
		return nil
	}
	entries, err := BuildDigest(ctx, cfg, s.st, now)
	if err != nil {
		return err
	}
	text := DigestText(cfg.Slack.Language, date, entries, cfg.Server.PublicURL)
	added, err := s.st.AddNotice(ctx, sekisho.Notice{Kind: sekisho.NoticeDigest, DedupeKey: DigestKey(date),
		LogicalDate: date, Text: text, CreatedAt: now})
	if err != nil {
		return err
	}
	s.lastDigest = date
	if added {
		s.log.Info("daily digest queued", logDate, date)
	}
	return nil
}

func earliest(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

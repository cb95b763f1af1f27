package slackact

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/slack-go/slack"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/engine"
	"github.com/sekisho-dev/sekisho/store"
)

// Operator reruns and skips runs: the engine (or, without one, the
// engine's functions on the store), as for the API and the CLI.
type Operator interface {
	Rerun(ctx context.Context, pipeline, key string, by engine.By) (sekisho.Run, error)
	Skip(ctx context.Context, pipeline, key string, by engine.By) (sekisho.Run, error)
}

// Groups answers who is in a Slack user group (usergroups.users.list).
type Groups interface {
	Members(ctx context.Context, group string) ([]string, error)
}

// ConfigGroups reads user groups through the Web API (scope
// usergroups:read) with the bot token of the config in force.
type ConfigGroups struct {
	Config func() *config.Config
	HTTP   *http.Client // default: slack-go's
}

// Members lists the group's users.
func (g ConfigGroups) Members(ctx context.Context, group string) ([]string, error) {
	cfg := g.Config()
	var opts []slack.Option
	if g.HTTP != nil {
		opts = append(opts, slack.OptionHTTPClient(g.HTTP))
	}
	if cfg.Slack.APIURL != "" {
		opts = append(opts, slack.OptionAPIURL(strings.TrimRight(cfg.Slack.APIURL, "/")+"/"))
	}
	return slack.New(cfg.Slack.Token.Value(), opts...).GetUserGroupMembersContext(ctx, group)
}

// groupTTL is how long a user group's members are trusted: a person added
// to the on-call group can act within minutes, and a burst of clicks asks
// Slack once.
const groupTTL = 5 * time.Minute

// Service carries out clicks. It is safe for concurrent use: the HTTP
// handler and the Socket Mode runner share one.
type Service struct {
	Store    *store.Store
	Config   func() *config.Config
	Operator Operator
	Clock    sekisho.Clock
	Logger   *slog.Logger
	Groups   Groups // nil: user groups in operators match nobody
	// Kick wakes the notice sender, so the thread reply and the root's
	// update go out at once; nil on a follower (the leader's sender reads
	// the outbox on its own).
	Kick func()
	// HTTP posts ephemeral answers to response_url (default: 10s timeout).
	HTTP *http.Client

	mu     sync.Mutex
	groups map[string]groupEntry
}

type groupEntry struct {
	members []string
	at      time.Time
}

// Outcome is what became of one click.
type Outcome struct {
	Click  Click
	Result string // done | duplicate | refused | rejected | invalid | failed
	// Message is the ephemeral answer the user got, if any.
	Message string
}

// Handle carries out every sekisho click in an interaction payload and
// answers the clicking user ephemerally when nothing was done.
func (s *Service) Handle(ctx context.Context, cb slack.InteractionCallback) []Outcome {
	var out []Outcome
	for _, c := range Clicks(cb) {
		o := s.click(ctx, c)
		if o.Message != "" && c.ResponseURL != "" {
			if err := s.respond(ctx, c.ResponseURL, o.Message); err != nil {
				s.log().Warn("slack: ephemeral answer failed", "error", err.Error())
			}
		}
		out = append(out, o)
	}
	return out
}

func (s *Service) log() *slog.Logger {
	if s.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Logger
}

func (s *Service) click(ctx context.Context, c Click) Outcome {
	cfg := s.Config()
	now := s.Clock.Now()
	w := refusalsFor(cfg.Slack.Language)
	loc := cfg.Location
	if t, _, err := ParseValue(valueOf(c)); err == nil {
		if p := cfg.Pipeline(t.Pipeline); p != nil {
			loc = p.Location
		}
	}
	req, err := Interpret(c, now, loc)
	if err != nil {
		s.log().Warn("slack: unreadable click", "action_id", c.ActionID, "user", c.User, "error", err.Error())
		return Outcome{Click: c, Result: "invalid", Message: w.invalid}
	}
	t := req.Target
	p := cfg.Pipeline(t.Pipeline)
	if p == nil {
		return Outcome{Click: c, Result: "invalid", Message: fmt.Sprintf(w.unknown, t.Pipeline)}
	}
	if !Allowed(c.User, cfg.Slack.Operators, p.Owners, func(g string) bool { return s.inGroup(ctx, g, c.User) }) {
		s.log().Info("slack: action refused: not an operator", "action", req.Kind, "pipeline", t.Pipeline, "key", t.Key, "user", c.User)
		return Outcome{Click: c, Result: "refused", Message: fmt.Sprintf(w.notAllowed, t.Pipeline)}
	}
	inc, err := IncidentOf(ctx, s.Store, t)
	if err != nil {
		return s.failed(c, req, w, err)
	}
	by := engine.By{Who: engine.BySlack(c.User), Request: c.ActionTS, Incident: inc}
	by.Notices = []sekisho.Notice{Reply(req.Kind, t, by, c.User, c.UserName, req.ETA, req.Until, now)}
	if r, err := s.Store.Run(ctx, t.Pipeline, t.Key); err == nil {
		by.Notices[0].RunID = r.ID // a thread to reply in when the run is in no incident
	}
	switch req.Kind {
	case store.ActionRerun:
		_, err = s.Operator.Rerun(ctx, t.Pipeline, t.Key, by)
	case store.ActionSkip:
		_, err = s.Operator.Skip(ctx, t.Pipeline, t.Key, by)
	case store.ActionAck:
		err = Acknowledge(ctx, s.Store, t, by, c.UserName, req.ETA, now)
	case store.ActionSilence:
		err = s.silence(ctx, t, by, c.User, req.Until, now)
	}
	if err != nil && !errors.Is(err, store.ErrDuplicate) {
		// The run may have refused because this very click, delivered
		// before, already moved it.
		if done, herr := s.Store.HasAction(ctx, req.Kind, t.Pipeline, t.Key, c.ActionTS); herr == nil && done {
			err = store.ErrDuplicate
		}
	}
	switch {
	case errors.Is(err, store.ErrDuplicate):
		// Slack delivered the click again: the first delivery did it.
		s.log().Info("slack: click delivered again; already done", "action", req.Kind, "pipeline", t.Pipeline, "key", t.Key, "action_ts", c.ActionTS)
		return Outcome{Click: c, Result: "duplicate"}
	case errors.Is(err, sekisho.ErrConflict), errors.Is(err, sekisho.ErrNotFound):
		return Outcome{Click: c, Result: "rejected", Message: fmt.Sprintf(w.rejected, err.Error())}
	case err != nil:
		return s.failed(c, req, w, err)
	}
	s.log().Info("slack: operator action", "action", req.Kind, "pipeline", t.Pipeline, "key", t.Key, "by", by.Who)
	if s.Kick != nil {
		s.Kick()
	}
	return Outcome{Click: c, Result: "done"}
}

func (s *Service) failed(c Click, req Request, w *refusals, err error) Outcome {
	s.log().Error("slack: operator action failed", "action", req.Kind, "pipeline", req.Target.Pipeline, "key", req.Target.Key, "error", err.Error())
	return Outcome{Click: c, Result: "failed", Message: w.failed}
}

func valueOf(c Click) string {
	if c.Value == "" && strings.HasPrefix(c.BlockID, ETABlockPrefix) {
		return strings.TrimPrefix(c.BlockID, ETABlockPrefix)
	}
	return c.Value
}

// silence silences the run's incident (every member's pipeline) or, when
// it is in none, its pipeline, until until.
func (s *Service) silence(ctx context.Context, t Target, by engine.By, user string, until, now time.Time) error {
	pipelines := []string{t.Pipeline}
	if inc, err := s.Store.Incident(ctx, by.Incident); err == nil && inc.Open() {
		for _, m := range inc.Members {
			pipelines = append(pipelines, m.Pipeline)
		}
	} else if err != nil && !errors.Is(err, sekisho.ErrNotFound) {
		return err
	}
	sil := store.Silence{Pipelines: pipelines, Reason: "silenced from Slack by " + user, StartsAt: now, EndsAt: until, CreatedAt: now}
	act, err := by.Action(store.ActionSilence, t.Pipeline, t.Key, "until "+until.UTC().Format(time.RFC3339), now)
	if err != nil {
		return err
	}
	_, err = s.Store.AddSilenceBy(ctx, sil, act, by.Notices)
	return err
}

// TargetOf is the run an incident is acted on and acknowledged against
// (its buttons, its acknowledgement): its cause's run, else its first
// member's, else the cause's own; with that run's state as the incident
// knows it. A sub-daily member is named by its run key, so the buttons of
// an incident about the 13:00 run rerun that hour.
func TargetOf(inc sekisho.Incident) (Target, sekisho.State) {
	for _, m := range inc.Members {
		if m.Role == sekisho.RoleCause {
			return Target{Pipeline: m.Pipeline, Key: m.Interval()}, m.State
		}
	}
	if len(inc.Members) > 0 {
		m := inc.Members[0]
		return Target{Pipeline: m.Pipeline, Key: m.Interval()}, m.State
	}
	return Target{Pipeline: inc.Cause.Pipeline, Key: inc.Cause.Interval()}, sekisho.StateFailed
}

// IncidentOf is the incident a run is in: the open one it is affected by,
// else one it is the cause of, else the one it would be the cause of. An
// acknowledgement of a run that is in no incident yet is kept under that
// key, so the incident that opens later shows it.
func IncidentOf(ctx context.Context, st *store.Store, t Target) (string, error) {
	incs, err := st.Incidents(ctx, store.IncidentFilter{Pipeline: t.Pipeline})
	if err != nil {
		return "", err
	}
	own := sekisho.IncidentCause{Kind: sekisho.CauseRun, Pipeline: t.Pipeline, Date: sekisho.KeyDate(t.Key), RunKey: t.Key}.Key()
	best, rank := own, 0
	for _, inc := range incs {
		m, ok := inc.Member(t.Pipeline, t.Key)
		if !ok {
			continue
		}
		// An open incident before a resolved one; affected before cause:
		// the incident that holds the run back is what its people work on.
		r := 1
		if m.Role == sekisho.RoleAffected {
			r = 2
		}
		if inc.Open() {
			r += 2
		}
		if r > rank {
			best, rank = inc.Key, r
		}
	}
	return best, nil
}

// Acknowledge records that by is on the incident by.Incident, with an ETA
// (zero: not said) and the name the board shows (@name). The button and
// POST /api/v1/incidents/{id}/ack both come here.
func Acknowledge(ctx context.Context, st *store.Store, t Target, by engine.By, name string, eta, now time.Time) error {
	detail := ""
	if !eta.IsZero() {
		detail = "eta " + eta.UTC().Format(time.RFC3339)
	}
	act, err := by.Action(store.ActionAck, t.Pipeline, t.Key, detail, now)
	if err != nil {
		return err
	}
	if name == "" {
		name = strings.TrimPrefix(by.Who, "slack:")
	}
	return st.Acknowledge(ctx, act, store.Ack{Incident: by.Incident, By: by.Who, Name: name, At: now, ETA: eta}, by.Notices)
}

// Reply is the thread reply saying who did what: it goes into the outbox
// with the action's own write, so it is sent once the action stood, and
// once only.
func Reply(kind string, t Target, by engine.By, user, name string, eta, until, now time.Time) sekisho.Notice {
	req := by.Request
	if req == "" {
		req = fmt.Sprintf("%d", now.UnixNano())
	}
	at := eta
	if kind == store.ActionSilence {
		at = until
	}
	date, _, _ := strings.Cut(t.Key, "T")
	return sekisho.Notice{Kind: sekisho.NoticeOperatorAction, Pipeline: t.Pipeline, LogicalDate: date, CreatedAt: now,
		DedupeKey: sekisho.NoticeKey(sekisho.NoticeOperatorAction, sekisho.NoticeSubject{Action: kind, Pipeline: t.Pipeline, Date: t.Key, Request: req}),
		Facts:     sekisho.NoticeFacts{Reason: kind, User: user, Mention: name, Incident: by.Incident, ExpectedAt: at, Message: by.Who}}
}

// inGroup reports whether user is in group, from a cache refreshed every
// groupTTL. A failed look-up counts as "not in it" and is logged.
func (s *Service) inGroup(ctx context.Context, group, user string) bool {
	if s.Groups == nil {
		return false
	}
	now := s.Clock.Now()
	s.mu.Lock()
	e, ok := s.groups[group]
	s.mu.Unlock()
	if !ok || now.Sub(e.at) > groupTTL {
		members, err := s.Groups.Members(ctx, group)
		if err != nil {
			s.log().Warn("slack: usergroups.users.list failed; the group counts as empty (grant usergroups:read)", "group", group, "error", err.Error())
			return false
		}
		e = groupEntry{members: members, at: now}
		s.mu.Lock()
		if s.groups == nil {
			s.groups = map[string]groupEntry{}
		}
		s.groups[group] = e
		s.mu.Unlock()
	}
	for _, m := range e.members {
		if m == user {
			return true
		}
	}
	return false
}

// respond posts an ephemeral answer to the click's response_url.
func (s *Service) respond(ctx context.Context, url, text string) error {
	hc := s.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	return slack.PostWebhookCustomHTTPContext(ctx, url, hc, &slack.WebhookMessage{ResponseType: slack.ResponseTypeEphemeral,
		Text: text, ReplaceOriginal: false})
}

// refusals are the ephemeral answers in one language.
type refusals struct{ notAllowed, unknown, rejected, invalid, failed string }

var refusalsJa = refusals{
	notAllowed: "この操作は許可されていません: %s を操作できるのは slack.operators とパイプラインの owners の人だけです。何も変更していません。",
	unknown:    "パイプライン %s は今の設定にありません。何も変更していません。",
	rejected:   "実行できませんでした: %s",
	invalid:    "このボタンは読み取れませんでした（古いメッセージかもしれません）。何も変更していません。",
	failed:     "sekisho 側のエラーで実行できませんでした。少し待ってからもう一度押してください。",
}

var refusalsEn = refusals{
	notAllowed: "Not allowed: only slack.operators and the pipeline's owners may act on %s. Nothing changed.",
	unknown:    "Pipeline %s is not in the current config. Nothing changed.",
	rejected:   "Could not do that: %s",
	invalid:    "This button could not be read (an old message?). Nothing changed.",
	failed:     "sekisho failed to do that; try again in a moment.",
}

func refusalsFor(lang string) *refusals {
	if lang == "en" {
		return &refusalsEn
	}
	return &refusalsJa
}

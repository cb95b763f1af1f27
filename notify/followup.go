package notify

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/marks"
	"github.com/sekisho-dev/sekisho/slackact"
	"github.com/sekisho-dev/sekisho/store"
)

// Operator actions and incident follow-ups (SPEC §20): the thread reply
// saying who acknowledged, reran, skipped or silenced what; the escalation
// of an incident nobody took; the reply when an acknowledged incident's ETA
// passes. They reply in the incident's thread (else the run's), and the
// root is rewritten to show who is on it, with the buttons while it is
// open.

// AcknowledgedPrefix starts the stored text of a follow-up that no longer
// needs saying when its time came: an escalation after somebody
// acknowledged, a passed ETA after the incident resolved or got a new ETA.
const AcknowledgedPrefix = "(no longer needed: "

// followWords are the follow-ups' words in one language.
type followWords struct {
	ack, ackNoETA, rerun, skip, silence string // %[1]s who, %[2]s ETA/until or pipeline, %[3]s key
	escalation, etaPassed               string
	misses, slo, sla, onIt, history     string
	runbook                             string
	pipelines                           string
}

var followJa = followWords{
	ack:        marks.Ack.Emoji + " %[1]s が対応中です — 復旧見込み %[2]s",
	ackNoETA:   marks.Ack.Emoji + " %[1]s が対応中です（復旧見込みは未定）",
	rerun:      marks.Rerun.Emoji + " %[1]s が %[2]s（%[3]s）を再実行しました",
	skip:       marks.Of(sekisho.StateSkipped, false).Emoji + " %[1]s が %[2]s（%[3]s）をスキップしました",
	silence:    marks.Silence.Emoji + " %[1]s が %[3]s の通知を %[2]s まで止めました",
	escalation: marks.Escalation.Emoji + " %[1]s 発生から %[2]s たっても、まだ誰も対応中になっていません: %[3]s。対応できる方は「対応中」から復旧見込みを入れてください。",
	etaPassed:  marks.Overdue.Emoji + " 復旧見込み %[1]s を過ぎましたが、まだ解消していません（担当 %[2]s）。新しい見込みを「対応中」から入れてください。",
	misses:     marks.Warning.Emoji + " この見込みでは間に合いません: %s",
	slo:        "%s の SLO 期限 %s",
	sla:        "%s の復旧期限（SLA）%s",
	onIt:       "対応状況",
	history:    "操作の記録",
	runbook:    "手順書",
	pipelines:  "、",
}

var followEn = followWords{
	ack:        marks.Ack.Emoji + " %[1]s is on it — expected back by %[2]s",
	ackNoETA:   marks.Ack.Emoji + " %[1]s is on it (no ETA yet)",
	rerun:      marks.Rerun.Emoji + " %[1]s reran %[2]s (%[3]s)",
	skip:       marks.Of(sekisho.StateSkipped, false).Emoji + " %[1]s skipped %[2]s (%[3]s)",
	silence:    marks.Silence.Emoji + " %[1]s silenced the notices of %[3]s until %[2]s",
	escalation: marks.Escalation.Emoji + " %[1]s Nobody has taken this incident %[2]s after it opened: %[3]s. If you can, pick an ETA under \"Acknowledge\".",
	etaPassed:  marks.Overdue.Emoji + " The ETA %[1]s has passed and the incident is not over (%[2]s is on it). Please give a new ETA under \"Acknowledge\".",
	misses:     marks.Warning.Emoji + " At this ETA these targets will be missed: %s",
	slo:        "%s's SLO deadline %s",
	sla:        "%s's recovery deadline (SLA) %s",
	onIt:       "Who is on it",
	history:    "Actions",
	runbook:    "Runbook",
	pipelines:  ", ",
}

func followWordsFor(lang string) *followWords { return inLang(lang, &followEn, &followJa) }

// who names the actor: a Slack mention, or the name the API was given.
func who(f sekisho.NoticeFacts) string {
	if f.User != "" {
		return "<@" + f.User + ">"
	}
	if f.Mention != "" {
		return "@" + esc(f.Mention)
	}
	return "sekisho"
}

func clockOf(t time.Time, loc *time.Location, now time.Time) string {
	if t.IsZero() {
		return "-"
	}
	if sekisho.DateOf(t, loc) == sekisho.DateOf(now, loc) {
		return t.In(loc).Format("15:04")
	}
	return t.In(loc).Format("01-02 15:04")
}

// followCtx is what a follow-up's words and the root's lines are made of.
type followCtx struct {
	inc    *sekisho.Incident // nil: the run is in no incident
	ack    *store.Ack
	misses []slackact.Deadline
	acts   []store.Action
}

// followFacts reads what the incident key names: the incident, its
// acknowledgement, the targets its ETA misses and its history.
func (s *Sender) followFacts(ctx context.Context, key string) (followCtx, error) {
	var fc followCtx
	if key == "" {
		return fc, nil
	}
	inc, err := s.st.Incident(ctx, key)
	switch {
	case err == nil:
		fc.inc = &inc
	case !errors.Is(err, sekisho.ErrNotFound):
		return fc, err
	}
	acks, err := s.st.Acks(ctx, key)
	if err != nil {
		return fc, err
	}
	if a, ok := acks[key]; ok {
		fc.ack = &a
		if fc.inc != nil && !a.ETA.IsZero() {
			ds, err := s.deadlines(ctx, *fc.inc)
			if err != nil {
				return fc, err
			}
			fc.misses = slackact.Misses(a.ETA, ds)
		}
	}
	fc.acts, err = s.st.Actions(ctx, store.ActionFilter{Incident: key})
	return fc, err
}

// deadlines are the SLO deadlines and recover_by times of an incident's
// members that are not done yet, as their runs carry them.
func (s *Sender) deadlines(ctx context.Context, inc sekisho.Incident) ([]slackact.Deadline, error) {
	var out []slackact.Deadline
	for _, m := range inc.Members {
		if m.Done() {
			continue
		}
		r, err := s.st.Run(ctx, m.Pipeline, m.Date)
		if errors.Is(err, sekisho.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if !r.Deadline.IsZero() {
			out = append(out, slackact.Deadline{Pipeline: m.Pipeline, Key: m.Date, What: "slo", At: r.Deadline})
		}
		if !r.RecoverBy.IsZero() {
			out = append(out, slackact.Deadline{Pipeline: m.Pipeline, Key: m.Date, What: "sla", At: r.RecoverBy})
		}
	}
	return out, nil
}

// missLine says which targets an ETA misses, or "".
func missLine(w *followWords, ms []slackact.Deadline, loc *time.Location, now time.Time) string {
	if len(ms) == 0 {
		return ""
	}
	var parts []string
	for _, m := range ms {
		f := w.slo
		if m.What == "sla" {
			f = w.sla
		}
		parts = append(parts, fmt.Sprintf(f, esc(m.Pipeline), clockOf(m.At, loc, now)))
	}
	return fmt.Sprintf(w.misses, strings.Join(parts, w.pipelines))
}

// ackText is the acknowledgement's line.
func ackText(w *followWords, a store.Ack, loc *time.Location, now time.Time) string {
	name := who(sekisho.NoticeFacts{User: strings.TrimPrefix(a.By, "slack:"), Mention: a.Name})
	if !strings.HasPrefix(a.By, "slack:") {
		name = "@" + esc(a.Name)
	}
	if a.ETA.IsZero() {
		return fmt.Sprintf(w.ackNoETA, name)
	}
	return fmt.Sprintf(w.ack, name, clockOf(a.ETA, loc, now))
}

// RenderFollowUp turns an operator action, an escalation or a passed ETA
// into words.
func RenderFollowUp(lang string, n sekisho.Notice, fc followCtx, cfg *config.Config, loc *time.Location, now time.Time) Message {
	w := followWordsFor(lang)
	f := n.Facts
	msg := Message{Marker: marker(n.DedupeKey)}
	switch n.Kind {
	case sekisho.NoticeOperatorAction:
		key := n.Key
		if f.Incident != "" {
			if _, k, ok := strings.Cut(f.Incident, "#"); ok && strings.HasPrefix(f.Incident, sekisho.CauseRun+":") {
				key = k
			}
		}
		switch f.Reason {
		case store.ActionAck:
			msg.Headline = ackText(w, store.Ack{By: f.Message, Name: f.Mention, ETA: f.ExpectedAt}, loc, now)
			if fc.ack != nil && fc.ack.ETA.Equal(f.ExpectedAt) {
				if l := missLine(w, fc.misses, loc, now); l != "" {
					msg.Details = append(msg.Details, l)
				}
			}
		case store.ActionRerun:
			msg.Headline = fmt.Sprintf(w.rerun, who(f), esc(n.Pipeline), key)
		case store.ActionSkip:
			msg.Headline = fmt.Sprintf(w.skip, who(f), esc(n.Pipeline), key)
		case store.ActionSilence:
			names := []string{esc(n.Pipeline)}
			if fc.inc != nil {
				names = nil
				for _, m := range fc.inc.Members {
					if !slices.Contains(names, esc(m.Pipeline)) {
						names = append(names, esc(m.Pipeline))
					}
				}
			}
			msg.Headline = fmt.Sprintf(w.silence, who(f), clockOf(f.ExpectedAt, loc, now), strings.Join(names, w.pipelines))
		}
	case sekisho.NoticeEscalation:
		subject := f.Incident
		if fc.inc != nil {
			subject = incidentView{inc: *fc.inc, cfg: cfg}.subject(incidentWordsFor(lang))
		}
		msg.Headline = fmt.Sprintf(w.escalation, f.Mention, f.Duration, subject)
	case sekisho.NoticeETAPassed:
		name := "@" + esc(f.Mention)
		if f.User != "" {
			name = "<@" + f.User + ">"
		}
		msg.Headline = fmt.Sprintf(w.etaPassed, clockOf(f.ExpectedAt, loc, now), name)
	}
	return msg
}

// deliverFollowUp sends an operator action's reply, an escalation or a
// passed ETA, or finishes it unsent when it no longer needs saying.
func (s *Sender) deliverFollowUp(ctx context.Context, snap snapshot, n sekisho.Notice, now time.Time) (outcome, error) {
	cfg := snap.cfg
	attrs := []any{logNotice, n.ID, logKind, string(n.Kind), logPipeline, n.Pipeline, "incident", n.Facts.Incident}
	fc, err := s.followFacts(ctx, n.Facts.Incident)
	if err != nil {
		return outcome{}, err
	}
	switch n.Kind {
	case sekisho.NoticeEscalation:
		if fc.ack != nil || (fc.inc != nil && !fc.inc.Open()) {
			return s.finishIncident(ctx, n, now, AcknowledgedPrefix+"acknowledged or resolved in time) ", "acknowledged", attrs)
		}
	case sekisho.NoticeETAPassed:
		if fc.ack == nil || !fc.ack.ETA.Equal(n.Facts.ExpectedAt) || (fc.inc != nil && !fc.inc.Open()) {
			return s.finishIncident(ctx, n, now, AcknowledgedPrefix+"resolved, or a new ETA) ", "acknowledged", attrs)
		}
	}
	loc := cfg.Location
	p := s.pipelineOf(ctx, cfg, n)
	if p != nil {
		loc = p.Location
	}
	msg := RenderFollowUp(cfg.Slack.Language, n, fc, cfg, loc, now)
	text := msg.Text()
	if !cfg.Slack.Enabled() {
		s.log.Info("notice (slack not configured)", append(attrs, logText, text)...)
		return s.finishIncident(ctx, n, now, "", "logged", attrs, text)
	}
	return s.attempt(ctx, snap, n, now, text, attrs, func(ctx context.Context) error {
		if snap.client == nil {
			return s.postWebhook(ctx, snap, msg)
		}
		return s.postFollowUpBot(ctx, snap, n, p, fc, msg)
	})
}

// postFollowUpBot replies in the incident's thread, else the run's, else
// posts in the channel; then rewrites the thread's root.
func (s *Sender) postFollowUpBot(ctx context.Context, snap snapshot, n sekisho.Notice, p *config.Pipeline, fc followCtx, msg Message) error {
	key := n.Facts.Incident
	if key != "" {
		ch, ts, ok, err := s.st.IncidentThread(ctx, key)
		if err != nil {
			return err
		}
		if ok && fc.inc != nil {
			v := s.incidentViewOf(ctx, snap, *fc.inc)
			return s.postThreaded(ctx, snap, n, msg, ch, thread{
				load:    func(context.Context) (string, string, bool, error) { return ch, ts, true, nil },
				refresh: func(ctx context.Context, ch, ts string) { s.updateIncidentRoot(ctx, snap, v, ch, ts) },
			})
		}
	}
	if n.RunID != 0 {
		if ch, ts, ok, err := s.st.Thread(ctx, n.RunID); err != nil {
			return err
		} else if ok {
			return s.postThreaded(ctx, snap, n, msg, ch, thread{
				load:    func(context.Context) (string, string, bool, error) { return ch, ts, true, nil },
				refresh: func(ctx context.Context, ch, ts string) { s.updateRoot(ctx, snap, n.RunID, p, ch, ts) },
			})
		}
	}
	channel := snap.cfg.Slack.Channel
	if p != nil && p.Notify.Channel != "" {
		channel = p.Notify.Channel
	}
	return s.postThreaded(ctx, snap, n, msg, channel, thread{load: func(context.Context) (string, string, bool, error) { return "", "", false, nil }})
}

// incidentViewOf is an incident as its messages show it now.
func (s *Sender) incidentViewOf(ctx context.Context, snap snapshot, inc sekisho.Incident) incidentView {
	sil, err := s.st.SilencesEndingAfter(ctx, s.clock.Now())
	if err != nil {
		s.log.Warn("read silences for an incident's root", logError, err.Error())
	}
	sil = append(sil, slackact.MaintenanceSilences(snap.cfg, s.clock.Now(), s.clock.Now().Add(time.Second))...)
	visible, _ := visibleMembers(inc, snap.cfg, sil, s.clock.Now())
	return incidentView{inc: inc, visible: visible, cfg: snap.cfg}
}

// decorate adds to a thread's root what SPEC §20 wants on it: who is on it
// (with the targets the ETA misses), what operators did, and the buttons
// while the trouble lasts (bot mode with interactivity on).
func (s *Sender) decorate(ctx context.Context, snap snapshot, msg *Message, incKey string, t slackact.Target, state sekisho.State, open bool) {
	cfg := snap.cfg
	w := followWordsFor(cfg.Slack.Language)
	loc := cfg.Location
	if p := cfg.Pipeline(t.Pipeline); p != nil {
		loc = p.Location
	}
	now := s.clock.Now()
	fc, err := s.followFacts(ctx, incKey)
	if err != nil {
		s.log.Warn("read an incident's acknowledgement for its root", logError, err.Error())
	}
	if fc.ack != nil {
		line := "*" + w.onIt + "*: " + ackText(w, *fc.ack, loc, now)
		if l := missLine(w, fc.misses, loc, now); l != "" {
			line += "\n" + l
		}
		msg.Details = append(msg.Details, line)
	}
	if len(fc.acts) > 0 {
		var lines []string
		start := max(0, len(fc.acts)-5)
		for _, a := range fc.acts[start:] {
			by := a.By
			if u, ok := strings.CutPrefix(a.By, "slack:"); ok {
				by = "<@" + u + ">"
			}
			line := clockOf(a.At, loc, now) + " " + by + " " + a.Kind + " " + esc(a.Pipeline)
			if a.Detail != "" {
				line += " (" + esc(a.Detail) + ")"
			}
			lines = append(lines, "• "+line)
		}
		msg.Details = append(msg.Details, "*"+w.history+"*:\n"+strings.Join(lines, "\n"))
	}
	if open && snap.client != nil && cfg.Slack.Interactivity != config.InteractivityOff && cfg.Slack.Interactivity != "" {
		msg.Actions = slackact.Buttons(cfg.Slack.Language, t, state)
	}
}

// runbookLine links a pipeline's runbook.
func runbookLine(lang, url string) string {
	return "*" + followWordsFor(lang).runbook + "*: <" + url + ">"
}

// decorateIncident decorates an incident's root.
func (s *Sender) decorateIncident(ctx context.Context, snap snapshot, msg *Message, v incidentView) {
	t, state := slackact.TargetOf(v.inc)
	s.decorate(ctx, snap, msg, v.inc.Key, t, state, v.inc.Open())
}

// decorateRun decorates a run's thread root or failure notice.
func (s *Sender) decorateRun(ctx context.Context, snap snapshot, msg *Message, r sekisho.Run) {
	t := slackact.Target{Pipeline: r.Pipeline, Key: r.Key}
	key, err := slackact.IncidentOf(ctx, s.st, t)
	if err != nil {
		s.log.Warn("find a run's incident for its root", logError, err.Error())
	}
	s.decorate(ctx, snap, msg, key, t, r.State, r.State != sekisho.StateSucceeded && r.State != sekisho.StateSkipped)
}

// runbookLines link the runbooks of an incident's visible members, once
// each.
func runbookLines(lang string, v incidentView) []string {
	var seen []string
	var out []string
	for _, m := range v.visible {
		if p := v.cfg.Pipeline(m.Pipeline); p != nil && p.Runbook != "" && !slices.Contains(seen, p.Runbook) {
			seen = append(seen, p.Runbook)
			out = append(out, runbookLine(lang, p.Runbook))
		}
	}
	return out
}

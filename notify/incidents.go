package notify

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/slack-go/slack"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/incident"
	"github.com/sekisho-dev/sekisho/store"
)

// Incident messages (SPEC §17). An incident notice carries no run: its
// incident key (Facts.Incident) orders it behind the earlier notices of the
// same incident only. Its words come from the incident as stored when it
// is sent.
//
// Bot mode: the first message the readers see opens the incident's thread;
// every later one is a reply, and the root is rewritten to the incident's
// state (cause, every affected pipeline with its state and impacts).
//
// Webhook mode: the opening message waits slack.group_wait after the first
// pipeline joined, so the pipelines affected by then are in it; a joined
// message waits until group_wait after the incident's last message and
// names every pipeline that joined since; the messages of recoveries are
// not posted (the resolution speaks for them); the resolution is posted at
// once. A notice whose content an earlier message already carried is
// marked sent with GroupedPrefix.

// GroupedPrefix starts the stored text of a notice an incident speaks for:
// an affected pipeline's own upstream_failed, delay, timed_out or recovery,
// or (webhook mode) an incident notice another message carried. It is
// marked sent without being posted; the board still shows what it said.
const GroupedPrefix = "(grouped: "

// incidentPass is what one pass knows of the incident notices it holds.
type incidentPass struct {
	pending   []sekisho.Notice
	held      map[string]time.Time // an earlier notice of the incident waits until then: later ones wait too
	done      map[int64]bool       // carried by a message sent in this pass
	resolving map[string]bool      // the incident's resolution is in the batch
}

func newIncidentPass(pending []sekisho.Notice) *incidentPass {
	ip := &incidentPass{pending: pending, held: map[string]time.Time{}, done: map[int64]bool{}, resolving: map[string]bool{}}
	for _, n := range pending {
		if n.Kind == sekisho.NoticeIncidentResolved {
			ip.resolving[n.Facts.Incident] = true
		}
	}
	return ip
}

// carried returns the pending updates of the incident that a message
// posted now carries: those written up to now, after n.
func (ip *incidentPass) carried(n sekisho.Notice, now time.Time) []sekisho.Notice {
	var out []sekisho.Notice
	for _, o := range ip.pending {
		if o.ID > n.ID && o.Kind == sekisho.NoticeIncidentUpdated && o.Facts.Incident == n.Facts.Incident &&
			!ip.done[o.ID] && !o.CreatedAt.After(now) {
			out = append(out, o)
		}
	}
	return out
}

// deliverIncident sends one incident notice, or holds it (an outcome with
// only retryAt set), or marks it carried, silenced or filtered.
func (s *Sender) deliverIncident(ctx context.Context, snap snapshot, n sekisho.Notice, now time.Time, sil store.Silences,
	ip *incidentPass) (outcome, error) {
	key := n.Facts.Incident
	// A held notice records when it is next due, so the outbox tells what
	// is waiting on purpose (group_wait) from what is waiting for Slack.
	record := func(until time.Time) error {
		if until.After(n.NextTryAt) {
			return s.st.HoldNotice(ctx, n.ID, until)
		}
		return nil
	}
	if ip.done[n.ID] {
		return outcome{}, nil
	}
	if until, ok := ip.held[key]; ok {
		return outcome{}, record(until)
	}
	hold := func(until time.Time) (outcome, error) {
		ip.held[key] = until
		return outcome{retryAt: until}, record(until)
	}
	if n.NextTryAt.After(now) {
		return hold(n.NextTryAt)
	}
	cfg := snap.cfg
	attrs := []any{logNotice, n.ID, logKind, string(n.Kind), "incident", key}
	inc, err := s.st.Incident(ctx, key)
	if errors.Is(err, sekisho.ErrNotFound) {
		// Cannot happen through the store (the notice is written with its
		// incident); a hand-edited database must not jam the outbox.
		s.log.Warn("incident notice without its incident", attrs...)
		_, err := s.st.FinishNotice(ctx, n.ID, now, "(no incident "+key+")")
		return outcome{ok: err == nil}, err
	}
	if err != nil {
		return outcome{}, err
	}
	visible, silenced := visibleMembers(inc, cfg, sil, n.CreatedAt)
	v := incidentView{inc: inc, visible: visible, cfg: cfg}
	recovered := n.Facts.Reason == incident.ReasonRecovered
	webhook := snap.client == nil && cfg.Slack.Enabled()
	var carried []sekisho.Notice
	if webhook {
		switch {
		case n.Kind == sekisho.NoticeIncidentOpened:
			if until := n.CreatedAt.Add(cfg.Slack.GroupWait); now.Before(until) {
				return hold(until)
			}
		case n.Kind == sekisho.NoticeIncidentUpdated && (recovered || ip.resolving[key]):
			return s.finishIncident(ctx, n, now, GroupedPrefix+"the resolution speaks for it) ", "grouped", attrs)
		case n.Kind == sekisho.NoticeIncidentUpdated:
			last, err := s.st.IncidentNotified(ctx, key)
			if err != nil {
				return outcome{}, err
			}
			if until := last.Add(cfg.Slack.GroupWait); !last.IsZero() && now.Before(until) {
				return hold(until)
			}
		}
		carried = ip.carried(n, now)
	}
	joined := []string{}
	for _, o := range append([]sekisho.Notice{n}, carried...) {
		if o.Facts.Reason == incident.ReasonJoined && isVisible(v, o.Facts.Upstream) {
			joined = append(joined, o.Facts.Upstream)
		}
	}
	if !worthSaying(n, v, joined) {
		if silenced {
			return s.finishIncident(ctx, n, now, SilencedPrefix+"every pipeline it names is silenced) ", "silenced", attrs)
		}
		return s.finishIncident(ctx, n, now, FilteredPrefix, "filtered", attrs)
	}
	msg := RenderIncident(cfg.Slack.Language, n, v, joined, cfg.Server.PublicURL, cfg.Location)
	text := msg.Text()
	if !cfg.Slack.Enabled() {
		s.log.Info("notice (slack not configured)", append(attrs, logText, text)...)
		return s.finishIncident(ctx, n, now, "", "logged", attrs, text)
	}
	out, err := s.attempt(ctx, snap, n, now, text, attrs, func(ctx context.Context) error {
		if webhook {
			return s.postWebhook(ctx, snap, msg)
		}
		return s.postIncidentBot(ctx, snap, n, v, msg)
	})
	if err != nil || !out.ok {
		ip.held[key] = out.retryAt
		return out, err
	}
	if err := s.st.MarkIncidentNotified(ctx, key, s.clock.Now()); err != nil {
		return out, err
	}
	for _, o := range carried {
		ip.done[o.ID] = true
		if _, err := s.finishIncident(ctx, o, now, fmt.Sprintf("%scarried by notice %d) ", GroupedPrefix, n.ID), "grouped", attrs); err != nil {
			return out, err
		}
	}
	return out, nil
}

// worthSaying reports whether a message has something for its readers: an
// opening or a resolution names a visible affected pipeline, a joined
// message a visible pipeline that joined, a recovery a visible pipeline.
func worthSaying(n sekisho.Notice, v incidentView, joined []string) bool {
	switch {
	case n.Kind == sekisho.NoticeIncidentUpdated && n.Facts.Reason == incident.ReasonRecovered:
		return isVisible(v, n.Facts.Upstream)
	case n.Kind == sekisho.NoticeIncidentUpdated:
		return len(joined) > 0
	}
	return len(v.affected()) > 0
}

func isVisible(v incidentView, pipeline string) bool {
	for _, m := range v.visible {
		if m.Pipeline == pipeline {
			return true
		}
	}
	return false
}

// finishIncident marks an incident notice done without posting it; text
// (default: prefix alone) is what the board shows.
func (s *Sender) finishIncident(ctx context.Context, n sekisho.Notice, now time.Time, prefix, outcomeName string, attrs []any, text ...string) (outcome, error) {
	body := prefix
	if len(text) > 0 {
		body += text[0]
	}
	if _, err := s.st.FinishNotice(ctx, n.ID, now, body); err != nil {
		return outcome{}, err
	}
	s.log.Debug("incident notice "+outcomeName, attrs...)
	s.count(n, outcomeName)
	return outcome{ok: true}, nil
}

// postIncidentBot posts an incident message with the bot token: the first
// one opens the incident's thread, later ones reply and rewrite the root.
func (s *Sender) postIncidentBot(ctx context.Context, snap snapshot, n sekisho.Notice, v incidentView, msg Message) error {
	key := v.inc.Key
	if n.Kind == sekisho.NoticeIncidentOpened {
		s.decorateIncident(ctx, snap, &msg, v)
	}
	return s.postThreaded(ctx, snap, n, msg, incidentChannel(snap, v), thread{
		load: func(ctx context.Context) (string, string, bool, error) { return s.st.IncidentThread(ctx, key) },
		save: func(ctx context.Context, ch, ts string) error {
			return s.st.SaveIncidentThread(ctx, key, ch, ts, s.clock.Now())
		},
		refresh: func(ctx context.Context, ch, ts string) { s.updateIncidentRoot(ctx, snap, v, ch, ts) },
	})
}

// incidentChannel is where an incident's thread goes: the notify.channel
// of its first visible member that sets one, else slack.channel.
func incidentChannel(snap snapshot, v incidentView) string {
	for _, m := range v.visible {
		if p := snap.cfg.Pipeline(m.Pipeline); p != nil && p.Notify.Channel != "" {
			return p.Notify.Channel
		}
	}
	return snap.cfg.Slack.Channel
}

// updateIncidentRoot rewrites the thread's root with the incident as the
// message just sent saw it. Best effort, like updateRoot: the reply is out, and the next one
// rewrites the root again.
func (s *Sender) updateIncidentRoot(ctx context.Context, snap snapshot, v incidentView, channel, ts string) {
	inc := v.inc
	kind := sekisho.NoticeIncidentOpened
	if !inc.Open() {
		kind = sekisho.NoticeIncidentResolved
	}
	root := sekisho.Notice{Kind: kind, DedupeKey: "incident_opened:" + inc.Key, Facts: sekisho.NoticeFacts{Incident: inc.Key}}
	msg := RenderIncident(snap.cfg.Slack.Language, root, v, nil, snap.cfg.Server.PublicURL, snap.cfg.Location)
	s.decorateIncident(ctx, snap, &msg, v)
	_, _, _, err := snap.client.UpdateMessageContext(ctx, channel, ts,
		slack.MsgOptionText(msg.Text(), false), slack.MsgOptionBlocks(msg.Blocks()...))
	if err != nil {
		s.log.Warn("slack chat.update of an incident's root failed", "incident", inc.Key, logError, snap.red.text(err))
	}
}

// grouped reports the incident that speaks for a run's own notice: an
// affected pipeline's upstream_failed, delay and timed_out are said by its
// incident's messages, and so is its recovery unless it is also the cause
// of an incident (then it sent alerts of its own). Notices about its own
// downstream (run_failed, trigger_failed, long_running, at_risk) are its
// own.
func (s *Sender) grouped(ctx context.Context, n sekisho.Notice) (string, error) {
	switch n.Kind {
	case sekisho.NoticeUpstreamFailed, sekisho.NoticeDelay, sekisho.NoticeTimedOut, sekisho.NoticeRecovery:
	default:
		return "", nil
	}
	if n.Pipeline == "" || n.LogicalDate == "" {
		return "", nil
	}
	key, cause, err := s.st.IncidentRoles(ctx, n.Pipeline, n.LogicalDate)
	if err != nil || key == "" || (n.Kind == sekisho.NoticeRecovery && cause) {
		return "", err
	}
	return key, nil
}

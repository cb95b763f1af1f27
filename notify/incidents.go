package notify

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/slack-go/slack"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/config"
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
// only retryAt set), or marks it carried, silenced or filtered. It only
// waits, renders and delivers: what the incident is and which messages it
// queued were decided when they were written (incident.Decide).
func (s *Sender) deliverIncident(ctx context.Context, snap snapshot, n sekisho.Notice, now time.Time, sil store.Silences,
	ip *incidentPass) (outcome, error) {
	key := n.Facts.Incident
	switch until, held := ip.held[key]; {
	case ip.done[n.ID]:
		return outcome{}, nil
	case held:
		return outcome{}, s.recordHold(ctx, n, until)
	case n.NextTryAt.After(now):
		return s.hold(ctx, ip, n, n.NextTryAt)
	}
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
	var carried []sekisho.Notice
	if webhook := snap.client == nil && snap.cfg.Slack.Enabled(); webhook {
		until, grouped, err := s.groupWait(ctx, snap.cfg, n, ip, now)
		switch {
		case err != nil:
			return outcome{}, err
		case grouped:
			return s.finishIncident(ctx, n, now, GroupedPrefix+"the resolution speaks for it) ", "grouped", attrs)
		case now.Before(until):
			return s.hold(ctx, ip, n, until)
		}
		carried = ip.carried(n, now)
	}
	return s.sayIncident(ctx, snap, n, inc, carried, sil, ip, now, attrs)
}

// hold keeps an incident notice, and every later one of its incident in
// this pass, until until.
func (s *Sender) hold(ctx context.Context, ip *incidentPass, n sekisho.Notice, until time.Time) (outcome, error) {
	ip.held[n.Facts.Incident] = until
	return outcome{retryAt: until}, s.recordHold(ctx, n, until)
}

// recordHold records when a held notice is next due, so the outbox tells
// what is waiting on purpose (group_wait) from what is waiting for Slack.
func (s *Sender) recordHold(ctx context.Context, n sekisho.Notice, until time.Time) error {
	if until.After(n.NextTryAt) {
		return s.st.HoldNotice(ctx, n.ID, until)
	}
	return nil
}

// groupWait is webhook mode's slack.group_wait, which holds messages so
// that one carries what several would say: the opening message waits
// group_wait after it was written, a joined message until group_wait after
// the incident's last message; a recovery, or any update whose resolution
// is in the batch, is grouped (the resolution speaks for it).
func (s *Sender) groupWait(ctx context.Context, cfg *config.Config, n sekisho.Notice, ip *incidentPass, now time.Time) (time.Time, bool, error) {
	key := n.Facts.Incident
	switch {
	case n.Kind == sekisho.NoticeIncidentOpened:
		return n.CreatedAt.Add(cfg.Slack.GroupWait), false, nil
	case n.Kind != sekisho.NoticeIncidentUpdated:
		return time.Time{}, false, nil
	case n.Facts.Reason == sekisho.IncidentRecovered || ip.resolving[key]:
		return time.Time{}, true, nil
	}
	last, err := s.st.IncidentNotified(ctx, key)
	if err != nil || last.IsZero() {
		return time.Time{}, false, err
	}
	return last.Add(cfg.Slack.GroupWait), false, nil
}

// sayIncident renders an incident message with what it carries and posts
// it, or marks it filtered or silenced when it names nobody its readers
// see.
func (s *Sender) sayIncident(ctx context.Context, snap snapshot, n sekisho.Notice, inc sekisho.Incident, carried []sekisho.Notice,
	sil store.Silences, ip *incidentPass, now time.Time, attrs []any) (outcome, error) {
	cfg := snap.cfg
	visible, silenced := visibleMembers(inc, cfg, sil, n.CreatedAt)
	v := incidentView{inc: inc, visible: visible, cfg: cfg}
	joined := []sekisho.IncidentMember{}
	for _, o := range append([]sekisho.Notice{n}, carried...) {
		if o.Facts.Reason == sekisho.IncidentJoined && isVisible(v, o.Facts.Upstream) {
			joined = append(joined, memberOf(o))
		}
	}
	if !worthSaying(n, v, joined) {
		if silenced {
			return s.finishIncident(ctx, n, now, SilencedPrefix+"every pipeline it names is silenced) ", "silenced", attrs)
		}
		return s.finishIncident(ctx, n, now, FilteredPrefix, "filtered", attrs)
	}
	msg := RenderIncident(cfg.Slack.Language, n, v, joined, cfg.Server.PublicURL, cfg.Location)
	if !cfg.Slack.Enabled() {
		s.log.Info("notice (slack not configured)", append(attrs, logText, msg.Text())...)
		return s.finishIncident(ctx, n, now, "", "logged", attrs, msg.Text())
	}
	out, err := s.attempt(ctx, snap, n, now, msg.Text(), attrs, func(ctx context.Context) error {
		if snap.client == nil {
			return s.postWebhook(ctx, snap, msg)
		}
		return s.postIncidentBot(ctx, snap, n, v, msg)
	})
	if err != nil || !out.ok {
		ip.held[inc.Key] = out.retryAt
		return out, err
	}
	if err := s.st.MarkIncidentNotified(ctx, inc.Key, s.clock.Now()); err != nil {
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
func worthSaying(n sekisho.Notice, v incidentView, joined []sekisho.IncidentMember) bool {
	switch {
	case n.Kind == sekisho.NoticeIncidentUpdated && n.Facts.Reason == sekisho.IncidentRecovered:
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
	// The root carries the opening message's marker, whichever message
	// rewrites it.
	root := sekisho.Notice{Kind: kind, Facts: sekisho.NoticeFacts{Incident: inc.Key},
		DedupeKey: sekisho.NoticeKey(sekisho.NoticeIncidentOpened, sekisho.NoticeSubject{Incident: inc.Key})}
	msg := RenderIncident(snap.cfg.Slack.Language, root, v, nil, snap.cfg.Server.PublicURL, snap.cfg.Location)
	s.decorateIncident(ctx, snap, &msg, v)
	_, _, _, err := snap.client.UpdateMessageContext(ctx, channel, ts,
		slack.MsgOptionText(msg.Text(), false), slack.MsgOptionBlocks(msg.Blocks()...))
	if err != nil {
		s.log.Warn("slack chat.update of an incident's root failed", "incident", inc.Key, logError, snap.red.text(err))
	}
}

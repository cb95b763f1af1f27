package notify

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/slack-go/slack"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/config"
)

// metadataEvent is the event_type of the message metadata sekisho attaches;
// its payload carries the notice's dedupe key.
const metadataEvent = "sekisho_notice"

// lookupPages bounds the search for an earlier try's message.
const lookupPages = 5

// postBot posts a notice with the bot token: the first notice of a run
// opens a thread, later ones reply in it and refresh the root message.
func (s *Sender) postBot(ctx context.Context, snap snapshot, n sekisho.Notice, p *config.Pipeline, msg Message) error {
	if isQueryNotice(n.Kind) {
		return s.postQuery(ctx, snap, n, msg)
	}
	channel := snap.cfg.Slack.Channel
	if p != nil && p.Notify.Channel != "" {
		channel = p.Notify.Channel
	}
	th := thread{load: func(context.Context) (string, string, bool, error) { return "", "", false, nil }}
	if failureKinds[n.Kind] && n.RunID != 0 {
		if r, err := s.st.RunByID(ctx, n.RunID); err == nil {
			s.decorateRun(ctx, snap, &msg, r)
		}
	}
	if n.RunID != 0 {
		th = thread{
			load: func(ctx context.Context) (string, string, bool, error) { return s.st.Thread(ctx, n.RunID) },
			save: func(ctx context.Context, ch, ts string) error {
				return s.st.SaveThread(ctx, n.RunID, ch, ts, s.clock.Now())
			},
			refresh: func(ctx context.Context, ch, ts string) {
				s.updateRoot(ctx, snap, n.RunID, p, ch, ts)
			},
		}
	}
	return s.postThreaded(ctx, snap, n, msg, channel, th)
}

// thread is where a thread's root is kept: a run's (slack_threads) or an
// incident's (incident_threads).
type thread struct {
	load    func(ctx context.Context) (channel, ts string, ok bool, err error)
	save    func(ctx context.Context, channel, ts string) error // nil: the message opens no thread
	refresh func(ctx context.Context, channel, ts string)       // rewrites the root after a reply
}

// postThreaded posts a message as a reply in its thread, or, when the
// thread has no root yet, as the root in channel.
//
// Exactly once: a notice with an earlier try (tries > 0) may have reached
// Slack before the crash or the lost answer, so sekisho first looks for its
// marker (block_id and metadata) in the thread or the channel's recent
// history and only posts when it is not there.
func (s *Sender) postThreaded(ctx context.Context, snap snapshot, n sekisho.Notice, msg Message, channel string, th thread) error {
	api := snap.client
	threadCh, threadTS, haveThread, err := th.load(ctx)
	if err != nil {
		return err
	}
	if haveThread {
		if n.Tries > 0 {
			found, err := s.findInThread(ctx, api, threadCh, threadTS, n)
			if err != nil {
				return err
			}
			if found {
				return nil
			}
		}
		opts := append(msgOptions(n, msg), slack.MsgOptionTS(threadTS))
		if _, _, err := api.PostMessageContext(ctx, threadCh, opts...); err != nil {
			return fmt.Errorf("slack chat.postMessage: %w", err)
		}
		if th.refresh != nil {
			th.refresh(ctx, threadCh, threadTS)
		}
		return nil
	}
	if channel == "" {
		return slack.SlackErrorResponse{Err: "channel_not_found"}
	}
	if n.Tries > 0 {
		ch, ts, found, err := s.findInHistory(ctx, api, channel, n)
		if err != nil {
			return err
		}
		if found {
			if th.save != nil {
				return th.save(ctx, ch, ts)
			}
			return nil
		}
	}
	ch, ts, err := api.PostMessageContext(ctx, channel, msgOptions(n, msg)...)
	if err != nil {
		return fmt.Errorf("slack chat.postMessage: %w", err)
	}
	s.learnChannel(channel, ch)
	if th.save != nil {
		// If this write fails the notice is retried, finds its own
		// message in the history and saves the thread then.
		return th.save(ctx, ch, ts)
	}
	return nil
}

func msgOptions(n sekisho.Notice, msg Message) []slack.MsgOption {
	return []slack.MsgOption{
		slack.MsgOptionText(msg.Text(), false),
		slack.MsgOptionBlocks(msg.Blocks()...),
		slack.MsgOptionMetadata(slack.SlackMetadata{EventType: metadataEvent,
			EventPayload: map[string]any{"dedupe_key": n.DedupeKey}}),
	}
}

// updateRoot rewrites the thread's root message with the run's current
// state on top of the first notice. It is best effort: the reply is out,
// and the next notice of the run refreshes the root again.
func (s *Sender) updateRoot(ctx context.Context, snap snapshot, runID int64, p *config.Pipeline, channel, ts string) {
	run, err := s.st.RunByID(ctx, runID)
	if err != nil {
		s.log.Warn("slack root update: read run", logError, err.Error())
		return
	}
	notices, err := s.st.Notices(ctx, runID)
	if err != nil {
		s.log.Warn("slack root update: read notices", logError, err.Error())
		return
	}
	var root *sekisho.Notice
	for i := range notices {
		if !notices[i].SentAt.IsZero() && !NotPosted(notices[i].Text) {
			root = &notices[i]
			break
		}
	}
	if root == nil {
		return
	}
	loc := snap.cfg.Location // a pipeline gone from the config: its run's zone is unknown
	if p != nil {
		loc = p.Location
	}
	status := StatusLine(snap.cfg.Slack.Language, run, loc, s.clock.Now())
	first := Render(snap.cfg.Slack.Language, *root, p, snap.cfg.Server.PublicURL)
	if failureKinds[root.Kind] {
		s.decorateRun(ctx, snap, &first, run)
	}
	blocks := append([]slack.Block{section(status, "sekisho-status")}, first.Blocks()...)
	_, _, _, err = snap.client.UpdateMessageContext(ctx, channel, ts,
		slack.MsgOptionText(status+"\n"+first.Text(), false), slack.MsgOptionBlocks(blocks...))
	if err != nil {
		s.log.Warn("slack chat.update of the thread root failed", logPipeline, run.Pipeline,
			logDate, run.LogicalDate, logError, snap.red.text(err))
	}
}

// findInThread looks for the notice's message among the thread's replies.
func (s *Sender) findInThread(ctx context.Context, api *slack.Client, channel, ts string, n sekisho.Notice) (bool, error) {
	cursor := ""
	for range lookupPages {
		msgs, more, next, err := api.GetConversationRepliesContext(ctx, &slack.GetConversationRepliesParameters{
			ChannelID: channel, Timestamp: ts, Cursor: cursor, Limit: 200, IncludeAllMetadata: true})
		if err != nil {
			return s.lookupFailed("conversations.replies", err)
		}
		for _, m := range msgs {
			if carries(m, n) {
				return true, nil
			}
		}
		if !more || next == "" {
			return false, nil
		}
		cursor = next
	}
	return false, nil
}

// findInHistory looks for the notice's message in the channel since just
// before the notice was written.
func (s *Sender) findInHistory(ctx context.Context, api *slack.Client, channel string, n sekisho.Notice) (string, string, bool, error) {
	channel = s.channelID(channel)
	oldest := n.CreatedAt.Add(-5 * time.Minute)
	cursor := ""
	for range lookupPages {
		resp, err := api.GetConversationHistoryContext(ctx, &slack.GetConversationHistoryParameters{
			ChannelID: channel, Cursor: cursor, Limit: 200, IncludeAllMetadata: true,
			Oldest: fmt.Sprintf("%d.000000", oldest.Unix())})
		if err != nil {
			_, err := s.lookupFailed("conversations.history", err)
			return "", "", false, err
		}
		for _, m := range resp.Messages {
			if carries(m, n) {
				ch := m.Channel
				if ch == "" {
					ch = channel
				}
				return ch, m.Timestamp, true, nil
			}
		}
		if !resp.HasMore || resp.ResponseMetaData.NextCursor == "" {
			return "", "", false, nil
		}
		cursor = resp.ResponseMetaData.NextCursor
	}
	return "", "", false, nil
}

// lookupFailed decides whether a failed search blocks the post. A token
// with only chat:write cannot read history, and a channel given by name
// cannot be searched: then sekisho posts anyway (at least once) and says so.
func (s *Sender) lookupFailed(method string, err error) (bool, error) {
	var se slack.SlackErrorResponse
	if errors.As(err, &se) && (se.Err == "missing_scope" || se.Err == "channel_not_found" || se.Err == "not_in_channel") {
		s.log.Warn("cannot check slack for an earlier try; posting again may duplicate it (grant channels:history and set slack.channel to the channel id)",
			"method", method, logError, se.Err)
		return false, nil
	}
	return false, fmt.Errorf("slack %s: %w", method, err)
}

// carries reports whether a Slack message is the notice's: its marker
// block_id or its metadata names the dedupe key.
func carries(m slack.Message, n sekisho.Notice) bool {
	want := marker(n.DedupeKey)
	for _, b := range m.Blocks.BlockSet {
		if b != nil && b.ID() == want {
			return true
		}
	}
	if m.Metadata.EventType == metadataEvent {
		if k, ok := m.Metadata.EventPayload["dedupe_key"].(string); ok && k == n.DedupeKey {
			return true
		}
	}
	return false
}

func (s *Sender) learnChannel(name, id string) {
	if id == "" || name == id {
		return
	}
	s.chanMu.Lock()
	s.channelIDs[name] = id
	s.chanMu.Unlock()
}

func (s *Sender) channelID(name string) string {
	s.chanMu.Lock()
	defer s.chanMu.Unlock()
	if id, ok := s.channelIDs[name]; ok {
		return id
	}
	return name
}

package notify

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/slackact"
	"github.com/sekisho-dev/sekisho/store"
)

// SilencedPrefix starts the stored text of a notice held back by a silence
// (SPEC §17): it is marked sent without being posted, and the board and the
// API still show what it would have said and why it was not sent.
const SilencedPrefix = "(silenced: "

// silenceNote is the stored prefix naming the silence's reason and end.
func silenceNote(sil store.Silence) string {
	return fmt.Sprintf("%s%s, until %s) ", SilencedPrefix, sil.Reason, sil.End().UTC().Format(time.RFC3339))
}

// silencesFor reads the silences that may cover the pending notices: those
// that end after the oldest one was created. Whether a notice is silenced
// depends on its creation time only, so a silence ending (or expired)
// later never releases what it held back.
func (s *Sender) silencesFor(ctx context.Context, pending []sekisho.Notice) (store.Silences, error) {
	if len(pending) == 0 {
		return nil, nil
	}
	oldest := pending[0].CreatedAt
	for _, n := range pending {
		if n.CreatedAt.Before(oldest) {
			oldest = n.CreatedAt
		}
	}
	sil, err := s.st.SilencesEndingAfter(ctx, oldest)
	if err != nil {
		return nil, err
	}
	// Maintenance windows (SPEC §20) are silences from the config.
	return append(sil, slackact.MaintenanceSilences(s.snapshot().cfg, oldest, s.clock.Now().Add(time.Second))...), nil
}

// silence marks a notice of a silenced pipeline silenced instead of posting
// it, and reports whether it did.
func (s *Sender) silence(ctx context.Context, n sekisho.Notice, sil store.Silences, now time.Time, text string) (bool, error) {
	if n.Pipeline == "" {
		return false, nil
	}
	w, ok := sil.For(n.Pipeline, n.CreatedAt)
	if !ok {
		return false, nil
	}
	if _, err := s.st.FinishNotice(ctx, n.ID, now, silenceNote(w)+text); err != nil {
		return false, err
	}
	s.log.Info("notice silenced", logNotice, n.ID, logKind, string(n.Kind), logPipeline, n.Pipeline,
		logDate, n.LogicalDate, "silence", w.ID)
	s.count(n, "silenced")
	return true, nil
}

// NotPosted reports whether a delivered notice's stored text says it was
// not posted: filtered by notify.on, silenced, grouped into an incident's
// messages, or refused by Slack for good.
func NotPosted(text string) bool {
	return strings.HasPrefix(text, FilteredPrefix) || strings.HasPrefix(text, SilencedPrefix) ||
		strings.HasPrefix(text, GroupedPrefix) || strings.HasPrefix(text, RefusedPrefix)
}

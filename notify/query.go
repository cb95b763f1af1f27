package notify

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/marks"
)

// queryWords are the words of the long-query notices (SPEC §15), in one
// language. They stay out of the pipeline catalog: a query belongs to a
// watch and a warehouse, not to a pipeline and a date.
type queryWords struct {
	headline, ended                    string // %s watch, %s warehouse
	user, pid, start, elapsed, minutes string
	endedSentence                      string // %d minutes
	threshold, paren                   string
}

var queryCatalog = map[string]queryWords{
	"ja": {
		headline: "長時間実行中のクエリがあります（%s: %s）", ended: "クエリが終了しました（%s: %s）",
		user: "ユーザー", pid: "PID", start: "開始", elapsed: "経過", minutes: "%d 分",
		endedSentence: "実行時間は約 %d 分でした", threshold: "しきい値", paren: "（%s）",
	},
	"en": {
		headline: "A query has been running for a long time (%s: %s)", ended: "The query has ended (%s: %s)",
		user: "User", pid: "PID", start: "Started", elapsed: "Elapsed", minutes: "%d min",
		endedSentence: "It ran for about %d minutes", threshold: "threshold", paren: " (%s)",
	},
}

// isQueryNotice reports whether a notice is about a warehouse query.
func isQueryNotice(k sekisho.NoticeKind) bool {
	return k == sekisho.NoticeLongQuery || k == sekisho.NoticeLongQueryEnded
}

// renderQuery words a long_query notice: who, which pid, since when (in the
// config's time zone), for how many minutes, and the query's first 1,000
// characters in a code block.
func renderQuery(lang string, n sekisho.Notice) Message {
	w, ok := queryCatalog[lang]
	if !ok {
		w = queryCatalog["ja"]
	}
	f := n.Facts
	loc, err := time.LoadLocation(f.TimeZone)
	if err != nil || f.TimeZone == "" {
		loc = time.UTC
	}
	m := Message{Marker: marker(n.DedupeKey)}
	minutes := int(n.CreatedAt.Sub(f.StartedAt).Minutes())
	if n.Kind == sekisho.NoticeLongQueryEnded {
		m.Headline = marks.Of(sekisho.StateSucceeded, false).Emoji + " " + fmt.Sprintf(w.ended, esc(f.Watch), esc(f.Warehouse))
		m.Details = []string{fmt.Sprintf(w.endedSentence, minutes),
			"*" + w.user + "*: " + esc(f.User) + "  *" + w.pid + "*: " + esc(f.PID)}
		return m
	}
	m.Headline = marks.Late.Emoji + " " + fmt.Sprintf(w.headline, esc(f.Watch), esc(f.Warehouse))
	if f.Mention != "" {
		m.Headline = f.Mention + " " + m.Headline
	}
	m.Details = []string{
		"*" + w.user + "*: " + esc(f.User),
		"*" + w.pid + "*: " + esc(f.PID),
		"*" + w.start + "*: " + f.StartedAt.In(loc).Format("2006-01-02 15:04:05 MST"),
		"*" + w.elapsed + "*: " + fmt.Sprintf(w.minutes, minutes) + fmt.Sprintf(w.paren, w.threshold+" "+fmt.Sprintf(w.minutes, thresholdMinutes(f.MaxDuration))),
	}
	if t := strings.TrimSpace(f.Message); t != "" {
		m.Details = append(m.Details, "```\n"+strings.ReplaceAll(esc(t), "```", "` ` `")+"\n```")
	}
	return m
}

// thresholdMinutes reads the watch's threshold as whole minutes.
func thresholdMinutes(d string) int {
	t, err := time.ParseDuration(d)
	if err != nil {
		return 0
	}
	return int(t.Minutes())
}

// postQuery sends a query notice in bot mode: the alert opens a message in
// the watch's channel and remembers it; the end replies in its thread (in
// the channel when the alert has none).
func (s *Sender) postQuery(ctx context.Context, snap snapshot, n sekisho.Notice, msg Message) error {
	channel := snap.cfg.Slack.Channel
	if w := snap.cfg.Watch(n.Facts.Watch); w != nil && w.Notify.Channel != "" {
		channel = w.Notify.Channel
	}
	watch, key := n.Facts.Watch, n.Facts.ExternalID
	th := thread{load: func(context.Context) (string, string, bool, error) { return "", "", false, nil }}
	switch n.Kind {
	case sekisho.NoticeLongQuery:
		th.save = func(ctx context.Context, ch, ts string) error { return s.st.SaveQueryThread(ctx, watch, key, ch, ts) }
	case sekisho.NoticeLongQueryEnded:
		th.load = func(ctx context.Context) (string, string, bool, error) {
			a, err := s.st.QueryAlertByKey(ctx, watch, key)
			if errors.Is(err, sekisho.ErrNotFound) {
				return "", "", false, nil
			}
			if err != nil {
				return "", "", false, err
			}
			return a.ThreadChannel, a.ThreadTS, a.ThreadTS != "", nil
		}
	}
	return s.postThreaded(ctx, snap, n, msg, channel, th)
}

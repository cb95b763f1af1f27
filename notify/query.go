package notify

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/sekisho-dev/sekisho"
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
		m.Headline = "✅ " + fmt.Sprintf(w.ended, esc(f.Watch), esc(f.Warehouse))
		m.Details = []string{fmt.Sprintf(w.endedSentence, minutes),
			"*" + w.user + "*: " + esc(f.User) + "  *" + w.pid + "*: " + esc(f.PID)}
		return m
	}
	m.Headline = "🐢 " + fmt.Sprintf(w.headline, esc(f.Watch), esc(f.Warehouse))
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
// the watch's channel and remembers it; the end replies in its thread.
func (s *Sender) postQuery(ctx context.Context, snap snapshot, n sekisho.Notice, msg Message) error {
	api := snap.client
	channel := snap.cfg.Slack.Channel
	if w := snap.cfg.Watch(n.Facts.Watch); w != nil && w.Notify.Channel != "" {
		channel = w.Notify.Channel
	}
	opts := msgOptions(n, msg)
	if n.Kind == sekisho.NoticeLongQueryEnded {
		a, err := s.st.QueryAlertByKey(ctx, n.Facts.Watch, n.Facts.ExternalID)
		if err == nil && a.ThreadTS != "" {
			if n.Tries > 0 {
				if found, err := s.findInThread(ctx, api, a.ThreadChannel, a.ThreadTS, n); err != nil || found {
					return err
				}
			}
			_, _, err := api.PostMessageContext(ctx, a.ThreadChannel, append(opts, slack.MsgOptionTS(a.ThreadTS))...)
			if err != nil {
				return fmt.Errorf("slack chat.postMessage: %w", err)
			}
			return nil
		}
	}
	if channel == "" {
		return slack.SlackErrorResponse{Err: "channel_not_found"}
	}
	ch, ts, found := "", "", false
	if n.Tries > 0 {
		var err error
		if ch, ts, found, err = s.findInHistory(ctx, api, channel, n); err != nil {
			return err
		}
	}
	if !found {
		var err error
		if ch, ts, err = api.PostMessageContext(ctx, channel, opts...); err != nil {
			return fmt.Errorf("slack chat.postMessage: %w", err)
		}
		s.learnChannel(channel, ch)
	}
	if n.Kind == sekisho.NoticeLongQuery {
		return s.st.SaveQueryThread(ctx, n.Facts.Watch, n.Facts.ExternalID, ch, ts)
	}
	return nil
}

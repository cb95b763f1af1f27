package notify

import (
	"fmt"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/marks"
)

// Message is a rendered notice: a plain-text fallback (also what the store
// keeps and the board shows) and the Block Kit layout Slack displays.
type Message struct {
	Headline string   // the first line, for a business reader
	Details  []string // one fact per line, Slack mrkdwn
	// Marker is the block_id of the headline block; it carries the notice's
	// dedupe key so a message can be found again in Slack after a crash.
	Marker string
	// Actions are the buttons (SPEC §20), after the text; nil: none.
	Actions []slack.Block
}

// Text is the plain-text fallback: the headline, then the details.
func (m Message) Text() string {
	if len(m.Details) == 0 {
		return m.Headline
	}
	return m.Headline + "\n" + strings.Join(m.Details, "\n")
}

// failureKinds are the kinds a pipeline's notify.mention is prepended to:
// the ones somebody has to act on.
var failureKinds = map[sekisho.NoticeKind]bool{
	sekisho.NoticeUpstreamFailed: true, sekisho.NoticeTriggerFailed: true, sekisho.NoticeRunFailed: true,
	sekisho.NoticeDelay: true, sekisho.NoticeAtRisk: true, sekisho.NoticeLongRunning: true,
	sekisho.NoticeTimedOut: true, sekisho.NoticeTriggerUnknown: true,
}

// Render turns a notice into words in lang ("ja" or "en"; anything else is
// ja, the default of slack.language). p is the notice's pipeline, or nil for
// a notice about no pipeline; publicURL links to the status board.
func Render(lang string, n sekisho.Notice, p *config.Pipeline, publicURL string) Message {
	if isQueryNotice(n.Kind) {
		return renderQuery(lang, n)
	}
	c := catalogFor(lang)
	if n.Kind == sekisho.NoticeDigest {
		// A digest is a snapshot: its text was written when it was taken.
		text := n.Text
		if text == "" {
			text = fmt.Sprintf(c.digest.headline, n.LogicalDate)
		}
		head, rest, _ := strings.Cut(text, "\n")
		m := Message{Headline: head, Marker: marker(n.DedupeKey)}
		if rest != "" {
			m.Details = strings.Split(rest, "\n")
		}
		return m
	}
	loc := time.UTC
	if p != nil && p.Location != nil {
		loc = p.Location
	}
	v := view{c: c, n: n, f: n.Facts, loc: loc, subject: subject(p, n.Pipeline)}
	m := Message{Marker: marker(n.DedupeKey)}
	m.Headline = c.headline(v)
	if p != nil && p.Notify.Mention != "" && failureKinds[n.Kind] {
		m.Headline = p.Notify.Mention + " " + m.Headline
	}
	if n.Kind == sekisho.NoticeConfigInvalid {
		m.Details = append(m.Details, "*"+c.what+"*: "+c.sentence(v))
		if n.Facts.Message != "" {
			m.Details = append(m.Details, "```\n"+esc(strings.TrimSpace(n.Facts.Message))+"\n```")
		}
		return m
	}
	name := esc(n.Pipeline)
	if p != nil && p.Description != "" {
		name += " — " + esc(p.Description)
	}
	m.Details = append(m.Details, "*"+c.pipeline+"*: "+name)
	if n.LogicalDate != "" {
		date := n.LogicalDate
		if t := sekisho.KeyTime(n.Key); t != "" {
			date += " " + t // a sub-daily run names its interval (SPEC §19)
		}
		m.Details = append(m.Details, "*"+c.date+"*: "+date)
	}
	m.Details = append(m.Details, "*"+c.what+"*: "+c.sentence(v))
	deadline := n.Facts.Deadline
	if deadline.IsZero() && p != nil && n.LogicalDate != "" {
		if _, err := time.Parse(sekisho.DateLayout, n.LogicalDate); err == nil {
			key := n.Key
			if key == "" {
				key = n.LogicalDate
			}
			deadline = p.Deadline(n.LogicalDate, p.GateOf(key))
		}
	}
	if !deadline.IsZero() {
		m.Details = append(m.Details, "*"+c.deadline+"*: "+fmtTime(deadline, loc))
	}
	if p != nil && len(p.Impacts) > 0 {
		imp := make([]string, len(p.Impacts))
		for i, s := range p.Impacts {
			imp[i] = esc(s)
		}
		m.Details = append(m.Details, "*"+c.impacts+"*: "+strings.Join(imp, c.listSep))
	}
	if p != nil && p.Runbook != "" {
		m.Details = append(m.Details, runbookLine(lang, p.Runbook))
	}
	if link := boardLink(publicURL, n.Pipeline); link != "" {
		m.Details = append(m.Details, "*"+c.board+"*: <"+link+">")
	}
	return m
}

// StatusLine is the line a thread's root message gets on top when it is
// updated to the run's current state (bot mode).
func StatusLine(lang string, r sekisho.Run, loc *time.Location, at time.Time) string {
	c := catalogFor(lang)
	return fmt.Sprintf(c.statusLine, marks.Of(r.State, false).Emoji, c.state(r.State), fmtTime(at, loc))
}

// view is what a catalog's sentences read from.
type view struct {
	c       *catalog
	n       sekisho.Notice
	f       sekisho.NoticeFacts
	loc     *time.Location
	subject string
}

func (v view) time(t time.Time) string { return fmtTime(t, v.loc) }

// subject is what business readers call the pipeline's data: the first
// impact without its tool prefix ("Tableau: 学習状況ダッシュボード" →
// 学習状況ダッシュボード), else the description, else the name.
func subject(p *config.Pipeline, name string) string {
	if p == nil {
		return esc(name)
	}
	if len(p.Impacts) > 0 {
		s := p.Impacts[0]
		for _, sep := range []string{": ", "："} {
			if _, rest, ok := strings.Cut(s, sep); ok && strings.TrimSpace(rest) != "" {
				s = strings.TrimSpace(rest)
				break
			}
		}
		return esc(s)
	}
	if p.Description != "" {
		return esc(p.Description)
	}
	return esc(p.Name)
}

func boardLink(publicURL, pipeline string) string {
	if publicURL == "" {
		return ""
	}
	base := strings.TrimRight(publicURL, "/")
	if pipeline == "" {
		return base + "/"
	}
	return base + "/pipelines/" + pipeline
}

func fmtTime(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return "-"
	}
	return t.In(loc).Format("2006-01-02 15:04 MST")
}

// esc escapes the three characters Slack's mrkdwn reserves, so a job's
// error message cannot turn into a mention or a broken link.
func esc(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// marker is the block_id carrying a dedupe key; Slack allows 255 characters.
func marker(key string) string {
	const prefix = "sekisho:"
	if len(prefix)+len(key) > 255 {
		key = key[:255-len(prefix)]
	}
	return prefix + key
}

// paren appends " (x)" (or the Japanese （x）) when x is set.
func (c *catalog) paren(x string) string {
	if x == "" {
		return ""
	}
	return fmt.Sprintf(c.parenFmt, x)
}

// colon appends ": msg" when msg is set.
func colon(msg string) string {
	msg = strings.TrimSpace(msg)
	if msg == "" {
		return ""
	}
	return ": " + esc(msg)
}

package demo

import (
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/marks"
	"github.com/sekisho-dev/sekisho/sim/slacksim"
)

// Printer writes the demo's terminal: one line per Slack notice, per run
// state change and per event the world pushes, in the pipelines' time zone.
// Lines wait in a buffer until Flush, which prints them in time order: the
// notices arrive on the Slack double's goroutine, the transitions from the
// store. It stays quiet until SetLive, so weeks of history do not scroll
// past in a blur.
type Printer struct {
	mu      sync.Mutex
	w       io.Writer
	loc     *time.Location
	live    atomic.Bool
	pending []line
	// astray holds the sub-daily runs (pipeline/key) that left the usual
	// way since they were last seen finished: their steps are printed.
	astray map[string]bool
}

type line struct {
	at   time.Time
	text string
}

// NewPrinter returns a quiet Printer writing to w with times in loc.
func NewPrinter(w io.Writer, loc *time.Location) *Printer {
	return &Printer{w: w, loc: loc, astray: map[string]bool{}}
}

// SetLive turns the printing of notices and transitions on or off.
func (p *Printer) SetLive(on bool) { p.live.Store(on) }

// Live reports whether notices and transitions are printed.
func (p *Printer) Live() bool { return p.live.Load() }

// Printf writes a line whether or not the printer is live.
func (p *Printer) Printf(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.w, format+"\n", args...)
}

func (p *Printer) stamp(t time.Time) string {
	return t.In(p.loc).Format("2006-01-02 15:04 MST")
}

func (p *Printer) add(at time.Time, text string) {
	if !p.Live() {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.pending = append(p.pending, line{at: at, text: text})
}

// Flush prints the buffered lines, oldest first.
func (p *Printer) Flush() {
	p.mu.Lock()
	defer p.mu.Unlock()
	sort.SliceStable(p.pending, func(i, j int) bool { return p.pending[i].at.Before(p.pending[j].at) })
	for _, l := range p.pending {
		fmt.Fprintln(p.w, l.text)
	}
	p.pending = p.pending[:0]
}

// mention matches Slack's mention markup, which reads badly on a terminal.
var mention = regexp.MustCompile(`<!subteam\^[A-Z0-9]+(\|[^>]*)?>\s*|<[@!][^>]*>\s*`)

// userMention is a mention of one user, which says who acted.
var userMention = regexp.MustCompile(`<@([A-Z0-9]+)>`)

// Notice buffers a message the Slack double received: its headline, the
// first line of the text. Root updates in bot mode are left out.
func (p *Printer) Notice(m slacksim.Message) {
	if m.Updates > 0 {
		return
	}
	head, _, _ := strings.Cut(strings.TrimSpace(m.Text), "\n")
	head = userMention.ReplaceAllString(head, "@$1") // who acted reads as @U…
	head = mention.ReplaceAllString(head, "")
	where := "slack"
	if m.ThreadTS != "" {
		where = "slack ↳"
	}
	p.add(m.At, fmt.Sprintf("%s  %-18s %s", p.stamp(m.At), where, head))
	if b := Buttons(m.Blocks); b != "" {
		p.add(m.At, fmt.Sprintf("%s  %-18s %s", p.stamp(m.At), "", b))
	}
}

// Buttons draws a message's interactive elements as a terminal line:
// "[対応中（復旧見込み） ▾] [再実行] [本日スキップ] [ミュート ▾] [🕒 復旧見込みの時刻]",
// or "" for a message without any.
func Buttons(blocks json.RawMessage) string {
	var bs []struct {
		Type     string `json:"type"`
		Elements []struct {
			Type        string                `json:"type"`
			Text        struct{ Text string } `json:"text"`
			Placeholder struct{ Text string } `json:"placeholder"`
		} `json:"elements"`
	}
	if len(blocks) == 0 || json.Unmarshal(blocks, &bs) != nil {
		return ""
	}
	var out []string
	for _, b := range bs {
		if b.Type != "actions" {
			continue
		}
		for _, e := range b.Elements {
			switch e.Type {
			case "button":
				out = append(out, "["+e.Text.Text+"]")
			case "static_select":
				out = append(out, "["+e.Placeholder.Text+" ▾]")
			case "timepicker":
				out = append(out, "["+marks.Time.Emoji+" "+e.Placeholder.Text+"]")
			}
		}
	}
	return strings.Join(out, " ")
}

// Transition buffers one run state change. A sub-daily run's steps on
// the usual way (gate, trigger, running, success) are left out: 24 runs a
// day would bury everything else, and the board's strip shows each
// interval. Once such a run leaves that way (blocked, failed, a rerun) its
// steps are printed until it finishes, as any daily run's are.
func (p *Printer) Transition(t sekisho.Transition) {
	if p.routine(t) {
		return
	}
	p.add(t.At, FormatTransition(t, p.loc))
}

// routine reports whether t is a usual step of a sub-daily run that has
// not left the usual way.
func (p *Printer) routine(t sekisho.Transition) bool {
	if !sekisho.SubDailyKey(t.Key) {
		return false
	}
	id := t.Pipeline + "/" + t.Key
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.astray[id] {
		switch {
		case t.From == "" && t.To == sekisho.StateWaiting,
			t.From == sekisho.StateWaiting && t.To == sekisho.StateTriggered,
			t.From == sekisho.StateTriggered && t.To == sekisho.StateRunning,
			t.From == sekisho.StateRunning && t.To == sekisho.StateSucceeded:
			return true
		}
	}
	p.astray[id] = !t.To.Terminal()
	if !p.astray[id] {
		delete(p.astray, id)
	}
	return false
}

// Action buffers something the world did to sekisho: a pushed event, an
// operator's rerun.
func (p *Printer) Action(at time.Time, who, what string) {
	p.add(at, fmt.Sprintf("%s  %-18s %s", p.stamp(at), who, what))
}

// FormatTransition is the terminal line of a transition, e.g.
// "2026-11-21 02:31 JST  socrates_daily     waiting → triggered (condition_met: dag run sekisho__…)".
func FormatTransition(t sekisho.Transition, loc *time.Location) string {
	from := string(t.From)
	if from == "" {
		from = "(gate)"
	}
	why := t.Reason
	if extra := transitionExtra(t); extra != "" {
		why += ": " + extra
	}
	name := t.Pipeline
	if at := sekisho.KeyTime(t.Key); at != "" {
		name += " " + at // the interval of a sub-daily run
	}
	if t.Attempt > 1 {
		name += fmt.Sprintf(" #%d", t.Attempt)
	}
	return fmt.Sprintf("%s  %-18s %s → %s (%s)", t.At.In(loc).Format("2006-01-02 15:04 MST"),
		name, from, t.To, why)
}

// transitionExtra picks the one fact of a transition's detail a reader
// wants: the failed upstreams, or the downstream run.
func transitionExtra(t sekisho.Transition) string {
	switch t.Reason {
	case sekisho.ReasonUpstreamFailed, sekisho.ReasonTimeout:
		ups, _ := t.Detail["upstreams"].(map[string]any)
		var failed []string
		for name, v := range ups {
			if u, ok := v.(map[string]any); ok && u["state"] == string(sekisho.JobFailed) {
				failed = append(failed, name)
			}
		}
		sort.Strings(failed)
		if len(failed) > 0 {
			return strings.Join(failed, ", ") + " failed"
		}
	case sekisho.ReasonConditionMet:
		// The downstream run it started; later steps repeat it, so only here.
		if id, ok := t.Detail["external_id"].(string); ok && id != "" {
			return id
		}
	case sekisho.ReasonTriggerRejected, sekisho.ReasonDagPaused, sekisho.ReasonLogicalDateTaken:
		if msg, ok := t.Detail["message"].(string); ok {
			return msg
		}
	}
	return ""
}

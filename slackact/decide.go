// Package slackact lets operators act from Slack (SPEC §20): acknowledge an
// incident with an ETA, rerun, skip or silence a pipeline with a button on
// the notice. The deciding part is pure: a click in an interaction payload
// becomes a Request (Interpret), who may act is Allowed, and the follow-ups
// an incident owes (an escalation, a passed ETA) are FollowUps. The
// executor (Service) carries a request out through the same code as the API
// and the CLI (engine.Rerun, engine.Skip, the store's silences), each in one
// transaction with its operator_actions row, whose key makes a click Slack
// delivers twice change nothing the second time. The transports are thin:
// POST /slack/interactions (web, verified with the signing secret) and a
// Socket Mode runner on the leader (socket.go).
package slackact

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/sekisho-dev/sekisho/store"
)

// The action_ids of sekisho's buttons and menus.
const (
	ActionAck     = "sekisho_ack"
	ActionRerun   = "sekisho_rerun"
	ActionSkip    = "sekisho_skip"
	ActionSilence = "sekisho_silence"
)

// kinds maps an action_id to the store's action kind.
var kinds = map[string]string{ActionAck: store.ActionAck, ActionRerun: store.ActionRerun,
	ActionSkip: store.ActionSkip, ActionSilence: store.ActionSilence}

// Preset choices of the menus: an ETA from now, a silence's length.
var (
	ETAPresets = []time.Duration{30 * time.Minute, time.Hour, 2 * time.Hour, 4 * time.Hour}
	// SilenceForHour and SilenceEndOfDay are the silence menu's values.
	SilenceForHour  = "1h"
	SilenceEndOfDay = "eod"
	// NoETA acknowledges without saying when it will be fixed.
	NoETA = "none"
)

// ETABlockPrefix starts the block_id of the time picker's block; the rest
// is the target (a time picker carries no value of its own).
const ETABlockPrefix = "sekisho_eta|"

// Target is the run a button is about.
type Target struct {
	Pipeline string
	Key      string // the run key: its logical date, or YYYY-MM-DDTHH:MM for a sub-daily run
}

// Value is a button's or option's value: "pipeline/key", and "|option"
// when the element offers choices. Pipeline names and run keys hold neither
// "/" nor "|", and it stays far below Slack's 150 characters for an
// option's value.
func (t Target) Value(option string) string {
	v := t.Pipeline + "/" + t.Key
	if option != "" {
		v += "|" + option
	}
	return v
}

// ParseValue reads a value written by Value.
func ParseValue(v string) (Target, string, error) {
	tv, option, _ := strings.Cut(v, "|")
	p, k, ok := strings.Cut(tv, "/")
	if !ok || p == "" || k == "" {
		return Target{}, "", fmt.Errorf("value %q names no pipeline and run", v)
	}
	return Target{Pipeline: p, Key: k}, option, nil
}

// Click is one press of a sekisho button or one choice in its menus, as an
// interaction payload carries it.
type Click struct {
	ActionID string
	BlockID  string
	Value    string // a button's value, or the chosen option's
	Time     string // a time picker's HH:MM
	ActionTS string // Slack's action_ts: the same on every delivery of the click
	User     string // the Slack user id
	UserName string
	// ResponseURL takes an ephemeral answer to the clicking user.
	ResponseURL string
	Channel     string
	MessageTS   string
}

// Clicks returns the clicks on sekisho's elements in a block_actions
// payload; anything else (another app's element, another payload type)
// gives none.
func Clicks(cb slack.InteractionCallback) []Click {
	if cb.Type != slack.InteractionTypeBlockActions {
		return nil
	}
	var out []Click
	for _, a := range cb.ActionCallback.BlockActions {
		if a == nil || kinds[a.ActionID] == "" {
			continue
		}
		c := Click{ActionID: a.ActionID, BlockID: a.BlockID, Value: a.Value, Time: a.SelectedTime,
			ActionTS: a.ActionTs, User: cb.User.ID, UserName: cb.User.Name, ResponseURL: cb.ResponseURL,
			Channel: cb.Channel.ID, MessageTS: cb.Container.MessageTs}
		if c.Value == "" {
			c.Value = a.SelectedOption.Value
		}
		if c.ActionTS == "" {
			c.ActionTS = cb.ActionTs
		}
		if c.UserName == "" {
			c.UserName = cb.User.Username
		}
		if c.Channel == "" {
			c.Channel = cb.Container.ChannelID
		}
		out = append(out, c)
	}
	return out
}

// Request is what a click asks for.
type Request struct {
	Kind   string // store.ActionAck | ActionRerun | ActionSkip | ActionSilence
	Target Target
	ETA    time.Time // ack: when the fix is expected (zero: not said)
	Until  time.Time // silence: its end
	Click  Click
}

// ErrBadClick marks a click sekisho cannot read (a hand-made payload, or a
// button of a release that wrote values differently).
var ErrBadClick = errors.New("unreadable click")

// Interpret turns a click into a request at now. Times of day (the time
// picker, "until the end of the day") are read in loc, the pipeline's zone.
func Interpret(c Click, now time.Time, loc *time.Location) (Request, error) {
	kind := kinds[c.ActionID]
	if kind == "" {
		return Request{}, fmt.Errorf("%w: action_id %q is not sekisho's", ErrBadClick, c.ActionID)
	}
	if c.ActionTS == "" {
		return Request{}, fmt.Errorf("%w: no action_ts", ErrBadClick)
	}
	value := c.Value
	if value == "" && strings.HasPrefix(c.BlockID, ETABlockPrefix) {
		value = strings.TrimPrefix(c.BlockID, ETABlockPrefix)
	}
	t, option, err := ParseValue(value)
	if err != nil {
		return Request{}, fmt.Errorf("%w: %v", ErrBadClick, err)
	}
	r := Request{Kind: kind, Target: t, Click: c}
	switch kind {
	case store.ActionAck:
		switch {
		case c.Time != "":
			eta, err := nextTimeOfDay(c.Time, now, loc)
			if err != nil {
				return Request{}, fmt.Errorf("%w: %v", ErrBadClick, err)
			}
			r.ETA = eta
		case option == "" || option == NoETA:
		default:
			d, err := time.ParseDuration(option)
			if err != nil || !slices.Contains(ETAPresets, d) {
				return Request{}, fmt.Errorf("%w: ETA %q is not one of the presets", ErrBadClick, option)
			}
			r.ETA = now.Add(d)
		}
	case store.ActionSilence:
		switch option {
		case SilenceForHour:
			r.Until = now.Add(time.Hour)
		case SilenceEndOfDay:
			r.Until = endOfDay(now, loc)
		default:
			return Request{}, fmt.Errorf("%w: silence %q is neither %s nor %s", ErrBadClick, option, SilenceForHour, SilenceEndOfDay)
		}
	}
	return r, nil
}

// nextTimeOfDay is the next HH:MM in loc after now: today's, or
// tomorrow's when today's has passed (an ETA of 01:00 given at 23:00).
func nextTimeOfDay(hhmm string, now time.Time, loc *time.Location) (time.Time, error) {
	clock, err := time.Parse("15:04", hhmm)
	if err != nil {
		return time.Time{}, fmt.Errorf("time %q is not HH:MM", hhmm)
	}
	l := now.In(loc)
	t := time.Date(l.Year(), l.Month(), l.Day(), clock.Hour(), clock.Minute(), 0, 0, loc)
	if !t.After(now) {
		t = time.Date(l.Year(), l.Month(), l.Day()+1, clock.Hour(), clock.Minute(), 0, 0, loc)
	}
	return t, nil
}

// endOfDay is the next midnight in loc.
func endOfDay(now time.Time, loc *time.Location) time.Time {
	l := now.In(loc)
	return time.Date(l.Year(), l.Month(), l.Day()+1, 0, 0, 0, 0, loc)
}

// Allowed reports whether a Slack user may act on a pipeline: operators
// (user ids and user-group ids) and the pipeline's owners may; an owner
// entry "-<id>" takes that id away for this pipeline. inGroup answers
// whether the user is in a user group; a group it cannot answer for counts
// as not containing the user, so a Slack outage never widens who may act.
func Allowed(user string, operators, owners []string, inGroup func(group string) bool) bool {
	if user == "" {
		return false
	}
	var removed, allowed []string
	for _, o := range owners {
		if id, ok := strings.CutPrefix(o, "-"); ok {
			removed = append(removed, id)
		} else {
			allowed = append(allowed, o)
		}
	}
	for _, id := range operators {
		if !slices.Contains(removed, id) {
			allowed = append(allowed, id)
		}
	}
	// A removed user stays out even through a group that holds them.
	if slices.Contains(removed, user) {
		return false
	}
	for _, id := range allowed {
		switch {
		case id == user:
			return true
		case strings.HasPrefix(id, "S") && inGroup != nil && inGroup(id):
			return true
		}
	}
	return false
}

// Deadline is a target an incident's member must meet: its SLO deadline
// or its SLA's recover_by.
type Deadline struct {
	Pipeline string
	Key      string
	What     string // slo | sla
	At       time.Time
}

// Misses returns the deadlines an ETA would miss: those before it.
func Misses(eta time.Time, ds []Deadline) []Deadline {
	if eta.IsZero() {
		return nil
	}
	var out []Deadline
	for _, d := range ds {
		if !d.At.IsZero() && eta.After(d.At) {
			out = append(out, d)
		}
	}
	return out
}

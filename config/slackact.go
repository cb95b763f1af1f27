package config

import (
	"regexp"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// Operator actions from Slack, escalation, runbooks and maintenance windows
// (SPEC §20).

// Interactivity modes: how Slack's button clicks reach sekisho.
const (
	InteractivityOff        = "off"
	InteractivitySocketMode = "socket_mode" // a WebSocket sekisho opens with the app token: no public URL
	InteractivityHTTP       = "http"        // POST /slack/interactions, verified with the signing secret
)

// InteractivityModes lists slack.interactivity's words.
var InteractivityModes = []string{InteractivityOff, InteractivitySocketMode, InteractivityHTTP}

// Maintenance is a recurring silence: from every time schedule fires, for
// Duration, the pipelines' notices are silenced (SPEC §17, §20).
type Maintenance struct {
	Schedule  string        `json:"schedule"`
	Duration  time.Duration `json:"duration"`
	Pipelines []string      `json:"pipelines,omitempty"` // empty: every pipeline
	Reason    string        `json:"reason"`
	// Sched is Schedule parsed, in the config's time zone.
	Sched cron.Schedule `json:"-"`
}

// slackIDPattern is a Slack user id (U…, W… on Enterprise Grid) or a user
// group id (S…); an owner may start with "-" to take an operator away.
var (
	slackIDPattern = regexp.MustCompile(`^[UWS][A-Z0-9]{2,}$`)
	ownerPattern   = regexp.MustCompile(`^-?[UWS][A-Z0-9]{2,}$`)
)

// slackIDs reads a list of Slack user and user-group ids.
func (d *decoder) slackIDs(f *fields, key string, pattern *regexp.Regexp, hint string) []string {
	return d.scalars(f, key, func(it val, s scalar) bool {
		if !s.env && !pattern.MatchString(s.s) {
			d.fail(it, "%s is not a Slack user or user group id%s", s.shown, hint)
			return false
		}
		return true
	})
}

// slackActions reads slack.interactivity, app_token, signing_secret and
// operators into s.
func (d *decoder) slackActions(f *fields, s *Slack) {
	s.Interactivity = d.oneOf(f, "interactivity", "interactivity", InteractivityOff, InteractivityModes)
	s.AppToken = d.secret(f, "app_token")
	s.SigningSecret = d.secret(f, "signing_secret")
	s.Operators = d.slackIDs(f, "operators", slackIDPattern, " (like U0123ABCD or S0456EFGH: in Slack, a member's profile → ⋮ → Copy member ID)")
	iv, _ := f.get("interactivity")
	switch s.Interactivity {
	case InteractivitySocketMode:
		if s.AppToken == "" {
			d.missing(f, "app_token", " with interactivity: socket_mode (an app-level token, xapp-…, with connections:write)")
		} else if av, _ := f.get("app_token"); !strings.HasPrefix(s.AppToken.Value(), "xapp-") && !strings.Contains(s.AppToken.Value(), "${") {
			d.fail(av, "is not an app-level token: it starts with xapp- (Basic Information → App-Level Tokens)")
		}
	case InteractivityHTTP:
		if s.SigningSecret == "" {
			d.missing(f, "signing_secret", " with interactivity: http (Basic Information → Signing Secret)")
		}
	}
	if s.Interactivity != InteractivityOff && s.Token == "" {
		d.fail(iv, "buttons need bot mode: set slack.token and slack.channel")
	}
	if s.Interactivity != InteractivityOff && len(s.Operators) == 0 {
		if _, ok := f.get("operators"); !ok {
			d.missing(f, "operators", " with interactivity: the Slack user or user group ids who may act (e.g. [U0123ABCD, S0456EFGH])")
		}
	}
}

// pipelineActions reads a pipeline's owners and runbook.
func (d *decoder) pipelineActions(p *Pipeline, f *fields) {
	p.Owners = d.slackIDs(f, "owners", ownerPattern, " (like U0123ABCD, S0456EFGH, or -U0123ABCD to take an operator away)")
	p.Runbook = d.absURL(f, "runbook")
}

// notifyEscalation reads notify.escalate_after and escalate_to.
func (d *decoder) notifyEscalation(f *fields, n *Notify) {
	n.EscalateAfter = d.duration(f, "escalate_after", 0, time.Minute)
	n.EscalateTo, _, _ = d.str(f, "escalate_to")
	if n.EscalateAfter > 0 && n.EscalateTo == "" {
		d.missing(f, "escalate_to", " with escalate_after: who to mention, like \"<!subteam^S0ONCALL>\"")
	}
	if ev, ok := f.get("escalate_to"); ok && n.EscalateTo != "" && n.EscalateAfter == 0 {
		d.fail(ev, "needs escalate_after: how long an incident may stay unacknowledged, like 15m")
	}
}

// maintenance reads the top-level maintenance: list.
func (d *decoder) maintenance(cfg *Config, root *fields) {
	v, ok := root.get("maintenance")
	if !ok {
		return
	}
	items, ok := d.list(v)
	if !ok {
		return
	}
	for _, it := range items {
		f := d.mapping(it, KnownKeys["maintenance[]"], nil)
		if f == nil {
			continue
		}
		m := Maintenance{}
		good := true
		if s, sv, ok := d.required(f, "schedule", "; a cron expression like \"0 2 * * 0\" (Sundays at 02:00)"); ok {
			sc, _ := d.scalarOf(sv, false)
			sched, err := parseSchedule(s)
			if err != nil {
				d.fail(sv, "bad schedule %s: %s", sc.shown, sc.detail(err))
				good = false
			} else {
				m.Schedule, m.Sched = s, inZone(sched, cfg.Location)
			}
		} else {
			good = false
		}
		if _, present := f.get("duration"); !present {
			d.missing(f, "duration", "; how long each window lasts, like 2h")
			good = false
		} else if m.Duration = d.duration(f, "duration", 0, time.Minute); m.Duration == 0 {
			good = false
		}
		if r, _, ok := d.required(f, "reason", "; shown on the board and in silenced notices, like \"weekly RDS maintenance\""); ok {
			m.Reason = r
		} else {
			good = false
		}
		if pv, ok := f.get("pipelines"); ok {
			ps, _ := d.list(pv)
			for _, it := range ps {
				s, ok := d.scalarOf(it, false)
				if !ok {
					continue
				}
				if cfg.Pipeline(s.s) == nil {
					d.fail(it, "unknown pipeline %s", s.shown)
					good = false
					continue
				}
				m.Pipelines = append(m.Pipelines, s.s)
			}
		}
		if good {
			cfg.Maintenance = append(cfg.Maintenance, m)
		}
	}
}

// inZone evaluates a parsed cron schedule in loc, as pipelines' schedules
// are.
func inZone(s *cron.SpecSchedule, loc *time.Location) cron.Schedule {
	c := *s
	c.Location = loc
	return &c
}

// Windows returns the maintenance windows that overlap [from, to), in the
// order they start: each as its start and end.
func (m Maintenance) Windows(from, to time.Time) [][2]time.Time {
	if m.Sched == nil || m.Duration <= 0 || !to.After(from) {
		return nil
	}
	var out [][2]time.Time
	// A window that started up to Duration before from still covers it.
	for t := m.Sched.Next(from.Add(-m.Duration - time.Second)); !t.IsZero() && t.Before(to); t = m.Sched.Next(t) {
		if end := t.Add(m.Duration); end.After(from) {
			out = append(out, [2]time.Time{t, end})
		}
	}
	return out
}

// Covers reports whether the window applies to the pipeline.
func (m Maintenance) Covers(pipeline string) bool {
	if len(m.Pipelines) == 0 {
		return true
	}
	for _, p := range m.Pipelines {
		if p == pipeline {
			return true
		}
	}
	return false
}

// ParseMaintenanceSchedule parses a maintenance window's cron schedule,
// evaluated in loc, as the config's maintenance: entries are.
func ParseMaintenanceSchedule(expr string, loc *time.Location) (cron.Schedule, error) {
	s, err := parseSchedule(expr)
	if err != nil {
		return nil, err
	}
	return inZone(s, loc), nil
}

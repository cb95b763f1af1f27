package notify

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/marks"
	"github.com/sekisho-dev/sekisho/store"
)

// incidentWords are an incident message's words in one language, written
// like a railway's service notice (運転見合わせ): what stopped, what it
// reaches, what is being done.
type incidentWords struct {
	lang                                string
	opened, joined, recovered, resolved string // headlines: %[1]s cause subject, %[2]s count, %[3]s pipelines, %[4]s date
	causeJob, causeRun                  map[string]string
	jobSentence                         string            // %[1]s upstream, %[2]s resource, %[3]s run id, %[4]s time, %[5]s ": message"
	runSentence                         map[string]string // by cause state: %[1]s pipeline, %[2]s date, %[3]s time, %[4]s ": message"
	stopped, reach, usedBy, doing, now  string
	doingJob, doingRun, doingDone       string
	board                               string
	count, countOne                     string // %d pipelines; one pipeline
}

var incidentJa = incidentWords{
	lang:      "ja",
	opened:    marks.Incident.Emoji + " 【障害】%[1]sの影響で、%[2]sのデータ更新が止まっています（%[4]s）",
	joined:    marks.Incident.Emoji + " 【続報】影響が広がっています: %[3]s も止まっています（%[1]s、%[4]s）",
	recovered: marks.Resumed.Emoji + " 【続報】%[3]s は再開し、完了しました（%[1]s、%[4]s）",
	resolved:  marks.Resolved.Emoji + " 【復旧】%[1]sによる障害は解消し、%[2]sのデータ更新はすべて完了しました（%[4]s）",
	causeJob:  map[string]string{"": "上流ジョブ %s の失敗"},
	causeRun: map[string]string{"failed": "%s の失敗", "timed_out": "%s のタイムアウト",
		sekisho.CauseLate: "%s の遅れ"},
	jobSentence: "上流ジョブ %[1]s（%[2]s、実行ID %[3]s）が %[4]s に失敗しました%[5]s",
	runSentence: map[string]string{
		"failed":          "%[1]s（%[2]s）のデータ更新が %[3]s に失敗しました%[4]s",
		"timed_out":       "%[1]s（%[2]s）は上流が揃わないまま %[3]s にタイムアウトしました%[4]s",
		sekisho.CauseLate: "%[1]s（%[2]s）のデータ更新が期限に間に合っていません（%[3]s 時点）%[4]s",
	},
	stopped:   "止まったもの",
	reach:     "影響範囲",
	usedBy:    "影響する利用先",
	doing:     "対応状況",
	now:       "現在",
	doingJob:  "sekisho は上流の再実行を待っています。再実行が成功すると、止まっているデータ更新は自動で再開します。",
	doingRun:  "sekisho は %s の完了（必要なら再実行）を待っています。完了すると、止まっているデータ更新は自動で再開します。",
	doingDone: "すべてのデータ更新が完了しました。対応は不要です。",
	board:     "ステータスボード",
	count:     "%d つのデータフロー",
	countOne:  "1 つのデータフロー",
}

var incidentEn = incidentWords{
	lang:      "en",
	opened:    marks.Incident.Emoji + " Incident: %[2]s stopped by %[1]s (%[4]s)",
	joined:    marks.Incident.Emoji + " Update: the incident reaches further: %[3]s stopped too (%[1]s, %[4]s)",
	recovered: marks.Resumed.Emoji + " Update: %[3]s resumed and is done (%[1]s, %[4]s)",
	resolved:  marks.Resolved.Emoji + " Resolved: the incident caused by %[1]s is over; every data flow it held back is up to date (%[4]s)",
	causeJob:  map[string]string{"": "the failure of upstream job %s"},
	causeRun: map[string]string{"failed": "the failure of %s", "timed_out": "the timeout of %s",
		sekisho.CauseLate: "the delay of %s"},
	jobSentence: "Upstream job %[1]s (%[2]s, run %[3]s) failed at %[4]s%[5]s.",
	runSentence: map[string]string{
		"failed":          "The update of %[1]s (%[2]s) failed at %[3]s%[4]s.",
		"timed_out":       "%[1]s (%[2]s) timed out at %[3]s with its upstreams not ready%[4]s.",
		sekisho.CauseLate: "The update of %[1]s (%[2]s) missed its deadline (as of %[3]s)%[4]s.",
	},
	stopped:   "What stopped",
	reach:     "What it reaches",
	usedBy:    "Used by",
	doing:     "What is being done",
	now:       "Now",
	doingJob:  "sekisho is waiting for the upstream job to be rerun. Once it succeeds, the stopped updates resume by themselves.",
	doingRun:  "sekisho is waiting for %s to finish (rerun it if needed). Once it does, the stopped updates resume by themselves.",
	doingDone: "Every update is done. Nothing to do.",
	board:     "Status board",
	count:     "%d data flows",
	countOne:  "1 data flow",
}

func incidentWordsFor(lang string) *incidentWords { return inLang(lang, &incidentEn, &incidentJa) }

// incidentView is what an incident message shows: the incident as stored
// when the message is sent, with the members a reader should hear about
// (not silenced, and wanted by their pipeline's notify.on).
type incidentView struct {
	inc     sekisho.Incident
	visible []sekisho.IncidentMember
	cfg     *config.Config
}

// subject names the cause for a business reader.
func (v incidentView) subject(w *incidentWords) string {
	c := v.inc.Cause
	if c.Kind == sekisho.CauseJob {
		name := c.Upstream
		if name == "" {
			name = c.Resource
		}
		return fmt.Sprintf(w.causeJob[""], esc(name))
	}
	f, ok := w.causeRun[c.State]
	if !ok {
		f = w.causeRun["failed"]
	}
	return fmt.Sprintf(f, esc(marks.Run(c.Pipeline, c.Interval(), w.lang)))
}

func (v incidentView) affected() []sekisho.IncidentMember {
	var out []sekisho.IncidentMember
	for _, m := range v.visible {
		if m.Role == sekisho.RoleAffected {
			out = append(out, m)
		}
	}
	return out
}

// RenderIncident turns an incident notice into words, from the incident's
// state now: a message sent late (after group_wait, or a Slack outage)
// shows everything known by then. joined are the runs a joined message
// announces (several when webhook mode groups them). A sub-daily run is
// named with its interval, "hourly_load 13:00 run" (marks.Run).
func RenderIncident(lang string, n sekisho.Notice, v incidentView, joined []sekisho.IncidentMember, publicURL string, loc *time.Location) Message {
	w, c := incidentWordsFor(lang), catalogFor(lang)
	subject := v.subject(w)
	names := func(ms []sekisho.IncidentMember) string {
		var s []string
		for _, m := range ms {
			s = append(s, esc(marks.Run(m.Pipeline, m.Interval(), lang)))
		}
		return strings.Join(s, c.listSep)
	}
	count := fmt.Sprintf(w.count, len(v.affected()))
	if len(v.affected()) == 1 {
		count = w.countOne
	}
	var head string
	switch {
	case n.Kind == sekisho.NoticeIncidentOpened:
		head = fmt.Sprintf(w.opened, subject, count, names(v.affected()), v.inc.Cause.Date)
	case n.Kind == sekisho.NoticeIncidentResolved:
		head = fmt.Sprintf(w.resolved, subject, count, names(v.affected()), v.inc.Cause.Date)
	case n.Facts.Reason == sekisho.IncidentRecovered:
		head = fmt.Sprintf(w.recovered, subject, count, names([]sekisho.IncidentMember{memberOf(n)}), v.inc.Cause.Date)
	default:
		head = fmt.Sprintf(w.joined, subject, count, names(joined), v.inc.Cause.Date)
	}
	if m := mentions(n, v, joined); m != "" {
		head = m + " " + head
	}
	msg := Message{Headline: head, Marker: marker(n.DedupeKey)}
	msg.Details = append(msg.Details, "*"+w.stopped+"*: "+causeSentence(v.inc.Cause, w, loc, v.inc.OpenedAt))
	var reach []string
	for _, m := range v.affected() {
		reach = append(reach, "• "+memberLine(m, c, w))
	}
	if len(reach) > 0 {
		msg.Details = append(msg.Details, "*"+w.reach+"*:\n"+strings.Join(reach, "\n"))
	}
	if imp := impactsOf(v); len(imp) > 0 {
		msg.Details = append(msg.Details, "*"+w.usedBy+"*: "+strings.Join(imp, c.listSep))
	}
	doing := w.doingJob
	switch {
	case !v.inc.Open():
		doing = w.doingDone
	case v.inc.Cause.Kind == sekisho.CauseRun:
		doing = fmt.Sprintf(w.doingRun, esc(marks.Run(v.inc.Cause.Pipeline, v.inc.Cause.Interval(), lang)))
	}
	msg.Details = append(msg.Details, "*"+w.doing+"*: "+doing)
	msg.Details = append(msg.Details, runbookLines(lang, v)...)
	if link := boardLink(publicURL, ""); link != "" {
		msg.Details = append(msg.Details, "*"+w.board+"*: <"+link+">")
	}
	return msg
}

// causeSentence says what stopped: the failed job run or the troubled run.
func causeSentence(cause sekisho.IncidentCause, w *incidentWords, loc *time.Location, at time.Time) string {
	when := fmtTime(at, loc)
	if cause.Kind == sekisho.CauseJob {
		name := cause.Upstream
		if name == "" {
			name = cause.Resource
		}
		return fmt.Sprintf(w.jobSentence, esc(name), esc(cause.Resource), esc(cause.ExternalID), when, colon(cause.Message))
	}
	f, ok := w.runSentence[cause.State]
	if !ok {
		f = w.runSentence["failed"]
	}
	return fmt.Sprintf(f, esc(marks.Run(cause.Pipeline, cause.Interval(), w.lang)), cause.Date, when, colon(cause.Message))
}

// memberOf is the run an incident_updated notice is about, read back from
// its dedupe key (sekisho.ParseNoticeKey), which names the member's
// pipeline and run key; a key of another shape gives the pipeline alone.
func memberOf(n sekisho.Notice) sekisho.IncidentMember {
	if _, s, err := sekisho.ParseNoticeKey(n.DedupeKey); err == nil && s.Pipeline != "" {
		return sekisho.IncidentMember{Pipeline: s.Pipeline, Date: sekisho.KeyDate(s.Date), RunKey: s.Date}
	}
	return sekisho.IncidentMember{Pipeline: n.Facts.Upstream, Date: n.LogicalDate}
}

// memberLine is one affected pipeline: its name, state now and date.
func memberLine(m sekisho.IncidentMember, c *catalog, w *incidentWords) string {
	mk := marks.Of(m.State, m.Kind == sekisho.NoticeDelay)
	state := mk.Emoji + " " + mk.Word(c.lang)
	return esc(marks.Run(m.Pipeline, m.Interval(), c.lang)) + fmt.Sprintf(c.parenFmt, state)
}

// impactsOf lists the visible members' impacts once each, in member order.
func impactsOf(v incidentView) []string {
	seen := map[string]bool{}
	var out []string
	for _, m := range v.visible {
		p := v.cfg.Pipeline(m.Pipeline)
		if p == nil {
			continue
		}
		for _, imp := range p.Impacts {
			if !seen[imp] {
				seen[imp] = true
				out = append(out, esc(imp))
			}
		}
	}
	return out
}

// mentions are the notify.mention of the pipelines an opening or joined
// message is about: somebody has to act.
func mentions(n sekisho.Notice, v incidentView, joined []sekisho.IncidentMember) string {
	if n.Kind != sekisho.NoticeIncidentOpened && n.Facts.Reason != sekisho.IncidentJoined {
		return ""
	}
	var out []string
	for _, m := range v.affected() {
		if n.Kind != sekisho.NoticeIncidentOpened && !slices.ContainsFunc(joined, func(j sekisho.IncidentMember) bool { return j.Pipeline == m.Pipeline }) {
			continue
		}
		if p := v.cfg.Pipeline(m.Pipeline); p != nil && p.Notify.Mention != "" && !slices.Contains(out, p.Notify.Mention) {
			out = append(out, p.Notify.Mention)
		}
	}
	return strings.Join(out, " ")
}

// visibleMembers are the members a message shows: not silenced when the
// notice was written, and wanted by their pipeline's notify.on. It also
// reports whether a hidden member was hidden by a silence.
func visibleMembers(inc sekisho.Incident, cfg *config.Config, sil store.Silences, at time.Time) (out []sekisho.IncidentMember, silenced bool) {
	for _, m := range inc.Members {
		if _, ok := sil.For(m.Pipeline, at); ok {
			silenced = true
			continue
		}
		if p := cfg.Pipeline(m.Pipeline); p != nil && !p.Notify.Wants(m.Kind) {
			continue
		}
		out = append(out, m)
	}
	return out, silenced
}

package web

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/marks"
	"github.com/sekisho-dev/sekisho/status"
	"github.com/sekisho-dev/sekisho/store"
)

// The board's and the API's view of SPEC §17: incidents (one block per
// open incident: cause → affected pipelines → impacts), silences (🔧 on a
// card, with the reason and the end) and a pipeline's incident history.

func init() {
	for lang, words := range incidentTexts {
		for k, v := range words {
			texts[lang][k] = v
		}
	}
}

var incidentTexts = map[string]map[string]string{
	"ja": {
		"incidents":       "発生中の障害",
		"incident_since":  "発生",
		"incident_reach":  "影響を受けているデータフロー",
		"incident_impact": "影響する利用先",
		"incident_cause":  "原因",
		"incident_none":   "このデータフローが関わった障害はありません。",
		"incident_hist":   "障害の履歴",
		"incident_open":   "対応中",
		"incident_done":   "解消",
		"role_cause":      "原因",
		"role_affected":   "影響",
		"silences":        "通知の一時停止（メンテナンス）",
		"silenced":        "通知停止中",
		"until":           "まで",
		"cause_job":       "上流ジョブ %s が失敗しました（%s、実行ID %s）",
		"cause_failed":    "%s が失敗しました",
		"cause_timed_out": "%s がタイムアウトしました",
		"cause_late":      "%s が期限に遅れています",
	},
	"en": {
		"incidents":       "Ongoing incidents",
		"incident_since":  "since",
		"incident_reach":  "Data flows held back",
		"incident_impact": "Used by",
		"incident_cause":  "Cause",
		"incident_none":   "No incident involved this data flow.",
		"incident_hist":   "Incident history",
		"incident_open":   "ongoing",
		"incident_done":   "resolved",
		"role_cause":      "cause",
		"role_affected":   "affected",
		"silences":        "Notices paused (maintenance)",
		"silenced":        "notices paused",
		"until":           "until",
		"cause_job":       "Upstream job %s failed (%s, run %s)",
		"cause_failed":    "%s failed",
		"cause_timed_out": "%s timed out",
		"cause_late":      "%s is late",
	},
}

// causeText says what an incident is about, in the board's language.
func causeText(c sekisho.IncidentCause, lang string) string {
	t := texts[lang]
	if c.Kind == sekisho.CauseJob {
		name := c.Upstream
		if name == "" {
			name = c.Resource
		}
		return fmt.Sprintf(t["cause_job"], name, c.Resource, c.ExternalID)
	}
	key := "cause_" + c.State
	if _, ok := t[key]; !ok {
		key = "cause_failed"
	}
	return fmt.Sprintf(t[key], marks.Run(c.Pipeline, c.Interval(), lang))
}

// intervalsOf names the sub-daily runs of pipeline among an incident's
// members ("12:00 run, 13:00 run"), or "" when it has none: the board's
// incident block shows a pipeline once, and these say which hours.
func intervalsOf(inc sekisho.Incident, pipeline, lang string) string {
	var out []string
	for _, m := range inc.Members {
		if iv := marks.Interval(m.Interval(), lang); m.Pipeline == pipeline && iv != "" {
			out = append(out, iv)
		}
	}
	return strings.Join(out, ", ")
}

// incidentJSON is an incident as GET /api/v1/incidents shows it.
type incidentJSON struct {
	ID         int64                 `json:"id"`
	Key        string                `json:"key"`
	State      string                `json:"state"` // open | resolved
	Cause      sekisho.IncidentCause `json:"cause"`
	OpenedAt   string                `json:"opened_at"`
	ResolvedAt *string               `json:"resolved_at"`
	Members    []memberJSON          `json:"members"`
	// Pipelines are all the incident holds back (status.Board.Reach): its
	// members and the pipelines waiting downstream of them, noticed or not.
	Pipelines []string `json:"pipelines"`
	// Impacts are the impacts of Pipelines.
	Impacts []string `json:"impacts"`
	ackJSON          // SPEC §20
}

type memberJSON struct {
	sekisho.IncidentMember
	Impacts  []string `json:"impacts"`
	Silenced bool     `json:"silenced"`
}

// newIncidentJSON is inc as the API shows it; b is the board of the
// incident's day (incidentBoard), which says what it holds back.
func newIncidentJSON(inc sekisho.Incident, b *status.Board, cfg *config.Config, sil store.Silences, now time.Time) incidentJSON {
	j := incidentJSON{ID: inc.ID, Key: inc.Key, State: "open", Cause: inc.Cause,
		OpenedAt: inc.OpenedAt.UTC().Format(time.RFC3339), Members: []memberJSON{}}
	if !inc.Open() {
		j.State = "resolved"
		at := inc.ResolvedAt.UTC().Format(time.RFC3339)
		j.ResolvedAt = &at
	}
	for _, m := range inc.Members {
		mj := memberJSON{IncidentMember: m, Impacts: []string{}}
		if p := cfg.Pipeline(m.Pipeline); p != nil {
			mj.Impacts = append(mj.Impacts, p.Impacts...)
		}
		_, mj.Silenced = sil.For(m.Pipeline, now)
		j.Members = append(j.Members, mj)
	}
	j.Pipelines, j.Impacts = incidentReach(inc, b)
	if j.Impacts == nil {
		j.Impacts = []string{}
	}
	return j
}

// incidentReach is what inc holds back on board b (status.Board.Reach
// from its members). A resolved incident holds nothing back any more: its
// reach is its members and their impacts, as they were.
func incidentReach(inc sekisho.Incident, b *status.Board) (pipelines, impacts []string) {
	var names []string
	for _, m := range inc.Members {
		if !slices.Contains(names, m.Pipeline) {
			names = append(names, m.Pipeline)
		}
	}
	if !inc.Open() {
		var none status.Board
		for _, n := range names {
			if p := b.Pipeline(n); p != nil {
				none.Pipelines = append(none.Pipelines, p)
			}
		}
		b = &none
	}
	return b.Reach(names...)
}

// incidentBoards builds, once per day, the boards of the incidents' days:
// what an incident holds back is read on its own day's board.
type incidentBoards struct {
	s     *server
	ctx   context.Context
	cfg   *config.Config
	now   time.Time
	today *status.Board // the board already built, if any
	days  map[string]*status.Board
}

// of is the board of inc's day.
func (ib *incidentBoards) of(inc sekisho.Incident) (*status.Board, error) {
	date := inc.Cause.Date
	if ib.today != nil && onDay(ib.today, inc, date) {
		return ib.today, nil
	}
	if b, ok := ib.days[date]; ok {
		return b, nil
	}
	b, err := status.Build(ib.ctx, ib.s.Store, ib.cfg, date, ib.now)
	if err != nil {
		return nil, err
	}
	if ib.days == nil {
		ib.days = map[string]*status.Board{}
	}
	ib.days[date] = b
	return b, nil
}

// onDay reports whether board b shows every member of inc on its day.
func onDay(b *status.Board, inc sekisho.Incident, date string) bool {
	for _, m := range inc.Members {
		if p := b.Pipeline(m.Pipeline); p == nil || p.LogicalDate != date {
			return false
		}
	}
	return true
}

// apiIncidents answers the incidents of a logical date (?date=), or by
// default every open incident and those of the config's today.
func (s *server) apiIncidents(w http.ResponseWriter, r *http.Request) {
	cfg, ok := s.needConfig(w)
	if !ok {
		return
	}
	ctx, now := r.Context(), s.Clock.Now()
	date := r.URL.Query().Get("date")
	if date != "" && !validDate(date) {
		writeError(w, http.StatusBadRequest, "date "+strconv.Quote(date)+" is not a date: use YYYY-MM-DD")
		return
	}
	var list []sekisho.Incident
	var err error
	if date != "" {
		list, err = s.Store.Incidents(ctx, store.IncidentFilter{Date: date})
	} else {
		date = sekisho.DateOf(now, cfg.Location)
		list, err = s.defaultIncidents(ctx, date)
	}
	if err != nil {
		s.internal(w, "incidents", err)
		return
	}
	sil, err := s.silencesAt(ctx, now)
	if err != nil {
		s.internal(w, "incidents", err)
		return
	}
	acks, err := s.Store.Acks(ctx)
	if err != nil {
		s.internal(w, "incidents", err)
		return
	}
	boards := &incidentBoards{s: s, ctx: ctx, cfg: cfg, now: now}
	out := make([]incidentJSON, 0, len(list))
	for _, inc := range list {
		b, err := boards.of(inc)
		if err != nil {
			s.internal(w, "incidents", err)
			return
		}
		j := newIncidentJSON(inc, b, cfg, sil, now)
		j.ackJSON = ackJSONOf(acks, inc.Key)
		out = append(out, j)
	}
	writeJSON(w, http.StatusOK, map[string]any{"date": date, "incidents": out})
}

// defaultIncidents are the open incidents and the day's resolved ones,
// newest first.
func (s *server) defaultIncidents(ctx context.Context, date string) ([]sekisho.Incident, error) {
	open, err := s.Store.Incidents(ctx, store.IncidentFilter{Open: true})
	if err != nil {
		return nil, err
	}
	day, err := s.Store.Incidents(ctx, store.IncidentFilter{Date: date})
	if err != nil {
		return nil, err
	}
	for _, inc := range day {
		if !inc.Open() {
			open = append(open, inc)
		}
	}
	slices.SortStableFunc(open, func(a, b sekisho.Incident) int { return int(b.ID - a.ID) })
	return open, nil
}

// incidentBlock is one open incident on the board.
type incidentBlock struct {
	Cause, Since string
	Ack          string   // "対応中 — 復旧見込み 10:30 (@name)", or empty
	Runbooks     []string // the members' runbooks
	Members      []incidentMemberView
	Impacts      []string
}

type incidentMemberView struct {
	Name, Emoji, Word, Role string
	Intervals               string // a sub-daily pipeline's runs in the incident: "12:00 run, 13:00 run"
	Impacts                 []string
	Silenced                bool
}

// silenceMark is a card's 🔧.
type silenceMark struct {
	Reason, Until string
}

// silenceRow is a silence listed on the board.
type silenceRow struct {
	Pipelines     []string
	Reason, Until string
}

// addIncidents fills the board's incident blocks and silences and marks
// the silenced cards; it returns the pipelines an incident block shows,
// which the per-pipeline affected list leaves out.
func (s *server) addIncidents(ctx context.Context, v *boardView, b *status.Board, cfg *config.Config, lang string, now time.Time) (map[string]bool, error) {
	open, err := s.Store.OpenIncidents(ctx)
	if err != nil {
		return nil, err
	}
	sil, err := s.silencesAt(ctx, now)
	if err != nil {
		return nil, err
	}
	acks, err := s.Store.Acks(ctx)
	if err != nil {
		return nil, err
	}
	shown := map[string]bool{}
	boards := &incidentBoards{s: s, ctx: ctx, cfg: cfg, now: now, today: b}
	for i := len(open) - 1; i >= 0; i-- { // newest first
		inc := open[i]
		day, err := boards.of(inc)
		if err != nil {
			return nil, err
		}
		j := newIncidentJSON(inc, day, cfg, sil, now)
		blk := incidentBlock{Cause: causeText(inc.Cause, lang), Since: s.clockIn(inc.OpenedAt, cfg), Impacts: j.Impacts,
			Ack: ackLine(acks, inc.Key, cfg, lang, now), Runbooks: runbooksOf(inc, cfg)}
		member := map[string]memberJSON{}
		for _, m := range j.Members {
			member[m.Pipeline] = m
		}
		// Every pipeline it holds back, in board order: the members with
		// their role, and those waiting downstream as affected.
		for _, name := range j.Pipelines {
			m, isMember := member[name]
			mv := incidentMemberView{Name: name, Role: texts[lang]["role_affected"], Intervals: intervalsOf(inc, name, lang)}
			if isMember {
				mv.Role, mv.Impacts, mv.Silenced = texts[lang]["role_"+m.Role], m.Impacts, m.Silenced
				mv.Emoji, mv.Word = status.Label(m.State, false, lang)
			} else if cp := cfg.Pipeline(name); cp != nil {
				mv.Impacts = cp.Impacts
				_, mv.Silenced = sil.For(name, now)
			}
			if p := day.Pipeline(name); p != nil && p.LogicalDate == inc.Cause.Date {
				mv.Emoji, mv.Word = status.Label(p.State, p.Late, lang)
			}
			blk.Members = append(blk.Members, mv)
			shown[name] = true
		}
		v.Incidents = append(v.Incidents, blk)
	}
	for i := range v.Pipelines {
		if w, ok := sil.For(v.Pipelines[i].Name, now); ok {
			v.Pipelines[i].Silence = &silenceMark{Reason: w.Reason, Until: s.clockIn(w.End(), cfg)}
		}
	}
	for _, w := range sil {
		if w.ActiveAt(now) {
			v.Silences = append(v.Silences, silenceRow{Pipelines: w.Pipelines, Reason: w.Reason, Until: s.clockIn(w.End(), cfg)})
		}
	}
	return shown, nil
}

// markSilenced puts 🔧 on one card (the pipeline page).
func (s *server) markSilenced(ctx context.Context, c *pipelineCard, cfg *config.Config, now time.Time) error {
	sil, err := s.silencesAt(ctx, now)
	if err != nil {
		return err
	}
	if w, ok := sil.For(c.Name, now); ok {
		c.Silence = &silenceMark{Reason: w.Reason, Until: s.clockIn(w.End(), cfg)}
	}
	return nil
}

func (s *server) clockIn(t time.Time, cfg *config.Config) string {
	return t.In(cfg.Location).Format("2006-01-02 15:04 MST")
}

// incidentRow is one incident in a pipeline's history.
type incidentRow struct {
	Date, Intervals, Cause, Role, Opened, Resolved string
	Open                                           bool
	Others                                         []string
}

const incidentHistory = 30

// incidentRows are the incidents a pipeline was in, newest first.
func (s *server) incidentRows(ctx context.Context, name string, cfg *config.Config, lang string) ([]incidentRow, error) {
	list, err := s.Store.Incidents(ctx, store.IncidentFilter{Pipeline: name, Limit: incidentHistory})
	if err != nil {
		return nil, err
	}
	var out []incidentRow
	for _, inc := range list {
		row := incidentRow{Date: inc.Cause.Date, Cause: causeText(inc.Cause, lang), Opened: s.clockIn(inc.OpenedAt, cfg), Open: inc.Open()}
		if !inc.Open() {
			row.Resolved = s.clockIn(inc.ResolvedAt, cfg)
		}
		for _, m := range inc.Members {
			if m.Pipeline == name {
				row.Role = texts[lang]["role_"+m.Role]
				row.Intervals = intervalsOf(inc, name, lang)
			} else if !slices.Contains(row.Others, m.Pipeline) {
				row.Others = append(row.Others, m.Pipeline)
			}
		}
		out = append(out, row)
	}
	return out, nil
}

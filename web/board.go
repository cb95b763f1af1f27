package web

import (
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/marks"
	"github.com/sekisho-dev/sekisho/slo"
	"github.com/sekisho-dev/sekisho/status"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// pages are parsed once; html/template escapes every config string.
var pages = map[string]*template.Template{}

func init() {
	for _, name := range []string{"board.html", "pipeline.html", "notfound.html", "map.html"} {
		pages[name] = template.Must(template.New(name).Funcs(template.FuncMap{
			"legend": legend,
			"mark":   sign,
			"pct": func(p *float64) string {
				if p == nil {
					return "-"
				}
				return fmt.Sprintf("%.1f%%", *p)
			},
		}).ParseFS(templateFS, "templates/layout.html", "templates/"+name))
	}
}

// signs are the marks the templates show by name ({{mark "silence"}}):
// the pages write no emoji of their own.
var signs = map[string]marks.Mark{"incident": marks.Incident, "resolved": marks.Resolved, "ack": marks.Ack,
	"silence": marks.Silence, "warning": marks.Warning, "runbook": marks.Runbook}

func sign(name string) (string, error) {
	m, ok := signs[name]
	if !ok {
		return "", fmt.Errorf("no mark %q in the templates' signs", name)
	}
	return m.Emoji, nil
}

func staticHandler() http.Handler {
	sub, _ := fs.Sub(staticFS, "static")
	files := http.FileServerFS(sub)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=300")
		files.ServeHTTP(w, r)
	})
}

// page is what every template sees.
type page struct {
	Lang, OtherLang string
	T               map[string]string
	Title           string
	Updated         string
	Refresh         bool
	Board           *boardView
	Pipeline        *pipelineView
	Map             *mapView
	Cluster         *Cluster // the replica that served the page
}

func (s *server) lang(r *http.Request, cfg *config.Config) string {
	switch l := r.URL.Query().Get("lang"); l {
	case "ja", "en":
		return l
	}
	return status.Language(cfg)
}

func newPage(lang string) page {
	other := "en"
	if lang == "en" {
		other = "ja"
	}
	return page{Lang: lang, OtherLang: other, T: texts[lang], Title: texts[lang]["title"]}
}

func (s *server) render(w http.ResponseWriter, code int, name string, p page) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	p.Cluster = s.clusterFooter()
	if err := pages[name].ExecuteTemplate(w, "layout", p); err != nil {
		s.Logger.Error("http: render "+name, "err", err)
	}
}

type boardView struct {
	OK        bool
	Pipelines []pipelineCard
	Affected  []affectedView
	// AffectedMore counts the troubled pipelines past the first
	// affectedShown ("and 9,950 more"), empty when all are listed.
	AffectedMore string
	Queries      *queriesView    // long-running warehouse queries (SPEC §15)
	Incidents    []incidentBlock // one per open incident (incidents.go)
	Silences     []silenceRow
	// TroccoTest is when TROCCO's last test send arrived, empty if never.
	TroccoTest string
	// CalendarWarnings say a calendar's holiday data ends soon (SPEC §18).
	CalendarWarnings []string
	// WatchErrors are the standing watches whose last listing failed.
	WatchErrors []watchError
	// Page of Pages of the cards (boardPage a page), and what the page
	// links say: empty with one page.
	Page, Pages int
	PageText    string
}

// PrevPage and NextPage are the neighbouring pages' numbers, 0 for none.
func (v *boardView) PrevPage() int {
	if v.Page > 1 {
		return v.Page - 1
	}
	return 0
}

func (v *boardView) NextPage() int {
	if v.Page < v.Pages {
		return v.Page + 1
	}
	return 0
}

// boardPage is how many pipeline cards the board shows on one page: at
// 10,000 pipelines one page of every card and its 30 days of history was
// 4-8 s and 260 MB per view (issue 23).
const boardPage = 200

// paginate picks the page of cards the request asks for (?page=N, from 1)
// among n pipelines, and fills the page links; it answers 400 and false
// for a page that is not a number from 1.
func (v *boardView) paginate(w http.ResponseWriter, r *http.Request, n int, lang string) (from, to int, ok bool) {
	v.Page, v.Pages = 1, max(1, (n+boardPage-1)/boardPage)
	if s := r.URL.Query().Get("page"); s != "" {
		p, err := strconv.Atoi(s)
		if err != nil || p < 1 {
			http.Error(w, "page "+strconv.Quote(s)+" is not a page number: use 1 to "+strconv.Itoa(v.Pages), http.StatusBadRequest)
			return 0, 0, false
		}
		v.Page = min(p, v.Pages)
	}
	from, to = (v.Page-1)*boardPage, min(v.Page*boardPage, n)
	if v.Pages > 1 {
		v.PageText = fmt.Sprintf(texts[lang]["page_of"], from+1, to, n)
	}
	return from, to, true
}

type pipelineCard struct {
	Name, Description  string
	Lang               string
	Emoji, Word, Class string
	Summary            string
	Impacts            []string
	Upstreams          []upstreamView
	Timeline           timeline
	SLOPct             *float64
	HasSLO             bool
	Cells              template.HTML // the history row's items (cellItems)
	Strip              []cellView    // a sub-daily pipeline's intervals of the day, one mark each
	Silence            *silenceMark  // 🔧 while a silence holds
	ETA                string        // "見込み 06:25": an open run's projected success (SPEC §21)
	ETALate            bool          // the projection passes the deadline
	Runbook            string        // the pipeline's runbook URL (SPEC §20)
}

type upstreamView struct {
	Name, Emoji, State, Finished, Message, Error string
}

type cellView struct {
	Class, Symbol, Title string
}

// affectedShown is how many troubled pipelines the board page lists
// under "affected data", in board order; the rest are counted ("and N
// more"), and GET /api/v1/status keeps every one. A page listing all of
// 10,000 late pipelines took 0.3-0.4 s and 55 MB to render, 83 ms and
// 13.6 MB with 50 (BenchmarkListings10k "/?late", the cap lifted and
// not), and nobody reads that far down a status page.
const affectedShown = 50

// addAffected lists the troubled pipelines not already shown in an
// incident block (inIncident), the first affectedShown of them with their
// downstreams, and counts the others.
func (v *boardView) addAffected(b *status.Board, lang string, inIncident map[string]bool) {
	more := 0
	for _, p := range b.Pipelines {
		if !p.Troubled() || inIncident[p.Name] {
			continue
		}
		if len(v.Affected) == affectedShown {
			more++
			continue
		}
		e, word := status.Label(p.State, p.Late, lang)
		a := affectedView{Name: p.Name, Emoji: e, Word: word, Summary: p.Summary, Impacts: p.Impacts}
		for _, d := range b.Downstreams(p.Name) {
			de, dw := status.Label(d.State, d.Late, lang)
			a.Downstreams = append(a.Downstreams, affectedDownstream{Name: d.Name, Emoji: de, Word: dw, Impacts: d.Impacts})
		}
		v.Affected = append(v.Affected, a)
	}
	if more > 0 {
		v.AffectedMore = fmt.Sprintf(texts[lang]["affected_more"], more)
	}
}

type affectedView struct {
	Name, Emoji, Word, Summary string
	Impacts                    []string
	Downstreams                []affectedDownstream
}

type affectedDownstream struct {
	Name, Emoji, Word string
	Impacts           []string
}

func stateClass(p *status.Pipeline) string {
	switch {
	case p.State == sekisho.StateFailed || p.State == sekisho.StateTimedOut:
		return "bad"
	case p.State == sekisho.StateBlocked || p.State == sekisho.StateMissed || p.Late:
		return "warn"
	case p.State == sekisho.StateSucceeded:
		return "good"
	case p.State == sekisho.StateSkipped || p.State == sekisho.StateScheduled || p.State == sekisho.StateNoGate ||
		p.State == sekisho.StateHoliday || p.State == sekisho.StateBeforeHistory:
		return "idle"
	}
	return "busy"
}

// legendItem is one entry of the history bar's legend: a mark and every
// word it stands for, so one emoji never has two entries.
type legendItem struct {
	Class, Emoji, Words string
}

// legend is the history bar's legend from the one table of marks: the
// states sharing a mark are one entry ("🚨 失敗・タイムアウト・実行なし").
func legend(lang string) []legendItem {
	ms := make([]marks.Mark, len(slo.LegendCells))
	for i, c := range slo.LegendCells {
		ms[i] = c.Mark()
	}
	var out []legendItem
	for _, e := range marks.Legend(ms, lang) {
		out = append(out, legendItem{Class: "c-" + string(slo.LegendCells[e.First]), Emoji: e.Emoji, Words: e.Words})
	}
	return out
}

func (s *server) board(w http.ResponseWriter, r *http.Request) {
	v := &boardView{}
	var from, to int
	cfg, b, lang, now, ok := s.today(w, r, "board", func(cfg *config.Config, lang string) (int, int, bool) {
		var ok bool
		from, to, ok = v.paginate(w, r, len(cfg.Pipelines), lang)
		return from, to, ok // the cards' ETAs only
	})
	if !ok {
		return
	}
	defer b.Release() // the page is written before it returns
	ctx := r.Context()
	v.OK = b.Overall == status.OverallOK
	// The cards and their 30-day history are of this page's pipelines
	// only; what is in trouble, above them, is of every pipeline.
	shown := cfg.With(cfg.Pipelines[from:to])
	q := slo.Last30(shown, now, "")
	cells, err := slo.Daily(ctx, s.Store, shown, q)
	if err != nil {
		s.internal(w, "board", err)
		return
	}
	rep, err := slo.Compute(ctx, s.Store, shown, q)
	if err != nil {
		s.internal(w, "board", err)
		return
	}
	// The cells come pipeline by pipeline: each one's are a part of the
	// list, not a copy.
	byPipeline := map[string][]slo.Cell{}
	for i := 0; i < len(cells); {
		j := i + 1
		for j < len(cells) && cells[j].Pipeline == cells[i].Pipeline {
			j++
		}
		if name := cells[i].Pipeline; byPipeline[name] == nil {
			byPipeline[name] = cells[i:j:j]
		} else {
			byPipeline[name] = append(byPipeline[name], cells[i:j]...)
		}
		i = j
	}
	pct := map[string]*float64{}
	for _, row := range rep.Pipelines {
		pct[row.Pipeline] = row.SLOPct
	}
	for _, p := range b.Pipelines[from:to] {
		v.Pipelines = append(v.Pipelines, s.card(p, lang, now, byPipeline[p.Name], pct[p.Name], cfg))
	}
	v.Queries = s.longQueries(ctx, cfg, lang, now)
	v.WatchErrors = s.watchErrors(ctx, cfg, lang)
	v.CalendarWarnings = cfg.CalendarWarnings(now)
	if at, err := s.Store.LastEventTest(ctx, "trocco"); err == nil && !at.IsZero() {
		v.TroccoTest = at.In(cfg.Location).Format("2006-01-02 15:04:05 MST")
	}
	inIncident, err := s.addIncidents(ctx, v, b, cfg, lang, now)
	if err != nil {
		s.internal(w, "board", err)
		return
	}
	v.addAffected(b, lang, inIncident)
	pg := newPage(lang)
	pg.Board, pg.Refresh = v, true
	pg.Updated = b.GeneratedAt.Format("2006-01-02 15:04:05 MST")
	s.render(w, http.StatusOK, "board.html", pg)
}

func (s *server) card(p *status.Pipeline, lang string, now time.Time, cells []slo.Cell, pct *float64, cfg *config.Config) pipelineCard {
	e, word := status.Label(p.State, p.Late, lang)
	c := pipelineCard{Name: p.Name, Lang: lang, Description: p.Description, Emoji: e, Word: word, Class: stateClass(p),
		Summary: p.Summary, Impacts: p.Impacts, SLOPct: pct, Timeline: newTimeline(p, now, lang), ETA: p.ETAText(lang)}
	c.ETALate = p.ETA != nil && !p.Deadline.IsZero() && p.ETA.After(p.Deadline)
	if cp := cfg.Pipeline(p.Name); cp != nil {
		c.HasSLO = cp.SLO != nil
		c.Runbook = cp.Runbook
	}
	for _, u := range p.Upstreams {
		m := marks.Job(u.State)
		c.Upstreams = append(c.Upstreams, upstreamView{Name: u.Name, Emoji: m.Emoji, State: m.Word(lang),
			Finished: clockOrEmpty(u.FinishedAt, p), Message: u.Message, Error: u.Error})
	}
	c.Cells = cellItems(cells, lang)
	for _, iv := range p.Intervals {
		e, word := status.Label(iv.State, iv.Late, lang)
		if iv.State == sekisho.StateSucceeded && iv.SLOMet != nil && !*iv.SLOMet {
			// Succeeded past its deadline: 🐢, as the legend and the
			// day cells say, not the ✅ of an interval that met it.
			e, word = marks.Late.Emoji, marks.Late.Word(lang)
		}
		c.Strip = append(c.Strip, cellView{Class: "s-" + string(iv.State), Symbol: e, Title: iv.Time + " " + word})
	}
	return c
}

// cellItems is a card's history row: the <li> of each day's cell, the
// markup the card template wrote for it, each text escaped as
// html/template escapes it (HTMLEscapeString). At 200 cards of 30 days,
// the template's four escaped actions a cell were ~24,000 reflective calls
// and most of a board page's allocations (issue 23).
func cellItems(cells []slo.Cell, lang string) template.HTML {
	// The titles first, so the row is one allocation of its exact size
	// (a growing builder copied ~twice its bytes).
	titles := make([]string, len(cells))
	n := 0
	for i, cell := range cells {
		titles[i] = template.HTMLEscapeString(cellTitle(cell, lang))
		n += len(`<li class="c-" title=""><span></span><span class="sr"></span></li>`) + len(cell.State) + 2*len(titles[i]) +
			len(cell.State.Symbol())
	}
	var b strings.Builder
	b.Grow(n)
	for i, cell := range cells {
		title := titles[i]
		b.WriteString(`<li class="c-`)
		b.WriteString(template.HTMLEscapeString(string(cell.State)))
		b.WriteString(`" title="`)
		b.WriteString(title)
		b.WriteString(`"><span>`)
		b.WriteString(template.HTMLEscapeString(cell.State.Symbol()))
		b.WriteString(`</span><span class="sr">`)
		b.WriteString(title)
		b.WriteString(`</span></li>`)
	}
	return template.HTML(b.String())
}

// cellTitle is the tooltip of a history cell: "2026-11-03: late (06:42, deadline 06:00)".
func cellTitle(c slo.Cell, lang string) string {
	word := c.State.Mark().Word(lang)
	if c.Holiday != "" {
		return fmt.Sprintf("%s: %s (%s)", c.Date, word, c.Holiday)
	}
	if c.FinishedAt.IsZero() {
		return fmt.Sprintf("%s: %s", c.Date, word)
	}
	loc := c.FinishedAt.Location()
	fin := status.Clock(c.FinishedAt, c.Date, loc)
	if c.Deadline.IsZero() {
		return fmt.Sprintf("%s: %s (%s)", c.Date, word, fin)
	}
	dl := status.Clock(c.Deadline, c.Date, loc)
	if lang == "en" {
		return fmt.Sprintf("%s: %s (%s, deadline %s)", c.Date, word, fin, dl)
	}
	return fmt.Sprintf("%s: %s (%s、期限 %s)", c.Date, word, fin, dl)
}

func clockOrEmpty(t time.Time, p *status.Pipeline) string {
	if t.IsZero() {
		return ""
	}
	return status.Clock(t, p.LogicalDate, p.Location)
}

func (s *server) notFoundPage(w http.ResponseWriter, r *http.Request) {
	pg := newPage(s.lang(r, s.cfg()))
	pg.Title = pg.T["notfound"]
	s.render(w, http.StatusNotFound, "notfound.html", pg)
}

// sortRunsNewest keeps the detail page's order stable when dates tie.
func sortRunsNewest(runs []sekisho.Run) {
	sort.SliceStable(runs, func(i, j int) bool { return runs[i].LogicalDate > runs[j].LogicalDate })
}

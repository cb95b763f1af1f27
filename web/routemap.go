package web

import (
	"fmt"
	"html/template"
	"net/http"
	"sort"
	"strings"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/marks"
	"github.com/sekisho-dev/sekisho/status"
)

// The route map (GET /map, SPEC §16): the data flows drawn as railway
// lines, from upstream systems through pipelines to impacts, each station
// coloured by today's state (status.Build, the board's own answer).
//
// Layout: stations stand in columns by dependency depth (upstream systems,
// then pipelines by the length of their longest `type: pipeline` chain,
// then impacts); within a column they are ordered by the barycentre of
// their neighbours, sweeping left and right a few times, which keeps line
// crossings low. Every tie is broken by name, so the same config always
// gives the same map and people learn where their line is.

// Route map geometry, in SVG user units (pixels at scale 1).
const (
	mapColW    = 230
	mapRowH    = 72
	mapMarginX = 24
	mapMarginY = 58
	mapSweeps  = 4
)

type stationKind int

const (
	kindSystem stationKind = iota
	kindPipeline
	kindImpact
)

type station struct {
	id     string // unique: "u:<resource>", "p:<name>", "i:<impact>"
	label  string
	kind   stationKind
	layer  int
	order  float64
	class  string // good, warn, bad, busy, idle
	emoji  string
	word   string
	reason string // why it is in trouble, beside the station
	alert  bool   // troubled, or reached by trouble upstream
	late   bool   // the alert is lateness only: drawn in the late colour, not red
	href   string
	x, y   int
}

type track struct {
	from, to *station
	alert    bool
	late     bool
}

// routeMap is a laid-out map.
type routeMap struct {
	stations []*station
	tracks   []track
	layers   int
	rows     int
}

func (s *server) routeMapPage(w http.ResponseWriter, r *http.Request) {
	cfg, b, lang, _, ok := s.today(w, r, "map", nil)
	if !ok {
		return
	}
	defer b.Release()
	m := layoutMap(cfg, b, lang)
	pg := newPage(lang)
	pg.Title = pg.T["map"]
	pg.Refresh = true
	pg.Updated = b.GeneratedAt.Format("2006-01-02 15:04:05 MST")
	pg.Map = &mapView{SVG: m.svg(lang), OK: b.Overall == status.OverallOK}
	s.render(w, http.StatusOK, "map.html", pg)
}

// mapView is what map.html shows.
type mapView struct {
	SVG template.HTML
	OK  bool
}

// layoutMap builds the stations and tracks of cfg's pipelines with the
// states of board b, and places them.
func layoutMap(cfg *config.Config, b *status.Board, lang string) *routeMap {
	m := &routeMap{}
	byID := map[string]*station{}
	add := func(st *station) *station {
		if old := byID[st.id]; old != nil {
			return old
		}
		byID[st.id] = st
		m.stations = append(m.stations, st)
		return st
	}
	seenTrack := map[[2]string]bool{}
	link := func(a, b *station) {
		k := [2]string{a.id, b.id}
		if !seenTrack[k] {
			seenTrack[k] = true
			m.tracks = append(m.tracks, track{from: a, to: b})
		}
	}
	// Pipelines first, so depth is known before impacts are placed.
	pipes := map[string]*station{}
	for _, p := range cfg.Pipelines {
		st := &station{id: "p:" + p.Name, label: p.Name, kind: kindPipeline, href: "/pipelines/" + p.Name + "?lang=" + lang}
		if bp := b.Pipeline(p.Name); bp != nil {
			st.class = stateClass(bp)
			st.emoji, st.word = status.Label(bp.State, bp.Late, lang)
			if bp.Holiday != "" {
				st.word += " " + bp.Holiday // ⛱ 休日 天皇誕生日
			}
			if eta := bp.ETAText(lang); eta != "" {
				st.word += " · " + eta // each station's projected success (SPEC §21)
			}
			if bp.Troubled() {
				st.reason = bp.Summary
			}
		} else {
			st.class = "idle"
			st.emoji, _ = status.Label(sekisho.StateScheduled, false, lang)
		}
		pipes[p.Name] = add(st)
	}
	depth := pipelineDepths(cfg)
	maxDepth := 0
	for _, p := range cfg.Pipelines {
		st := pipes[p.Name]
		st.layer = 1 + depth[p.Name]
		if st.layer > maxDepth {
			maxDepth = st.layer
		}
	}
	for _, p := range cfg.Pipelines {
		to := pipes[p.Name]
		var ups []status.Upstream
		if bp := b.Pipeline(p.Name); bp != nil {
			ups = bp.Upstreams
		}
		for _, u := range p.Upstreams {
			if u.Type == config.TypePipeline {
				if from := pipes[u.Pipeline]; from != nil {
					link(from, to)
				}
				continue
			}
			res := resourceLabel(u)
			sys := add(&station{id: "u:" + res, label: res, kind: kindSystem, class: "idle", emoji: marks.Job(sekisho.JobPending).Emoji})
			for _, o := range ups {
				if o.Name == u.Name {
					mergeSystemState(sys, o, lang)
				}
			}
			link(sys, to)
		}
	}
	for _, p := range cfg.Pipelines {
		for _, imp := range p.Impacts {
			st := add(&station{id: "i:" + imp, label: imp, kind: kindImpact, layer: maxDepth + 1, class: "good", emoji: marks.Impact.Emoji})
			link(pipes[p.Name], st)
		}
	}
	m.layers = maxDepth + 2
	markReach(m, b)
	order(m)
	return m
}

// pipelineDepths is each pipeline's longest chain of `type: pipeline`
// upstreams; a cycle (refused by validate) is cut.
func pipelineDepths(cfg *config.Config) map[string]int {
	ups := map[string][]string{}
	for _, p := range cfg.Pipelines {
		for _, u := range p.Upstreams {
			if u.Type == config.TypePipeline && cfg.Pipeline(u.Pipeline) != nil {
				ups[p.Name] = append(ups[p.Name], u.Pipeline)
			}
		}
	}
	depth := map[string]int{}
	visiting := map[string]bool{}
	var visit func(string) int
	visit = func(n string) int {
		if d, ok := depth[n]; ok {
			return d
		}
		if visiting[n] {
			return 0
		}
		visiting[n] = true
		d := 0
		for _, u := range ups[n] {
			if v := visit(u) + 1; v > d {
				d = v
			}
		}
		visiting[n] = false
		depth[n] = d
		return d
	}
	for _, p := range cfg.Pipelines {
		visit(p.Name)
	}
	return depth
}

func resourceLabel(u config.Upstream) string {
	switch u.Type {
	case config.TypeGlueJob:
		return "Glue " + u.JobName
	case config.TypeGlueWorkflow:
		return "Glue workflow " + u.WorkflowName
	case config.TypeTroccoJob:
		return fmt.Sprintf("TROCCO job %d", u.JobDefinitionID)
	case config.TypeTroccoWorkflow:
		return fmt.Sprintf("TROCCO workflow %d", u.PipelineDefinitionID)
	case config.TypeAirflowDag:
		return "Airflow " + u.Connection + "/" + u.DagID
	}
	return u.Type + " " + u.Name
}

// mergeSystemState keeps the worst state seen of an upstream system today.
func mergeSystemState(st *station, o status.Upstream, lang string) {
	rank := map[string]int{"idle": 0, "good": 1, "busy": 2, "bad": 3}
	class := "idle"
	switch o.State {
	case sekisho.JobSucceeded:
		class = "good"
	case sekisho.JobRunning:
		class = "busy"
	case sekisho.JobFailed:
		class = "bad"
	}
	if rank[class] < rank[st.class] {
		return
	}
	m := marks.Job(o.State)
	st.class, st.emoji, st.word = class, m.Emoji, m.Word(lang)
	if class == "bad" {
		st.reason = o.Message
		if st.reason == "" {
			st.reason = o.ExternalID
		}
	}
}

// markReach marks what trouble holds back, as the board and the incidents
// say it (status.Board.Reach): the troubled pipelines, those waiting
// downstream of them, their impacts, and the tracks between them, with the
// tracks from a failed upstream system into them. What only lateness
// reaches is marked late, drawn in the late colour rather than red.
func markReach(m *routeMap, b *status.Board) {
	var failed, late []string
	for _, p := range b.Troubled() {
		if p.State.Open() && p.Late {
			late = append(late, p.Name)
		} else {
			failed = append(failed, p.Name)
		}
	}
	byID := map[string]*station{}
	for _, st := range m.stations {
		byID[st.id] = st
	}
	mark := func(roots []string, isLate bool) {
		pipes, impacts := b.Reach(roots...)
		for _, name := range pipes {
			if st := byID["p:"+name]; st != nil && !st.alert {
				st.alert, st.late = true, isLate
			}
		}
		for _, imp := range impacts {
			if st := byID["i:"+imp]; st != nil && !st.alert {
				st.alert, st.late = true, isLate
				st.class = map[bool]string{false: "bad", true: "warn"}[isLate]
			}
		}
	}
	mark(failed, false) // red wins over late where both reach
	mark(late, true)
	for i, t := range m.tracks {
		from := t.from.alert || t.from.kind == kindSystem && t.from.class == "bad"
		if from && t.to.alert {
			m.tracks[i].alert, m.tracks[i].late = true, t.to.late
		}
	}
}

// order places stations in their columns by barycentre sweeps.
func order(m *routeMap) {
	cols := make([][]*station, m.layers)
	for _, st := range m.stations {
		cols[st.layer] = append(cols[st.layer], st)
	}
	for _, c := range cols {
		sort.SliceStable(c, func(i, j int) bool { return c[i].label < c[j].label })
		for i, st := range c {
			st.order = float64(i)
		}
	}
	in, out := map[*station][]*station{}, map[*station][]*station{}
	for _, t := range m.tracks {
		out[t.from] = append(out[t.from], t.to)
		in[t.to] = append(in[t.to], t.from)
	}
	sweep := func(c []*station, nb map[*station][]*station) {
		bary := map[*station]float64{}
		for _, st := range c {
			if len(nb[st]) == 0 {
				bary[st] = st.order
				continue
			}
			sum := 0.0
			for _, n := range nb[st] {
				sum += n.order
			}
			bary[st] = sum / float64(len(nb[st]))
		}
		sort.SliceStable(c, func(i, j int) bool {
			if bary[c[i]] != bary[c[j]] {
				return bary[c[i]] < bary[c[j]]
			}
			return c[i].label < c[j].label
		})
		for i, st := range c {
			st.order = float64(i)
		}
	}
	for range mapSweeps {
		for l := 1; l < len(cols); l++ {
			sweep(cols[l], in)
		}
		for l := len(cols) - 2; l >= 0; l-- {
			sweep(cols[l], out)
		}
	}
	for l, c := range cols {
		if len(c) > m.rows {
			m.rows = len(c)
		}
		for i, st := range c {
			st.x = mapMarginX + l*mapColW
			st.y = mapMarginY + i*mapRowH
		}
	}
}

// crossings counts pairs of tracks between the same two columns that
// cross: what the ordering keeps low (tests and benchmarks read it).
func (m *routeMap) crossings() int {
	n := 0
	for i, a := range m.tracks {
		for _, b := range m.tracks[i+1:] {
			if a.from.layer != b.from.layer || a.to.layer != b.to.layer {
				continue
			}
			if (a.from.y-b.from.y)*(a.to.y-b.to.y) < 0 {
				n++
			}
		}
	}
	return n
}

// svg draws the map. Text is escaped; colours come from classes in
// style.css (the CSP allows no inline style).
func (m *routeMap) svg(lang string) template.HTML {
	// The last column needs room only for its labels.
	w := mapMarginX*2 + (m.layers-1)*mapColW + mapLabelW - 8
	h := mapMarginY + m.rows*mapRowH + 10
	var sb strings.Builder
	fmt.Fprintf(&sb, `<svg class="routemap" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="%d" height="%d" role="img" aria-labelledby="map-title">`, w, h, w, h)
	fmt.Fprintf(&sb, `<title id="map-title">%s</title>`, esc(texts[lang]["map"]))
	heads := []string{texts[lang]["map_systems"], texts[lang]["map_flows"], texts[lang]["map_impacts"]}
	for l := 0; l < m.layers; l++ {
		head := heads[1]
		switch l {
		case 0:
			head = heads[0]
		case m.layers - 1:
			head = heads[2]
		}
		fmt.Fprintf(&sb, `<text class="rm-head" x="%d" y="18">%s</text>`, mapMarginX+l*mapColW-8, esc(head))
	}
	// Normal tracks first, alert tracks on top.
	for pass := 0; pass < 2; pass++ {
		for _, t := range m.tracks {
			if t.alert != (pass == 1) {
				continue
			}
			cls := "rm-track"
			if t.alert {
				cls += " rm-alert"
			}
			if t.late {
				cls += " rm-late"
			}
			x1, y1, x2, y2 := t.from.x, t.from.y, t.to.x, t.to.y
			mx := (x1 + x2) / 2
			fmt.Fprintf(&sb, `<path class="%s" d="M%d %dC%d %d %d %d %d %d"/>`, cls, x1, y1, mx, y1, mx, y2, x2, y2)
		}
	}
	for _, st := range m.stations {
		kind := [...]string{"system", "pipeline", "impact"}[st.kind]
		cls := "rm-station rm-" + kind + " s-" + st.class
		if st.alert {
			cls += " rm-reached"
			if st.late {
				cls += " rm-late"
			}
		}
		fmt.Fprintf(&sb, `<g class="%s" data-kind="%s" data-name="%s">`, cls, kind, esc(st.label))
		// The whole name and state on hover (and to screen readers), as
		// the labels may be cut to fit their column.
		full := st.emoji + " " + st.label
		sub := st.word
		subCls := "rm-word"
		if st.reason != "" {
			sub, subCls = st.word+": "+st.reason, "rm-reason"
		}
		if sub != "" {
			full += " — " + sub
		}
		fmt.Fprintf(&sb, `<title>%s</title>`, esc(full))
		if st.href != "" {
			fmt.Fprintf(&sb, `<a href="%s">`, esc(st.href))
		}
		if st.kind == kindImpact {
			fmt.Fprintf(&sb, `<rect class="rm-dot" x="%d" y="%d" width="16" height="16" rx="3"/>`, st.x-8, st.y-8)
		} else {
			fmt.Fprintf(&sb, `<circle class="rm-dot" cx="%d" cy="%d" r="9"/>`, st.x, st.y)
		}
		name := fitLines(st.emoji+" "+st.label, mapLabelW, mapName, 1)
		fmt.Fprintf(&sb, `<text class="rm-name" x="%d" y="%d">%s</text>`, st.x-8, st.y-15, esc(name[0]))
		if sub != "" {
			fmt.Fprintf(&sb, `<text class="%s" x="%d" y="%d">`, subCls, st.x-8, st.y+25)
			for i, l := range fitLines(sub, mapLabelW, mapSub, 2) {
				fmt.Fprintf(&sb, `<tspan x="%d" dy="%d">%s</tspan>`, st.x-8, i*13, esc(l))
			}
			sb.WriteString(`</text>`)
		}
		if st.href != "" {
			sb.WriteString(`</a>`)
		}
		sb.WriteString(`</g>`)
	}
	sb.WriteString(`</svg>`)
	return template.HTML(sb.String())
}

// Label room: a column's width less the gap to the next one's labels.
const mapLabelW = mapColW - 20

// glyphWidths are a font size's widths in pixels of a narrow character and
// of a wide one (East Asian, emoji: two cells by marks.Width),
// generous so no font overflows the estimate.
type glyphWidths struct{ narrow, wide float64 }

var (
	mapName = glyphWidths{8.2, 14.5} // 13px bold
	mapSub  = glyphWidths{6.9, 12}   // 11px
)

func (g glyphWidths) of(r rune) float64 {
	if marks.Width(string(r)) > 1 {
		return g.wide
	}
	return g.narrow
}

// fitLines breaks s into at most n lines no wider than w pixels, breaking
// at spaces where it can; what does not fit is cut with an ellipsis.
func fitLines(s string, w float64, g glyphWidths, n int) []string {
	var lines []string
	rest := []rune(s)
	for len(rest) > 0 && len(lines) < n {
		width, cut, lastSpace := 0.0, len(rest), -1
		for i, r := range rest {
			if width+g.of(r) > w {
				cut = i
				break
			}
			width += g.of(r)
			if r == ' ' {
				lastSpace = i
			}
		}
		if cut < len(rest) && len(lines) == n-1 {
			// The last line: cut with an ellipsis.
			for cut > 0 && width+g.of('…') > w {
				cut--
				width -= g.of(rest[cut])
			}
			lines = append(lines, strings.TrimRight(string(rest[:cut]), " ")+"…")
			return lines
		}
		if cut < len(rest) && lastSpace > 0 {
			cut = lastSpace + 1
		}
		lines = append(lines, strings.TrimRight(string(rest[:cut]), " "))
		rest = rest[cut:]
	}
	return lines
}

func esc(s string) string { return template.HTMLEscapeString(s) }

package web

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/slo"
	"github.com/sekisho-dev/sekisho/status"
	"github.com/sekisho-dev/sekisho/store"
)

type pipelineView struct {
	Card      pipelineCard
	Chart     chart
	Values    []valueChart // valuechart.go: data checks against their bands
	Runs      []runView
	Incidents []incidentRow // incidents.go
}

type runView struct {
	Date, Emoji, Word, Summary string
	Attempt                    int
	Gate, Triggered, Finished  string
	ExternalID, Message        string
	Transitions                []transitionView
	Observations               []observationView
}

type transitionView struct {
	Attempt        int
	At, From, To   string
	Reason, Detail string
}

type observationView struct {
	At, Upstream, State, ExternalID, Message, Error string
}

const recentRuns = 14

func (s *server) pipelinePage(w http.ResponseWriter, r *http.Request) {
	cfg, ok := s.needConfig(w)
	if !ok {
		return
	}
	name := r.PathValue("name")
	p := cfg.Pipeline(name)
	if p == nil {
		s.notFoundPage(w, r)
		return
	}
	ctx, now, lang := r.Context(), s.Clock.Now(), s.lang(r, cfg)
	loc := p.Location
	today, err := status.ForPipeline(ctx, s.Store, cfg, name, sekisho.DateOf(now, loc), now)
	if err != nil {
		s.internal(w, "pipeline page", err)
		return
	}
	today.Summarize(lang, now)
	q := slo.Last30(cfg, now, name)
	cells, err := slo.Daily(ctx, s.Store, cfg, q)
	if err != nil {
		s.internal(w, "pipeline page", err)
		return
	}
	rep, err := slo.Compute(ctx, s.Store, cfg, q)
	if err != nil {
		s.internal(w, "pipeline page", err)
		return
	}
	var pct *float64
	if len(rep.Pipelines) == 1 {
		pct = rep.Pipelines[0].SLOPct
	}
	v := &pipelineView{Card: s.card(today, lang, now, cells, pct, cfg), Chart: newChart(cells, lang)}
	if err := s.markSilenced(ctx, &v.Card, cfg, now); err != nil {
		s.internal(w, "pipeline page", err)
		return
	}
	var todayRun *sekisho.Run
	if run, err := s.Store.Run(ctx, name, sekisho.DateOf(now, loc)); err == nil {
		todayRun = &run
	}
	if v.Values, err = valueCharts(ctx, s.Store, p, sekisho.DateOf(now, loc), todayRun); err != nil {
		s.internal(w, "pipeline page", err)
		return
	}
	if v.Incidents, err = s.incidentRows(ctx, name, cfg, lang); err != nil {
		s.internal(w, "pipeline page", err)
		return
	}
	// A sub-daily pipeline's list holds at least a day of its runs.
	runs, err := s.Store.Runs(ctx, store.RunFilter{Pipeline: name, Limit: max(recentRuns, len(today.Intervals))})
	if err != nil {
		s.internal(w, "pipeline page", err)
		return
	}
	sortRunsNewest(runs)
	for _, run := range runs {
		rv, err := s.runView(r, run, lang, loc)
		if err != nil {
			s.internal(w, "pipeline page", err)
			return
		}
		v.Runs = append(v.Runs, rv)
	}
	pg := newPage(lang)
	pg.Title = name + " — " + pg.T["title"]
	pg.Pipeline, pg.Refresh = v, true
	pg.Updated = now.In(loc).Format("2006-01-02 15:04:05 MST")
	s.render(w, http.StatusOK, "pipeline.html", pg)
}

func (s *server) runView(r *http.Request, run sekisho.Run, lang string, loc *time.Location) (runView, error) {
	late := slo.JudgeRun(run, s.Clock.Now()).Late()
	e, word := status.Label(run.State, late, lang)
	clock := func(t time.Time) string { return status.Clock(t, run.LogicalDate, loc) }
	rv := runView{Date: run.Key, Emoji: e, Word: word, Attempt: run.Attempt, Gate: clock(run.GateAt),
		Triggered: clock(run.TriggeredAt), Finished: clock(run.FinishedAt), ExternalID: run.ExternalID, Message: run.Message}
	d, err := s.runDetail(r, run)
	if err != nil {
		return rv, err
	}
	ts, _ := s.Store.Transitions(r.Context(), run.ID)
	for _, t := range ts {
		detail := ""
		if len(t.Detail) > 0 {
			b, _ := json.Marshal(t.Detail)
			detail = string(b)
		}
		rv.Transitions = append(rv.Transitions, transitionView{Attempt: t.Attempt, At: clock(t.At), From: string(t.From),
			To: string(t.To), Reason: t.Reason, Detail: detail})
	}
	for _, o := range d.Observations {
		at := ""
		if o.ObservedAt != nil {
			if t, err := time.Parse(time.RFC3339, *o.ObservedAt); err == nil {
				at = clock(t)
			}
		}
		rv.Observations = append(rv.Observations, observationView{At: at, Upstream: o.Upstream, State: o.State,
			ExternalID: o.ExternalID, Message: o.Message, Error: o.Error})
	}
	return rv, nil
}

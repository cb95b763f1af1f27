package web

import (
	"testing"
	"time"

	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/slo"
	"github.com/sekisho-dev/sekisho/status"
)

func glueUp(job string) config.Upstream {
	return config.Upstream{Name: job, Type: config.TypeGlueJob, JobName: job}
}

func chain(name string, ups ...config.Upstream) *config.Pipeline {
	return &config.Pipeline{Name: name, Upstreams: ups}
}

// Name order alone would cross every line here; the barycentre sweeps
// untangle them, and the result does not depend on the order of the file.
func TestRouteMapLayoutKeepsCrossingsLow(t *testing.T) {
	pipes := func() []*config.Pipeline {
		return []*config.Pipeline{
			chain("p1", glueUp("z")), chain("p2", glueUp("y")), chain("p3", glueUp("x")),
			chain("q1", config.Upstream{Name: "u", Type: config.TypePipeline, Pipeline: "p3"}),
			chain("q2", config.Upstream{Name: "u", Type: config.TypePipeline, Pipeline: "p1"}),
		}
	}
	cfg := &config.Config{Pipelines: pipes()}
	m := layoutMap(cfg, &status.Board{}, "en")
	if got := m.crossings(); got != 0 {
		t.Errorf("%d crossings, want 0", got)
	}
	if m.layers != 4 { // systems, p*, q*, impacts
		t.Errorf("%d columns, want 4", m.layers)
	}
	reversed := pipes()
	for i, j := 0, len(reversed)-1; i < j; i, j = i+1, j-1 {
		reversed[i], reversed[j] = reversed[j], reversed[i]
	}
	again := layoutMap(&config.Config{Pipelines: reversed}, &status.Board{}, "en")
	at := map[string][2]int{}
	for _, st := range m.stations {
		at[st.id] = [2]int{st.x, st.y}
	}
	for _, st := range again.stations {
		if at[st.id] != [2]int{st.x, st.y} {
			t.Errorf("%s moved with the order of the file: %v, then %v", st.id, at[st.id], [2]int{st.x, st.y})
		}
	}
}

// A finish at 07:50 is drawn inside the chart, its dot clear of the
// bottom edge.
func TestChartKeepsLateFinishesInside(t *testing.T) {
	jst := time.FixedZone("JST", 9*3600)
	at := func(hm string) time.Time {
		v, _ := time.ParseInLocation("2006-01-02 15:04", "2026-11-03 "+hm, jst)
		return v
	}
	c := newChart([]slo.Cell{{Date: "2026-11-03", State: slo.CellLate, GateAt: at("02:00"), Deadline: at("06:00"),
		FinishedAt: at("07:50")}}, "ja")
	if len(c.Bars) != 1 {
		t.Fatalf("bars %+v", c.Bars)
	}
	const dotR = 4
	if cy := c.Bars[0].CY; cy+dotR > plotB-2 || cy-dotR < plotT {
		t.Errorf("the 07:50 finish dot at y=%v (r=%d) touches the plot's edges %v..%v", cy, dotR, plotT, plotB)
	}
}

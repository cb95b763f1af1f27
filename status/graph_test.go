package status

import (
	"slices"
	"testing"

	"github.com/sekisho-dev/sekisho"
)

// TestReach: what a failure holds back is itself, whatever waits
// downstream of it (noticed or not), and their impacts; a pipeline that
// has finished, or that does not wait on it, is not held back.
func TestReach(t *testing.T) {
	p := func(name string, state sekisho.State, impacts []string, ups ...string) *Pipeline {
		return &Pipeline{Name: name, State: state, Impacts: impacts, pipelineUpstreams: ups}
	}
	// Board order is config order, not the chain's: reverse_etl comes
	// before kant, which it waits on.
	b := &Board{Pipelines: []*Pipeline{
		p("reverse_etl", sekisho.StateWaiting, []string{"Service dashboard"}, "kant"),
		p("ads", sekisho.StateFailed, []string{"Ads report"}),
		p("kant", sekisho.StateBlocked, []string{"KPI board", "Ads report"}, "ads"),
		p("side", sekisho.StateSucceeded, []string{"Side board"}, "ads"),
		p("other", sekisho.StateWaiting, []string{"Other board"}),
	}}
	tests := []struct {
		name               string
		roots              []string
		pipelines, impacts []string
	}{
		{"a failure and all that waits on it", []string{"ads"},
			[]string{"reverse_etl", "ads", "kant"}, []string{"Service dashboard", "Ads report", "KPI board"}},
		{"members given twice", []string{"kant", "ads"},
			[]string{"reverse_etl", "ads", "kant"}, []string{"Service dashboard", "Ads report", "KPI board"}},
		{"a middle link", []string{"kant"}, []string{"reverse_etl", "kant"}, []string{"Service dashboard", "KPI board", "Ads report"}},
		{"nothing", nil, nil, nil},
		{"a root not on the board", []string{"gone"}, []string{"gone"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ps, imps := b.Reach(tt.roots...)
			if !slices.Equal(ps, tt.pipelines) || !slices.Equal(imps, tt.impacts) {
				t.Errorf("Reach(%v) = %v, %v\nwant %v, %v", tt.roots, ps, imps, tt.pipelines, tt.impacts)
			}
		})
	}
}

package status

import (
	"github.com/sekisho-dev/sekisho"
)

// Reach is what trouble at roots holds back on the board, the one answer
// the incident block, the cards, the route map and GET /api/v1/incidents
// give: the roots themselves, every pipeline downstream of one through
// `type: pipeline` upstreams that has not finished (a pipeline waiting on
// a failed one is affected whether or not it has sent a notice yet), and
// the impacts (dashboards, reports) of them all. Both lists are in board
// order, impacts in the order they are first met; a root not on the board
// counts with no impacts of its own.
func (b *Board) Reach(roots ...string) (pipelines, impacts []string) {
	in := map[string]bool{}
	for _, r := range roots {
		in[r] = true
	}
	// Downstream closure: repeat until no pipeline joins (the board is in
	// config order, not topological order; a cycle cannot loop).
	for grew := true; grew; {
		grew = false
		for _, p := range b.Pipelines {
			if in[p.Name] || p.State == sekisho.StateSucceeded || p.State == sekisho.StateSkipped {
				continue
			}
			for _, u := range p.pipelineUpstreams {
				if in[u] {
					in[p.Name], grew = true, true
					break
				}
			}
		}
	}
	seenImpact := map[string]bool{}
	for _, p := range b.Pipelines {
		if !in[p.Name] {
			continue
		}
		pipelines = append(pipelines, p.Name)
		delete(in, p.Name)
		for _, imp := range p.Impacts {
			if !seenImpact[imp] {
				seenImpact[imp] = true
				impacts = append(impacts, imp)
			}
		}
	}
	for _, r := range roots { // not on this board (another day's run)
		if in[r] {
			pipelines = append(pipelines, r)
			delete(in, r)
		}
	}
	return pipelines, impacts
}

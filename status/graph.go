package status

import (
	"sort"

	"github.com/sekisho-dev/sekisho"
)

// linkAffected fills AffectedBy: the troubled pipelines reachable upstream
// through `type: pipeline` upstreams, transitively. A cycle (refused by
// validate, but a board must not hang on a bad file) is cut by the visited set.
func linkAffected(b *Board) {
	troubled := false
	for _, p := range b.Pipelines {
		troubled = troubled || p.Troubled()
	}
	b.downstreams = map[string][]*Pipeline{}
	if !troubled {
		return // nothing to reach: every AffectedBy stays empty
	}
	byName := make(map[string]*Pipeline, len(b.Pipelines))
	for _, p := range b.Pipelines {
		byName[p.Name] = p
	}
	for _, p := range b.Pipelines {
		if len(p.pipelineUpstreams) == 0 {
			continue
		}
		seen := map[string]bool{p.Name: true}
		stack := append([]string{}, p.pipelineUpstreams...)
		var hit []string
		for len(stack) > 0 {
			name := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if seen[name] {
				continue
			}
			seen[name] = true
			up := byName[name]
			if up == nil {
				continue
			}
			if up.Troubled() {
				hit = append(hit, name)
			}
			stack = append(stack, up.pipelineUpstreams...)
		}
		sort.Strings(hit)
		p.AffectedBy = append([]string{}, hit...)
		for _, a := range p.AffectedBy {
			b.downstreams[a] = append(b.downstreams[a], p)
		}
	}
}

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

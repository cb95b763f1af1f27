package status

import "sort"

// linkAffected fills AffectedBy: the troubled pipelines reachable upstream
// through `type: pipeline` upstreams, transitively. A cycle (refused by
// validate, but a board must not hang on a bad file) is cut by the visited set.
func linkAffected(b *Board) {
	byName := make(map[string]*Pipeline, len(b.Pipelines))
	for _, p := range b.Pipelines {
		byName[p.Name] = p
	}
	for _, p := range b.Pipelines {
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
	}
}

package config

import (
	"fmt"
	"slices"
	"strings"

	"github.com/sekisho-dev/sekisho/condition"
)

// Graph is the dependency graph of pipelines through type: pipeline
// upstreams. The board uses it to list which flows a failure reaches.
type Graph struct {
	up   map[string][]string // pipeline -> pipelines it waits on
	down map[string][]string // pipeline -> pipelines waiting on it
}

// Graph builds the dependency graph of c's pipelines.
func (c *Config) Graph() *Graph {
	g := &Graph{up: map[string][]string{}, down: map[string][]string{}}
	for _, p := range c.Pipelines {
		for _, u := range p.Upstreams {
			if u.Type == TypePipeline && u.Pipeline != "" {
				if !slices.Contains(g.up[p.Name], u.Pipeline) {
					g.up[p.Name] = append(g.up[p.Name], u.Pipeline)
					g.down[u.Pipeline] = append(g.down[u.Pipeline], p.Name)
				}
			}
		}
	}
	return g
}

// Downstreams returns, sorted, every pipeline that waits on name directly or
// through other pipelines: what a failure of name reaches.
func (g *Graph) Downstreams(name string) []string { return reach(g.down, name) }

// Upstreams returns, sorted, every pipeline name waits on directly or
// through other pipelines: where a delay of name may come from.
func (g *Graph) Upstreams(name string) []string { return reach(g.up, name) }

// Downstreams is c.Graph().Downstreams(name).
func (c *Config) Downstreams(name string) []string { return c.Graph().Downstreams(name) }

// Upstreams is c.Graph().Upstreams(name).
func (c *Config) Upstreams(name string) []string { return c.Graph().Upstreams(name) }

func reach(edges map[string][]string, from string) []string {
	seen := map[string]bool{from: true}
	stack := []string{from}
	var out []string
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, m := range edges[n] {
			if !seen[m] {
				seen[m] = true
				out = append(out, m)
				stack = append(stack, m)
			}
		}
	}
	slices.Sort(out)
	return out
}

// checkGraph checks what spans pipelines: unique names, type: pipeline
// upstreams naming a real pipeline, and no dependency cycles.
func (d *decoder) checkGraph(cfg *Config, metas []*pipelineMeta) {
	first := map[string]int{}
	var names []string
	for i, m := range metas {
		name := cfg.Pipelines[i].Name
		if name == "" {
			continue
		}
		if line, dup := first[name]; dup {
			d.fail(m.name, "duplicate pipeline name %q (first at line %d); pipeline names are unique", name, line)
			continue
		}
		first[name] = m.name.at.Line
		names = append(names, name)
	}
	edges := map[string][]pipelineRef{}
	for i, m := range metas {
		from := cfg.Pipelines[i].Name
		for _, r := range m.refs {
			if _, ok := first[r.to]; !ok {
				msg := fmt.Sprintf("unknown pipeline %q", r.to)
				if s := condition.Suggest(r.to, names); s != "" {
					msg += fmt.Sprintf(" (did you mean %q?)", s)
				}
				d.fail(r.v, "%s", msg)
				continue
			}
			if _, dup := first[from]; dup && from != "" {
				edges[from] = append(edges[from], r)
			}
		}
	}
	// Depth-first search; a grey node met again closes a cycle. Each cycle
	// is reported once, starting from its smallest name.
	const white, grey, black = 0, 1, 2
	color := map[string]int{}
	var stack []string
	reported := map[string]bool{}
	var visit func(n string)
	visit = func(n string) {
		color[n] = grey
		stack = append(stack, n)
		for _, r := range edges[n] {
			switch color[r.to] {
			case white:
				visit(r.to)
			case grey:
				i := slices.Index(stack, r.to)
				cycle := slices.Clone(stack[i:])
				k := slices.Index(cycle, slices.Min(cycle))
				cycle = append(cycle[k:], cycle[:k]...)
				key := strings.Join(cycle, " -> ")
				if !reported[key] {
					reported[key] = true
					at := r
					for _, e := range edges[cycle[0]] {
						if len(cycle) > 1 && e.to == cycle[1] || len(cycle) == 1 && e.to == cycle[0] {
							at = e
							break
						}
					}
					d.fail(at.v, "dependency cycle %s -> %s; a pipeline cannot wait on itself", key, cycle[0])
				}
			}
		}
		stack = stack[:len(stack)-1]
		color[n] = black
	}
	for _, n := range names {
		if color[n] == white {
			visit(n)
		}
	}
}

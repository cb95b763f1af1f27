package config

import "testing"

func TestUpstreamTarget(t *testing.T) {
	p := &Pipeline{Upstreams: []Upstream{
		{Name: "hegel_export", Type: TypeGlueJob, JobName: "hegel-rds-export"},
		{Name: "kant", Type: TypePipeline, Pipeline: "kant_daily"},
	}}
	for _, c := range []struct{ name, resource, pipeline string }{
		{"hegel_export", "glue_job:hegel-rds-export", ""},
		{"kant", "", "kant_daily"},
		{"nope", "", ""},
	} {
		r, pl := p.UpstreamTarget(c.name)
		if r != c.resource || pl != c.pipeline {
			t.Errorf("%s: %q %q, want %q %q", c.name, r, pl, c.resource, c.pipeline)
		}
	}
}

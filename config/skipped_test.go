package config

import (
	"strings"
	"testing"
)

// TestSkippedIsSuccess: skipped_is_success is read on the upstream types
// that can be skipped (TROCCO jobs and workflows, another pipeline), false
// by default, and refused elsewhere with the usual position.
func TestSkippedIsSuccess(t *testing.T) {
	const yaml = `version: 1
connections:
  trocco: {api_key: k}
  glue: {region: ap-northeast-1}
pipelines:
  - name: a
    schedule: "0 2 * * *"
    upstreams:
      - {name: sync, type: trocco_job, job_definition_id: 55, skipped_is_success: true}
      - {name: wf, type: trocco_workflow, pipeline_definition_id: 7}
  - name: b
    schedule: "0 3 * * *"
    upstreams:
      - {name: a, type: pipeline, pipeline: a, skipped_is_success: true}
`
	cfg, err := Parse("p.yaml", []byte(yaml), envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	a, b := cfg.Pipelines[0], cfg.Pipelines[1]
	if !a.Upstreams[0].SkippedIsSuccess || a.Upstreams[1].SkippedIsSuccess || !b.Upstreams[0].SkippedIsSuccess {
		t.Errorf("skipped_is_success: %+v %+v", a.Upstreams, b.Upstreams)
	}
	bad := strings.Replace(yaml, "{name: wf, type: trocco_workflow, pipeline_definition_id: 7}",
		"{name: wf, type: glue_job, job_name: x, skipped_is_success: true}", 1)
	_, err = Parse("p.yaml", []byte(bad), envOf(nil))
	if err == nil || !strings.Contains(err.Error(), "p.yaml:10:49: pipelines[0].upstreams[1].skipped_is_success: is not a field of a glue_job upstream") {
		t.Errorf("on a glue_job: %v", err)
	}
}

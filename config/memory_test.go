package config

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
	"time"
	"unsafe"
)

// sharingYAML has two pipelines alike but for their names and DAGs, and
// a third whose conf differs from theirs only in a number's type.
var sharingYAML = `version: 1
connections:
  glue: {region: ap-northeast-1}
  airflow:
    af: {base_url: "https://af.example.com", auth: none}
  warehouses:
    bq: {type: bigquery, project: analytics}
pipelines:
` + alike("a") + alike("b") + `  - name: c
    schedule: "0 2 * * *"
    upstreams:
      - {name: load, type: glue_job, job_name: orders-load}
    trigger: {type: airflow_dag, connection: af, dag_id: mart_c, conf: {date: "{{ .LogicalDate }}", n: 1.0}}
`

// alike is a pipeline named name that triggers DAG mart_<name>.
func alike(name string) string {
	return `  - name: ` + name + `
    schedule: "0 2 * * *"
    upstreams:
      - {name: load, type: glue_job, job_name: orders-load}
      - {name: rows, type: sql, warehouse: bq, query: "SELECT COUNT(*) FROM t WHERE d = '{{ .LogicalDate }}'"}
    trigger: {type: airflow_dag, connection: af, dag_id: mart_` + name + `, conf: {date: "{{ .LogicalDate }}", n: 1}}
`
}

func sameString(a, b string) bool { return unsafe.StringData(a) == unsafe.StringData(b) }

// TestPipelinesShareWhatRepeats: what thousands of pipelines repeat (type
// words, job names, schedules, trigger confs, the polled resource) is held
// once, and each pipeline's upstreams take no room beyond their count
// (issue 23). A conf equal only as JSON text (1 and 1.0) is not shared.
func TestPipelinesShareWhatRepeats(t *testing.T) {
	cfg, err := Parse("p.yaml", []byte(sharingYAML), envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	a, b, c := cfg.Pipelines[0], cfg.Pipelines[1], cfg.Pipelines[2]
	ua, ub := a.Upstreams[0], b.Upstreams[0]
	for _, s := range [][2]string{{ua.Type, ub.Type}, {ua.JobName, ub.JobName}, {ua.Name, ub.Name}, {a.Schedule, b.Schedule},
		{a.Upstreams[1].Query, b.Upstreams[1].Query}, {a.Trigger.Connection, b.Trigger.Connection}} {
		if !sameString(s[0], s[1]) {
			t.Errorf("%q is held twice", s[0])
		}
	}
	if &ua.Resources()[0] != &ub.Resources()[0] {
		t.Error("the upstreams polling orders-load hold a Resources slice each")
	}
	if reflect.ValueOf(a.Trigger.Conf).UnsafePointer() != reflect.ValueOf(b.Trigger.Conf).UnsafePointer() {
		t.Error("equal trigger confs are held twice")
	}
	if reflect.ValueOf(a.Trigger.Conf).UnsafePointer() == reflect.ValueOf(c.Trigger.Conf).UnsafePointer() {
		t.Error("conf {n: 1.0} shares the map of conf {n: 1}")
	}
	if _, isFloat := c.Trigger.Conf["n"].(float64); !isFloat {
		t.Errorf("c's n = %T, want float64", c.Trigger.Conf["n"])
	}
	for _, p := range cfg.Pipelines {
		if cap(p.Upstreams) != len(p.Upstreams) {
			t.Errorf("%s: upstreams cap %d for %d", p.Name, cap(p.Upstreams), len(p.Upstreams))
		}
	}
	if ua.DataCheck != nil || a.Upstreams[1].DataCheck == nil {
		t.Errorf("DataCheck of glue_job %v, of sql %v; want only sql's set", ua.DataCheck, a.Upstreams[1].DataCheck)
	}
}

// TestSpecForLeavesTheLoadedPipelineAlone: rendering a run's snapshot
// copies the DataCheck it changes, so the loaded pipeline keeps its
// template and polls the rendered query only through the snapshot.
func TestSpecForLeavesTheLoadedPipelineAlone(t *testing.T) {
	cfg, err := Parse("p.yaml", []byte(sharingYAML), envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	a := cfg.Pipelines[0]
	template := a.Upstreams[1].Query
	snap, err := PipelineFromSpec(a.SpecFor("2026-12-07", time.Date(2026, 12, 7, 2, 0, 0, 0, time.UTC)))
	if err != nil {
		t.Fatal(err)
	}
	if a.Upstreams[1].Query != template || a.Upstreams[1].Rendered {
		t.Errorf("loaded query became %q (rendered %v)", a.Upstreams[1].Query, a.Upstreams[1].Rendered)
	}
	if got := snap.Upstreams[1]; !got.Rendered || !strings.Contains(got.Query, "d = '2026-12-07'") {
		t.Errorf("snapshot query %q (rendered %v), want the date rendered", got.Query, got.Rendered)
	}
	if got := a.Upstreams[1].Resources()[0].ID; got != template {
		t.Errorf("loaded pipeline polls %q, want its template", got)
	}
	if snap.Upstreams[0].DataCheck != nil {
		t.Error("the snapshot's glue_job upstream has a DataCheck")
	}
}

// TestRendersPerRun: a pipeline whose snapshot renders a query per run
// says so, and every other pipeline's snapshot is its Spec, for any run
// (the engine takes the loaded pipeline for such a run without comparing
// snapshots). The rendered snapshot is that of the whole pipeline too.
func TestRendersPerRun(t *testing.T) {
	cfg, err := Parse("p.yaml", []byte(sharingYAML), envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 12, 7, 2, 0, 0, 0, time.UTC)
	for _, p := range cfg.Pipelines {
		renders := p.Upstreams[len(p.Upstreams)-1].Type == TypeSQL // a and b
		if p.RendersPerRun() != renders {
			t.Fatalf("%s renders per run: %v, want %v", p.Name, p.RendersPerRun(), renders)
		}
		spec := p.SpecFor("2026-12-07", at)
		if same := bytes.Equal(spec, p.Spec()); same == renders {
			t.Errorf("%s: snapshot equal to Spec %v, want %v", p.Name, same, !renders)
		}
		snap, err := PipelineFromSpec(spec)
		if err != nil {
			t.Fatal(err)
		}
		if snap.Name != p.Name || len(snap.Upstreams) != len(p.Upstreams) || snap.Trigger.DagID != p.Trigger.DagID {
			t.Errorf("%s: snapshot %+v", p.Name, snap)
		}
	}
}

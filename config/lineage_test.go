package config

import (
	"strings"
	"testing"
)

func TestLineageAndTraceContext(t *testing.T) {
	src := `version: 1
connections:
  airflow:
    prod: {base_url: "https://x.composer.googleusercontent.com", auth: google}
lineage:
  url: http://marquez:5000/api/v1/lineage
  auth: bearer
  token: ${OL_TOKEN}
pipelines:
  - name: a
    schedule: "0 2 * * *"
    upstreams: []
    trigger: {type: airflow_dag, connection: prod, dag_id: d, trace_context: true}
  - name: b
    schedule: "0 2 * * *"
    upstreams: []
`
	cfg, err := Parse("p.yaml", []byte(src), func(k string) (string, bool) { return "tok-123", k == "OL_TOKEN" })
	if err != nil {
		t.Fatal(err)
	}
	l := cfg.Lineage
	if l.URL != "http://marquez:5000/api/v1/lineage" || l.Namespace != "sekisho" || l.Auth != "bearer" || l.Token.Value() != "tok-123" {
		t.Fatalf("lineage %+v", l)
	}
	if strings.Contains(l.Token.String(), "tok-123") {
		t.Fatal("the token prints")
	}
	if !cfg.Pipelines[0].Trigger.TraceContext {
		t.Fatal("trace_context not read")
	}
	none, err := Parse("p.yaml", []byte("version: 1\npipelines:\n  - {name: a, schedule: \"0 2 * * *\", upstreams: []}\n"), nil)
	if err != nil || none.Lineage.URL != "" || none.Lineage.Namespace != DefaultLineageNamespace {
		t.Fatalf("without lineage: %+v, %v", none.Lineage, err)
	}
}

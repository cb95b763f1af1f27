package config

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// warehouseCases are the invalid fixtures of SPEC §15: warehouses, sql
// upstreams and watches, with every line validate prints for them.
var warehouseCases = []struct {
	name string
	want []string
}{
	{"sql_upstream", []string{
		`sql_upstream.yaml:11:9: pipelines[0].upstreams[0].warehouse: unknown warehouse "dhw" (did you mean "dwh"?)`,
		`sql_upstream.yaml:16:9: pipelines[0].upstreams[1].query: must not be empty; write a SELECT whose first column is true or a count`,
		`sql_upstream.yaml:20:9: pipelines[0].upstreams[2].query: template: query:1:42: executing "query" at <.LogicalDay>: can't evaluate field LogicalDay in type config.QueryData`,
		`sql_upstream.yaml:24:9: pipelines[0].upstreams[3].query: template: query:1: unclosed action`,
		`sql_upstream.yaml:25:9: pipelines[0].upstreams[4].query: is required for a sql upstream (SELECT … whose first column is true or a count)`,
		`sql_upstream.yaml:32:9: pipelines[0].upstreams[5].job_name: is not a field of a sql upstream`,
	}},
	{"expectations", []string{
		`expectations.yaml:14:18: pipelines[0].upstreams[0].expect.min: want a number, got "lots"`,
		`expectations.yaml:15:9: pipelines[0].upstreams[0].on_violation: unknown on_violation "shout" (want block, warn)`,
		`expectations.yaml:20:28: pipelines[0].upstreams[1].expect.max: max 10 is below min 100`,
		`expectations.yaml:20:50: pipelines[0].upstreams[1].expect.vs_history.days: want between 1 and 366 days, got 0`,
		`expectations.yaml:20:59: pipelines[0].upstreams[1].expect.vs_history.tolerance: bad tolerance "30"; write a percentage above 0, like 30%`,
		`expectations.yaml:25:9: pipelines[0].upstreams[2].expect: is empty; give min, max or vs_history`,
		`expectations.yaml:30:9: pipelines[0].upstreams[3].on_violation: is used with expect; add expect: {min: …} or expect: {vs_history: …}, or remove on_violation`,
		`expectations.yaml:35:51: pipelines[0].upstreams[4].expect.vs_history.tolerence: unknown key "tolerence" (did you mean "tolerance"?)`,
		`expectations.yaml:36:9: pipelines[0].upstreams[5].target: is required for a reconcile upstream ({warehouse: …, query: SELECT COUNT(*) …})`,
		`expectations.yaml:38:18: pipelines[0].upstreams[5].source.warehouse: unknown warehouse "dwhh" (did you mean "dwh"?)`,
		`expectations.yaml:39:9: pipelines[0].upstreams[5].tolerance: bad tolerance "about 1"; write a percentage of the source like 0.1%, or an absolute number like 50`,
		`expectations.yaml:42:34: pipelines[0].upstreams[6].source.query: template: query:1:10: executing "query" at <.Day>: can't evaluate field Day in type config.QueryData`,
		`expectations.yaml:43:17: pipelines[0].upstreams[6].target.query: is required for a reconcile target (SELECT COUNT(*) …)`,
		`expectations.yaml:44:9: pipelines[0].upstreams[6].query: is not a field of a reconcile upstream`,
	}},
	{"warehouse_fields", []string{
		`warehouse_fields.yaml:5:7: connections.warehouses.dwh.dsn: is required; write dsn: ${DWH_DSN} and export postgres://user:password@host:5432/db`,
		`warehouse_fields.yaml:8:7: connections.warehouses.dsn_bad.dsn: want a postgres:// URL or key=value settings (the value is not shown: it may hold a password)`,
		`warehouse_fields.yaml:13:7: connections.warehouses.rs_both.cluster_identifier: workgroup_name (Serverless) and cluster_identifier (provisioned) are exclusive; keep one`,
		`warehouse_fields.yaml:16:7: connections.warehouses.rs_none.workgroup_name: is required for Serverless, or cluster_identifier for a provisioned cluster`,
		`warehouse_fields.yaml:24:7: connections.warehouses.rs_serverless_user.db_user: is not used with workgroup_name: Serverless takes the IAM identity or secret_arn`,
		`warehouse_fields.yaml:26:7: connections.warehouses.bq.project: is required; the Google Cloud project that runs the jobs`,
		`warehouse_fields.yaml:28:7: connections.warehouses.bq.dsn: is not a field of a bigquery warehouse`,
		`warehouse_fields.yaml:30:7: connections.warehouses.snow.type: unknown warehouse type "snowflake" (want postgres, redshift, bigquery)`,
		`warehouse_fields.yaml:31:5: connections.warehouses.Bad.Name: name "Bad.Name" may only hold lowercase letters, digits, _ and -`,
	}},
	{"watches", []string{
		`watches.yaml:12:5: watches[0].type: unknown watch type "long_query" (did you mean "long_queries"?)`,
		`watches.yaml:22:5: watches[2].threshold: duration "30s" is below the minimum 1m0s`,
		`watches.yaml:23:5: watches[2].interval: duration "1s" is below the minimum 5s`,
		`watches.yaml:24:5: watches[3].threshold: is required; how long a query may run before a notice, e.g. 30m`,
		`watches.yaml:26:5: watches[3].warehouse: unknown warehouse "analytic" (did you mean "analytics"?)`,
		`watches.yaml:27:5: watches[4].name: duplicate watch name "long_queries" (first at line 11); watch names are unique`,
		`watches.yaml:30:5: watches[4].threshold: bad duration "ten minutes"; write Go syntax like 90s, 30m or 2h30m`,
		`watches.yaml:31:31: watches[4].notify.mentions: unknown key "mentions" (did you mean "mention"?)`,
	}},
}

func init() {
	invalidCases = append(invalidCases, warehouseCases...)
}

const warehouseYAML = `version: 1
timezone: Asia/Tokyo
connections:
  warehouses:
    dwh: {type: postgres, dsn: "${DWH_DSN}"}
    analytics: {type: redshift, region: ap-northeast-1, workgroup_name: analytics, database: dev, rate_limit: {requests: 20, per: 1s, daily: 50000}}
    prov: {type: redshift, region: ap-northeast-1, cluster_identifier: prod, database: dev, db_user: sekisho, endpoint: "http://127.0.0.1:9/"}
    prov_iam: {type: redshift, region: ap-northeast-1, cluster_identifier: prod, database: dev}
    bq: {type: bigquery, project: my-project, location: asia-northeast1}
pipelines:
  - name: mart
    schedule: "30 2 * * *"
    upstreams:
      - name: orders_loaded
        type: sql
        warehouse: bq
        query: "SELECT COUNT(*) > 0 FROM sales.orders WHERE order_date = '{{ .LogicalDate }}' -- {{ .Pipeline }} {{ .GateAt }}"
watches:
  - name: long_queries
    type: long_queries
    warehouse: analytics
    threshold: 30m
    exclude_users: [rdsdb]
    notify: {channel: "#dwh", mention: "<!subteam^S0123>"}
  - name: bq_long_queries
    type: long_queries
    warehouse: bq
    threshold: 1h
`

func TestWarehousesParse(t *testing.T) {
	env := map[string]string{"DWH_DSN": "postgres://sekisho:SECRET-dsn-password@db:5432/dwh"}
	cfg, err := Parse("p.yaml", []byte(warehouseYAML), envOf(env))
	if err != nil {
		t.Fatal(err)
	}
	dwh := cfg.Connections.Warehouses["dwh"]
	if dwh.Type != WarehousePostgres || dwh.DSN.Value() != env["DWH_DSN"] {
		t.Errorf("dwh = %+v", dwh)
	}
	if got, want := cfg.Connections.Warehouses["analytics"].RateLimit, (RateLimit{Requests: 20, Per: time.Second, Daily: 50000}); got != want {
		t.Errorf("analytics rate_limit = %+v, want %+v", got, want)
	}
	if dwh.RateLimit.Set() {
		t.Errorf("dwh has a budget it was not given: %+v", dwh.RateLimit)
	}
	prov := cfg.Connections.Warehouses["prov"]
	if prov.ClusterIdentifier != "prod" || prov.DBUser != "sekisho" || prov.Endpoint != "http://127.0.0.1:9" {
		t.Errorf("prov = %+v", prov)
	}
	// A provisioned cluster as the caller's IAM identity: no db_user, no
	// secret (Data API ExecuteStatement, "Temporary credentials").
	// A long-query watch on BigQuery (jobs.list of running jobs).
	if w := cfg.Watch("bq_long_queries"); w == nil || w.Warehouse != "bq" || w.Threshold != time.Hour {
		t.Errorf("bq watch = %+v", w)
	}
	if iam := cfg.Connections.Warehouses["prov_iam"]; iam == nil || iam.ClusterIdentifier != "prod" || iam.DBUser != "" || iam.SecretARN != "" {
		t.Errorf("prov_iam = %+v", iam)
	}
	if s := fmt.Sprintf("%v %+v %#v", dwh, *dwh, cfg.Connections); strings.Contains(s, "SECRET") {
		t.Errorf("the DSN is printed: %s", s)
	}
	if s := string(cfg.Pipelines[0].Spec()); strings.Contains(s, "SECRET") {
		t.Errorf("the run snapshot holds the DSN: %s", s)
	}
	w := cfg.Watch("long_queries")
	if w == nil || w.Threshold != 30*time.Minute || w.Interval != DefaultWatchInterval ||
		len(w.ExcludeUsers) != 1 || w.Notify.Channel != "#dwh" || w.Notify.Mention == "" {
		t.Fatalf("watch = %+v", w)
	}
	u := cfg.Pipelines[0].Upstreams[0]
	if r := u.Resource(); r.Type != TypeSQL || r.Connection != "bq" || r.ID != u.Query {
		t.Errorf("resource of the config's upstream = %+v", r)
	}
}

// TestSpecForRendersQuery: the run's snapshot holds the query rendered for
// its day, so two pipelines whose queries render alike share one resource.
func TestSpecForRendersQuery(t *testing.T) {
	env := map[string]string{"DWH_DSN": "postgres://db/dwh"}
	cfg, err := Parse("p.yaml", []byte(warehouseYAML), envOf(env))
	if err != nil {
		t.Fatal(err)
	}
	p := cfg.Pipelines[0]
	gate := time.Date(2026, 3, 1, 17, 30, 0, 0, time.UTC) // 02:30 JST on 03-02
	snap, err := PipelineFromSpec(p.SpecFor("2026-03-02", gate))
	if err != nil {
		t.Fatal(err)
	}
	want := "SELECT COUNT(*) > 0 FROM sales.orders WHERE order_date = '2026-03-02' -- mart 2026-03-02T02:30:00+09:00"
	u := snap.Upstreams[0]
	if u.Query != want || !u.Rendered {
		t.Fatalf("rendered query = %q (rendered %v), want %q", u.Query, u.Rendered, want)
	}
	if r := u.Resource(); r.ID != want || r.Connection != "bq" {
		t.Errorf("resource = %+v", r)
	}
	// A snapshot rendered once is never rendered again (a rerun of it).
	again, _ := PipelineFromSpec(snap.SpecFor("2030-01-01", gate))
	if again.Upstreams[0].Query != want {
		t.Errorf("re-rendered: %q", again.Upstreams[0].Query)
	}
	if p.Upstreams[0].Rendered {
		t.Error("SpecFor changed the config's pipeline")
	}
}

func TestWarehouseDSNNeverPrinted(t *testing.T) {
	const yaml = `version: 1
connections:
  warehouses:
    dwh: {type: postgres, dsn: "${DWH_DSN}"}
pipelines:
  - {name: a, schedule: "0 2 * * *", upstreams: []}
`
	_, err := Parse("p.yaml", []byte(yaml), envOf(map[string]string{"DWH_DSN": "SECRET-password-only"}))
	if err == nil {
		t.Fatal("a DSN without host or scheme was accepted")
	}
	if strings.Contains(err.Error(), "SECRET") {
		t.Errorf("error prints the DSN: %v", err)
	}
	if want := "p.yaml:4:27: connections.warehouses.dwh.dsn: want a postgres:// URL or key=value settings (the value is not shown: it may hold a password)"; err.Error() != want {
		t.Errorf("error = %v\nwant %s", err, want)
	}
}

// TestPipelineForRunSharesAnUnchangedPipeline: an open run whose snapshot
// is what the loaded pipeline writes holds that pipeline itself, not a
// copy; a pipeline changed since the gate, and one whose query the run
// rendered, are read from the snapshot.
func TestPipelineForRunSharesAnUnchangedPipeline(t *testing.T) {
	cfg, err := Parse("p.yaml", []byte(warehouseYAML), envOf(map[string]string{"DWH_DSN": "postgres://db/dwh"}))
	if err != nil {
		t.Fatal(err)
	}
	full, err := parseFile(t, "testdata/valid/full.yaml", secretEnv)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Pipelines = append(cfg.Pipelines, full.Pipelines...)
	gate := time.Date(2026, 3, 1, 17, 30, 0, 0, time.UTC)
	shared := 0
	for _, p := range cfg.Pipelines {
		rendered := false
		for _, u := range p.Upstreams {
			rendered = rendered || u.Type == TypeSQL || u.Type == TypeReconcile
		}
		got, err := PipelineForRun(p.SpecFor("2026-03-02", gate), cfg.Pipeline(p.Name))
		if err != nil {
			t.Fatal(err)
		}
		if (got == p) == rendered {
			t.Errorf("%s: shared = %v, want %v (queries rendered per run: %v)", p.Name, got == p, !rendered, rendered)
		}
		if got == p {
			shared++
		}
		changed := *p
		changed.Description += " (changed)"
		if got, err := PipelineForRun(changed.Spec(), p); err != nil || got == p || got.Description != changed.Description {
			t.Errorf("%s: a changed pipeline's snapshot gave %+v, %v", p.Name, got, err)
		}
	}
	if shared < 2 {
		t.Errorf("%d pipelines shared, want the plain ones of full.yaml", shared)
	}
	if cfg.Pipeline("nope") != nil || cfg.Pipeline(cfg.Pipelines[len(cfg.Pipelines)-1].Name) != cfg.Pipelines[len(cfg.Pipelines)-1] {
		t.Error("Pipeline by name")
	}
}

package config

import (
	"testing"
	"time"
)

const expectYAML = `version: 1
timezone: Asia/Tokyo
connections:
  warehouses:
    app_db: {type: postgres, dsn: "postgres://sekisho@127.0.0.1/app"}
    bq: {type: bigquery, project: analytics}
pipelines:
  - name: mart
    schedule: "0 2 * * *"
    upstreams:
      - name: orders_rows
        type: sql
        warehouse: bq
        query: "SELECT COUNT(*) FROM sales.orders WHERE order_date = '{{ .LogicalDate }}'"
        expect:
          min: 1_000
          vs_history: {days: 28, same_weekday: true, tolerance: 30%}
      - name: refunds
        type: sql
        warehouse: bq
        query: SELECT COUNT(*) FROM refunds
        expect: {max: 500}
        on_violation: warn
      - name: orders_match
        type: reconcile
        source: {warehouse: app_db, query: "SELECT COUNT(*) FROM orders WHERE created_on = '{{ .LogicalDate }}'"}
        target: {warehouse: bq, query: "SELECT COUNT(*) FROM sales.orders WHERE order_date = '{{ .LogicalDate }}'"}
        tolerance: 0.1%
      - name: exact
        type: reconcile
        source: {warehouse: app_db, query: SELECT 1}
        target: {warehouse: bq, query: SELECT 1}
      - name: near
        type: reconcile
        source: {warehouse: app_db, query: SELECT 1}
        target: {warehouse: bq, query: SELECT 2}
        tolerance: 50
`

// TestExpectationsParse reads expect, on_violation and reconcile upstreams
// into their typed form, with the defaults of SPEC §21.
func TestExpectationsParse(t *testing.T) {
	cfg, err := Parse("p.yaml", []byte(expectYAML), envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	ups := cfg.Pipelines[0].Upstreams
	rows := ups[0]
	if rows.Expect == nil || rows.Expect.Min == nil || *rows.Expect.Min != 1000 || rows.Expect.Max != nil {
		t.Fatalf("orders_rows expect = %+v", rows.Expect)
	}
	if h := rows.Expect.VsHistory; h == nil || h.Days != 28 || !h.SameWeekday || h.Tolerance != 0.3 {
		t.Errorf("vs_history = %+v", h)
	}
	if rows.OnViolation != OnViolationBlock {
		t.Errorf("on_violation defaults to %q, want block", rows.OnViolation)
	}
	if ups[1].OnViolation != OnViolationWarn || *ups[1].Expect.Max != 500 {
		t.Errorf("refunds = %+v", ups[1])
	}
	m := ups[2]
	if m.Source == nil || m.Source.Warehouse != "app_db" || m.Target.Warehouse != "bq" || m.Tolerance != (Tolerance{Share: 0.001}) {
		t.Fatalf("orders_match = %+v", m)
	}
	if ups[3].Tolerance != (Tolerance{}) || ups[4].Tolerance != (Tolerance{Abs: 50}) {
		t.Errorf("tolerances: exact %+v, near %+v", ups[3].Tolerance, ups[4].Tolerance)
	}
	for _, tt := range []struct {
		tol          Tolerance
		source, want float64
		text         string
	}{{Tolerance{Share: 0.001}, 20000, 20, "0.1%"}, {Tolerance{Abs: 50}, 20000, 50, "50"}, {Tolerance{}, 7, 0, "0"}} {
		if got := tt.tol.Allowed(tt.source); got != tt.want || tt.tol.String() != tt.text {
			t.Errorf("%+v: Allowed(%v) = %v, String %q; want %v, %q", tt.tol, tt.source, got, tt.tol.String(), tt.want, tt.text)
		}
	}
	// The reconcile's two queries are two sql resources, shared with a sql
	// upstream that renders to the same query.
	rs := m.Resources()
	if len(rs) != 2 || rs[0].Type != TypeSQL || rs[0].Connection != "app_db" || rs[1].Connection != "bq" {
		t.Errorf("Resources() = %v", rs)
	}
	if m.Resource() != rs[1] {
		t.Errorf("Resource() = %v, want the target's", m.Resource())
	}
}

// TestSpecForRendersReconcile: a run's snapshot renders both sides of a
// reconcile for its logical date, so its target is the same resource as the
// sql upstream that counts the same rows.
func TestSpecForRendersReconcile(t *testing.T) {
	cfg, err := Parse("p.yaml", []byte(expectYAML), envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	p := cfg.Pipelines[0]
	gate := time.Date(2026, 12, 7, 2, 0, 0, 0, p.Location)
	snap, err := PipelineFromSpec(p.SpecFor("2026-12-06", gate))
	if err != nil {
		t.Fatal(err)
	}
	m := snap.Upstreams[2]
	if !m.Rendered || m.Source.Query != "SELECT COUNT(*) FROM orders WHERE created_on = '2026-12-06'" {
		t.Errorf("source = %+v", m.Source)
	}
	if m.Target.Resource() != snap.Upstreams[0].Resource() {
		t.Errorf("target %v and orders_rows %v should be one resource", m.Target.Resource(), snap.Upstreams[0].Resource())
	}
	if p.Upstreams[2].Source.Query == m.Source.Query {
		t.Error("SpecFor rendered the config's own query in place")
	}
	if snap.Upstreams[0].Expect == nil || snap.Upstreams[0].Expect.VsHistory.Tolerance != 0.3 || snap.Upstreams[2].Tolerance.Share != 0.001 {
		t.Errorf("the snapshot lost the expectations: %+v", snap.Upstreams[0].Expect)
	}
}

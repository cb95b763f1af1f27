package sql

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/sekisho-dev/sekisho"
)

// expectYAML gates three pipelines on one day's orders: a volume gate that
// blocks, the same check that only warns, and a reconciliation of the
// orders exported from the shop's database (src_orders) against the orders
// loaded into the warehouse. The volume check and the reconcile's target
// render to the same query: one query per interval serves both.
const expectYAML = `version: 1
defaults: {poke_interval: 1m, timeout: 6h}
connections:
  warehouses:
    dwh: {type: postgres, dsn: "${DWH_DSN}"}
    app: {type: postgres, dsn: "${DWH_DSN}"}
pipelines:
  - name: volume
    schedule: "0 2 * * *"
    upstreams:
      - name: orders_rows
        type: sql
        warehouse: dwh
        query: "SELECT COUNT(*) FROM orders WHERE order_date = '{{ .LogicalDate }}'"
        expect: {min: 1, vs_history: {days: 28, same_weekday: true, tolerance: 30%}}
  - name: volume_warn
    schedule: "0 2 * * *"
    upstreams:
      - name: orders_rows
        type: sql
        warehouse: dwh
        query: "SELECT COUNT(*) FROM orders WHERE order_date = '{{ .LogicalDate }}'"
        expect: {vs_history: {days: 28, same_weekday: true, tolerance: 30%}}
        on_violation: warn
  - name: match
    schedule: "0 2 * * *"
    upstreams:
      - name: exported_vs_loaded
        type: reconcile
        source: {warehouse: app, query: "SELECT COUNT(*) FROM src_orders WHERE created_on = '{{ .LogicalDate }}'"}
        target: {warehouse: dwh, query: "SELECT COUNT(*) FROM orders WHERE order_date = '{{ .LogicalDate }}'"}
        tolerance: 0.1%
`

// checkWorld is the engine world of TestVolumeGate: the orders table in
// the warehouse and src_orders in the shop's database.
type checkWorld struct{ *world }

func newCheckWorld(t *testing.T, start time.Time) *checkWorld {
	return &checkWorld{openWorld(t, expectYAML, start, "CREATE TABLE orders (id serial, order_date date NOT NULL)",
		"CREATE TABLE src_orders (id serial, created_on date NOT NULL)")}
}

// load adds n rows for date to the warehouse's orders and m to the shop's
// src_orders.
func (w *checkWorld) load(date string, n, m int) {
	w.t.Helper()
	ctx := context.Background()
	if _, err := w.db.Exec(ctx, "INSERT INTO orders (order_date) SELECT $1::date FROM generate_series(1, $2)", date, n); err != nil {
		w.t.Fatal(err)
	}
	if _, err := w.db.Exec(ctx, "INSERT INTO src_orders (created_on) SELECT $1::date FROM generate_series(1, $2)", date, m); err != nil {
		w.t.Fatal(err)
	}
}

// until steps the engine every 30 simulated seconds up to end.
func (w *checkWorld) until(end time.Time) {
	w.t.Helper()
	for {
		if err := w.eng.Step(context.Background()); err != nil {
			w.t.Fatal(err)
		}
		if !w.clock.Now().Before(end) {
			return
		}
		w.clock.Advance(30 * time.Second)
	}
}

func (w *checkWorld) run(pipeline, date string) sekisho.Run {
	w.t.Helper()
	r, err := w.st.Run(context.Background(), pipeline, date)
	if err != nil {
		w.t.Fatal(err)
	}
	return r
}

func (w *checkWorld) obs(pipeline, date, upstream string) sekisho.Observation {
	w.t.Helper()
	all, err := w.st.LatestObservations(context.Background(), w.run(pipeline, date).ID)
	if err != nil {
		w.t.Fatal(err)
	}
	return all[upstream]
}

// usual is the day's usual order count: 1,000 on weekdays, 300 on Sundays.
func usual(d time.Time) int {
	switch d.Weekday() {
	case time.Sunday:
		return 300
	case time.Saturday:
		return 600
	}
	return 1000 + d.Day()%7*5
}

// history runs the four weeks before 2026-03-01 through the engine: the
// rows land at 01:00, the gates open at 02:00.
func (w *checkWorld) history() {
	for d := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC); d.Before(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)); d = d.AddDate(0, 0, 1) {
		date := d.Format(sekisho.DateLayout)
		w.clock.Advance(d.Add(time.Hour).Sub(w.clock.Now()))
		w.load(date, usual(d), usual(d))
		w.until(d.Add(2*time.Hour + 2*time.Minute))
		for _, p := range []string{"volume", "volume_warn", "match"} {
			if r := w.run(p, date); r.State != sekisho.StateSucceeded {
				w.t.Fatalf("%s on %s (%s) is %s: %+v", p, date, d.Weekday(), r.State, w.obs(p, date, "orders_rows"))
			}
		}
	}
}

// TestVolumeGate: a load at 3 % of its weekday history blocks with reason
// expectation_failed and keeps checking, so the late rows that catch up
// pass it; a quiet Sunday, weekday against weekday, is no anomaly; warn
// opens the gate and notifies once; reconcile holds until the target
// catches up with the source. All on the injected clock, against a real
// PostgreSQL warehouse.
func TestVolumeGate(t *testing.T) {
	w := newCheckWorld(t, time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC))
	w.history()
	ctx := context.Background()

	// Sunday 2026-03-01: 290 orders, a third of a weekday, as Sundays go.
	sunday := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	w.clock.Advance(sunday.Add(time.Hour).Sub(w.clock.Now()))
	w.load("2026-03-01", 290, 290)
	w.until(sunday.Add(2*time.Hour + 2*time.Minute))
	for _, p := range []string{"volume", "volume_warn"} {
		if r := w.run(p, "2026-03-01"); r.State != sekisho.StateSucceeded {
			t.Errorf("%s on a quiet Sunday is %s: %+v", p, r.State, w.obs(p, "2026-03-01", "orders_rows"))
		}
	}
	if ns, _ := w.st.Notices(ctx, w.run("volume_warn", "2026-03-01").ID); len(ns) != 0 {
		t.Errorf("a quiet Sunday sent %d notices: %+v", len(ns), ns)
	}

	// Monday 2026-03-02: the export stops at 30 rows, 3 % of a Monday.
	monday := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	w.clock.Advance(monday.Add(time.Hour).Sub(w.clock.Now()))
	w.load("2026-03-02", 30, 1000)
	w.until(monday.Add(2*time.Hour + 30*time.Minute))
	r := w.run("volume", "2026-03-02")
	if r.State != sekisho.StateWaiting {
		t.Fatalf("volume at 3 %% is %s, want waiting", r.State)
	}
	o := w.obs("volume", "2026-03-02", "orders_rows")
	if o.State != sekisho.JobPending || o.Reason != sekisho.ReasonExpectationFailed || o.Value == nil || *o.Value != 30 ||
		!strings.Contains(o.Message, "value 30 is outside the expected band 7") || !strings.Contains(o.Message, "4 Mondays ±30%") {
		t.Errorf("the blocked check: %+v", o)
	}
	// warn: the gate opened at once, with one data_anomaly notice.
	if r := w.run("volume_warn", "2026-03-02"); r.State != sekisho.StateSucceeded {
		t.Errorf("volume_warn is %s, want succeeded (warn lets the gate open)", r.State)
	}
	ns, _ := w.st.Notices(ctx, w.run("volume_warn", "2026-03-02").ID)
	if len(ns) != 1 || ns[0].Kind != sekisho.NoticeDataAnomaly || ns[0].Facts.Upstream != "orders_rows" ||
		!strings.Contains(ns[0].Facts.Message, "value 30 is outside") {
		t.Errorf("warn notices: %+v", ns)
	}
	// reconcile: 1,000 exported, 30 loaded.
	m := w.run("match", "2026-03-02")
	mo := w.obs("match", "2026-03-02", "exported_vs_loaded")
	if m.State != sekisho.StateWaiting || mo.Reason != sekisho.ReasonReconcileMismatch ||
		!strings.Contains(mo.Message, "source 1,000, target 30: difference -970 (-97.00%), over the tolerance 0.1%") {
		t.Errorf("match is %s with %+v", m.State, mo)
	}
	// The volume check and the reconcile's target share one query per
	// interval: 31 minutes at a 1m interval.
	q := "SELECT COUNT(*) FROM orders WHERE order_date = '2026-03-02'"
	if n := w.dwh.calls[q]; n < 30 || n > 32 {
		t.Errorf("the shared query ran %d times in 31 minutes, want one per interval", n)
	}

	// The late rows catch up at 02:30: both gates pass within an interval.
	w.load("2026-03-02", 970, 0)
	caught := w.clock.Now()
	w.until(caught.Add(90 * time.Second))
	for _, p := range []string{"volume", "match"} {
		r := w.run(p, "2026-03-02")
		if r.State != sekisho.StateSucceeded {
			t.Fatalf("%s is %s after the late load caught up", p, r.State)
		}
		if r.FinishedAt.Before(caught) {
			t.Errorf("%s finished at %s, before the rows that passed it landed at %s", p, r.FinishedAt, caught)
		}
	}
	if o := w.obs("volume", "2026-03-02", "orders_rows"); o.Reason != "" || *o.Value != 1000 {
		t.Errorf("the passing observation: %+v", o)
	}
	if mo := w.obs("match", "2026-03-02", "exported_vs_loaded"); mo.Message != "source 1,000, target 1,000: difference 0 (0.00%), within the tolerance 0.1%" {
		t.Errorf("the reconciled observation: %+v", mo)
	}
	// warn notified once for the run, however often it was looked at.
	ns, _ = w.st.Notices(ctx, w.run("volume_warn", "2026-03-02").ID)
	if len(ns) != 1 {
		t.Errorf("warn sent %d notices, want 1", len(ns))
	}
}

package demo

import (
	"context"
	"regexp"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/sim/redshiftsim"
)

// The warehouse part of the world (SPEC §15): a Redshift Serverless
// workgroup behind the Data API simulator, where the day's orders land a
// little after the Glue load (late on some days, so the data-quality gate
// holds the orders pipeline past its deadline), and where an analyst now
// and then leaves a query running for most of an hour.
const (
	// AnalystUser runs the long queries the watch reports.
	AnalystUser = "analyst"
	// LongQueryText is the analyst's query: a months-long log table, no date filter.
	LongQueryText = "SELECT user_id, COUNT(*) FROM logs.access_log GROUP BY user_id ORDER BY 2 DESC"
)

// ordersDate finds the logical date in the orders check query.
var ordersDate = regexp.MustCompile(`FROM sales\.orders WHERE order_date = '(\d{4}-\d{2}-\d{2})'`)

// warehouseOptions are the demo's additions to the world's Redshift
// simulator: the orders check answers from the script.
func (w *World) warehouseOptions() []redshiftsim.Option {
	return []redshiftsim.Option{redshiftsim.WithFallback(w.answerOrders)}
}

// addWarehouse readies the world's Redshift simulator; NewWorld calls it.
func (w *World) addWarehouse() {
	// The Data API maps sekisho's IAM role to a database user; sys:monitor
	// lets it see every user's queries (docs/warehouses.md).
	w.Redshift.GrantMonitor("IAMR:sekisho")
}

// ordersLand is when a day's orders are in the warehouse: 02:40, or 04:20
// on the days the world's script makes late.
func (w *World) ordersLand(date string) time.Time {
	mid, _ := time.ParseInLocation(sekisho.DateLayout, date, w.Loc)
	if dayNumber(date)%7 == 2 {
		return mid.Add(4*time.Hour + 20*time.Minute)
	}
	return mid.Add(2*time.Hour + 40*time.Minute)
}

// shortLoadUntil is, on the late-upstream days of the script, when the
// rest of the day's orders land: the first load stops at 3 % of them (the
// export "succeeded" with a fraction of the rows), so the volume check
// holds orders_quality with expectation_failed until then (SPEC §21).
func (w *World) shortLoadUntil(date string) (time.Time, bool) {
	if IncidentOn(date, w.seed) != LateUpstream {
		return time.Time{}, false
	}
	mid, _ := time.ParseInLocation(sekisho.DateLayout, date, w.Loc)
	return mid.Add(5*time.Hour + 10*time.Minute), true
}

// answerOrders answers the data-quality check: the count of the day's
// orders, zero until they land, 3 % of them while a short load lasts.
func (w *World) answerOrders(sql string) ([]redshiftsim.Value, bool, error) {
	m := ordersDate.FindStringSubmatch(sql)
	if m == nil {
		return nil, false, nil
	}
	now := w.Clock.Now()
	if now.Before(w.ordersLand(m[1])) {
		return []redshiftsim.Value{int64(0)}, true, nil
	}
	count := int64(18_000 + dayNumber(m[1])%1000)
	if until, short := w.shortLoadUntil(m[1]); short && now.Before(until) {
		count = count * 3 / 100
	}
	return []redshiftsim.Value{count}, true, nil
}

// planWarehouse scripts a day's long query: every third day the analyst's
// query runs from 10:00 for 50 minutes. Callers hold w.mu.
func (w *World) planWarehouse(date string) {
	if dayNumber(date)%3 != 0 {
		return
	}
	mid, _ := time.ParseInLocation(sekisho.DateLayout, date, w.Loc)
	start := mid.Add(10 * time.Hour)
	var id int64
	w.at(start, "", "analyst starts a long query", func(ctx context.Context) error {
		id = w.Redshift.StartQuery(AnalystUser, LongQueryText)
		return nil
	})
	w.at(start.Add(50*time.Minute), "", "analyst's query ends", func(ctx context.Context) error {
		w.Redshift.EndQuery(id)
		return nil
	})
}

package config

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/sekisho-dev/sekisho"
)

// TypeReconcile is the upstream type that compares two numbers: a source's
// and a target's, each a query on a warehouse (SPEC §21).
const TypeReconcile = "reconcile"

// What a sql upstream does when its value breaks an expectation (SPEC §21).
const (
	OnViolationBlock = "block" // stay pending, check again: the default
	OnViolationWarn  = "warn"  // succeed, and send a data_anomaly notice
)

// OnViolations lists the accepted on_violation words.
var OnViolations = []string{OnViolationBlock, OnViolationWarn}

// Expect is what a sql upstream's number must satisfy (SPEC §21). Every
// expectation given must hold.
type Expect struct {
	Min       *float64   `json:"min,omitempty"`
	Max       *float64   `json:"max,omitempty"`
	VsHistory *VsHistory `json:"vs_history,omitempty"`
}

// VsHistory compares the value with the upstream's values on its succeeded
// days: within Tolerance (a share: 0.3 for "30%") of their median.
type VsHistory struct {
	Days        int     `json:"days"`
	SameWeekday bool    `json:"same_weekday,omitempty"`
	Tolerance   float64 `json:"tolerance"`
}

// CheckQuery is one side of a reconcile upstream: a warehouse and a query
// whose first value is a number.
type CheckQuery struct {
	Warehouse string `json:"warehouse"`
	Query     string `json:"query"`
}

// Resource is the polled resource of the query: the same (warehouse,
// rendered query) as a sql upstream's, so the two share one query per
// interval.
func (q CheckQuery) Resource() sekisho.Resource {
	return sekisho.Resource{Type: TypeSQL, Connection: q.Warehouse, ID: q.Query}
}

// Tolerance is how far a reconcile's source and target may differ: an
// absolute number, or a share of the source (Share: 0.001 for "0.1%").
type Tolerance struct {
	Abs   float64 `json:"abs,omitempty"`
	Share float64 `json:"share,omitempty"`
}

// Allowed is the largest difference the tolerance accepts against source.
func (t Tolerance) Allowed(source float64) float64 {
	if t.Share > 0 {
		return math.Abs(source) * t.Share
	}
	return t.Abs
}

// String is the tolerance as written: "0.1%" or "50".
func (t Tolerance) String() string {
	if t.Share > 0 {
		return strconv.FormatFloat(t.Share*100, 'f', -1, 64) + "%"
	}
	return strconv.FormatFloat(t.Abs, 'f', -1, 64)
}

// Defaults and limits of vs_history.
const (
	// DefaultHistoryDays is vs_history's days when not given: four weeks,
	// four values of each weekday.
	DefaultHistoryDays = 28
	maxHistoryDays     = 366
)

// expectKeys are the keys of expect: and of vs_history:.
var expectKeys = []string{"min", "max", "vs_history"}
var vsHistoryKeys = []string{"days", "same_weekday", "tolerance"}
var checkQueryKeys = []string{"warehouse", "query"}

// number reads an optional number; ok is false when absent or invalid.
func (d *decoder) number(f *fields, key string) (*float64, bool) {
	v, present := f.get(key)
	if !present {
		return nil, false
	}
	s, ok := d.scalarOf(v, false)
	if !ok {
		return nil, false
	}
	x, err := strconv.ParseFloat(strings.ReplaceAll(strings.TrimSpace(s.s), "_", ""), 64)
	if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
		d.fail(v, "want a number, got %s", s.shown)
		return nil, false
	}
	return &x, true
}

// parseShare reads a percentage, "30%", as a share, 0.3; ok is false for
// anything else (a reconcile's tolerance then tries an absolute number).
func parseShare(s string) (float64, bool) {
	num, ok := strings.CutSuffix(strings.TrimSpace(s), "%")
	if !ok {
		return 0, false
	}
	x, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
	if err != nil || !(x >= 0 && x <= 1000) {
		return 0, false
	}
	return x / 100, true
}

// expect decodes a sql upstream's expect: and on_violation:.
func (d *decoder) expect(f *fields, u *DataCheck) {
	if v, ok := f.get("on_violation"); ok {
		if _, present := f.get("expect"); !present {
			d.fail(v, "is used with expect; add expect: {min: …} or expect: {vs_history: …}, or remove on_violation")
		}
	}
	u.OnViolation = d.oneOf(f, "on_violation", "on_violation", OnViolationBlock, OnViolations)
	v, ok := f.get("expect")
	if !ok {
		return
	}
	ef := d.mapping(v, expectKeys, nil)
	if ef == nil {
		return
	}
	e := &Expect{}
	e.Min, _ = d.number(ef, "min")
	e.Max, _ = d.number(ef, "max")
	if e.Min != nil && e.Max != nil && *e.Min > *e.Max {
		mv, _ := ef.get("max")
		d.fail(mv, "max %s is below min %s", strconv.FormatFloat(*e.Max, 'f', -1, 64), strconv.FormatFloat(*e.Min, 'f', -1, 64))
	}
	if hv, ok := ef.get("vs_history"); ok {
		if hf := d.mapping(hv, vsHistoryKeys, nil); hf != nil {
			h := &VsHistory{Days: DefaultHistoryDays}
			if n, nv, ok := d.integer(hf, "days"); ok {
				if n < 1 || n > maxHistoryDays {
					d.fail(nv, "want between 1 and %d days, got %d", maxHistoryDays, n)
				} else {
					h.Days = int(n)
				}
			}
			h.SameWeekday = d.boolean(hf, "same_weekday")
			if tv, ok := hf.get("tolerance"); !ok {
				d.missing(hf, "tolerance", "; how far from the usual value passes, like 30%")
			} else if s, ok := d.scalarOf(tv, false); ok {
				if x, ok := parseShare(s.s); ok && x > 0 {
					h.Tolerance = x
				} else {
					d.fail(tv, "bad tolerance %s; write a percentage above 0, like 30%%", s.shown)
				}
			}
			e.VsHistory = h
		}
	}
	if e.Min == nil && e.Max == nil && e.VsHistory == nil {
		d.fail(v, "is empty; give min, max or vs_history")
		return
	}
	u.Expect = e
}

// reconcileUpstream decodes a type: reconcile upstream: source, target and
// tolerance, each query rendered over a sample run like a sql upstream's.
func (d *decoder) reconcileUpstream(cfg *Config, p *Pipeline, f *fields, up *Upstream) {
	u := &DataCheck{}
	up.DataCheck = u
	side := func(key string) *CheckQuery {
		v, ok := f.get(key)
		if !ok {
			d.missing(f, key, " for a reconcile upstream ({warehouse: …, query: SELECT COUNT(*) …})")
			return nil
		}
		sf := d.mapping(v, checkQueryKeys, nil)
		if sf == nil {
			return nil
		}
		q := &CheckQuery{}
		q.Warehouse, _ = d.warehouseRef(cfg, sf, "a reconcile "+key, nil)
		q.Query = d.checkQuery(p, sf, "a reconcile "+key+" (SELECT COUNT(*) …)")
		return q
	}
	u.Source, u.Target = side("source"), side("target")
	tv, ok := f.get("tolerance")
	if !ok {
		u.Tolerance = Tolerance{} // exact: the numbers must be equal
		return
	}
	s, ok := d.scalarOf(tv, false)
	if !ok {
		return
	}
	if x, ok := parseShare(s.s); ok {
		u.Tolerance = Tolerance{Share: x}
		return
	}
	x, err := strconv.ParseFloat(strings.TrimSpace(s.s), 64)
	if err != nil || x < 0 || math.IsInf(x, 0) || math.IsNaN(x) {
		d.fail(tv, "bad tolerance %s; write a percentage of the source like 0.1%%, or an absolute number like 50", s.shown)
		return
	}
	u.Tolerance = Tolerance{Abs: x}
}

// renderSample renders a query over a sample run, so a template typo fails
// validate, not the gate.
func renderSample(p *Pipeline, query string) (string, error) {
	gate := time.Date(2025, 1, 31, 2, 0, 0, 0, p.Location)
	return RenderQuery(query, p.Name, "2025-01-31", gate)
}

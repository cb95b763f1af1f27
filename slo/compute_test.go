package slo

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/testkit/storetest"
)

// monthFixture is March 2026 (28 days) of two pipelines with outcomes
// chosen by hand; the expected figures in the tests below are worked out
// from this table, not from the code.
//
// alpha (Asia/Tokyo, gate 02:00 = 17:00Z the day before, deadline 06:00 =
// 21:00Z the day before, recover_by the end of the day = 15:00Z, objective 90%):
//
//	day  outcome                           finish vs deadline
//	1-7  met at 05:00 … 06:00 (10 min steps) -60 -50 -40 -30 -20 -10 0
//	8    late at 06:30                      +30
//	9    met at 04:00                       -120
//	10   failed                             -
//	11   failed, rerun succeeded 20:00      +840 (attempt 2)
//	12   skipped                            -
//	13   no run although the gate was due   -
//	14   timed out                          -
//	15   met at 05:00                       -60
//	16   late at 01:00 the next day         +1140 (misses the SLA too)
//	17-28 met at 05:30                      -30
//
// counted 27 (skipped 1); SLO met 21 -> 77.78%; SLA met 23 -> 85.19%;
// budget floor(0.1 * 27) - 6 = -4. Finish samples (24, minutes, sorted):
// -120 -60 -60 -50 -40 -30x13 -20 -10 0 30 840 1140: p50 (rank 12) -30,
// p95 (rank 23) +840. Durations are finish + 240 min: p50 210 min, p95
// 1080 min. Attempts 27 over 26 days with a run: 1.04.
//
// beta (UTC, gate-only, no SLO, gate 01:30): first run on the 20th, so the
// 1st-19th are not counted; 20-27 succeeded at 03:00 (90 min); 28 still
// waiting at now, past its recover_by (29th 00:00Z): SLA missed. Counted 9,
// SLA 8/9 = 88.89%.
func monthFixture(t *testing.T) (*config.Config, []runRow) {
	alpha := pipeline(t, "alpha", "0 2 * * *", "Asia/Tokyo", "06:00", 0.9)
	beta := pipeline(t, "beta", "30 1 * * *", "UTC", "", 0)
	cfg := config.Fill(&config.Config{Location: zone(t, "Asia/Tokyo"), Pipelines: []*config.Pipeline{beta, alpha}})

	var rows []runRow
	add := func(day int, state string, attempt int, success, finished string) {
		date := fmt.Sprintf("2026-03-%02d", day)
		prev := fmt.Sprintf("2026-03-%02d", day-1)
		if day == 1 {
			prev = "2026-02-28"
		}
		rows = append(rows, runRow{pipeline: "alpha", date: date, state: state, attempt: attempt,
			gate: prev + "T17:00:00.000Z", deadline: prev + "T21:00:00.000Z", recoverBy: date + "T15:00:00.000Z",
			success: success, finished: finished})
	}
	// at returns the stored UTC text of hh:mm JST on the given March day.
	at := func(day, hh, mm int) string {
		utcH := hh - 9
		if utcH < 0 {
			utcH += 24
			day--
		}
		if day == 0 {
			return fmt.Sprintf("2026-02-28T%02d:%02d:00.000Z", utcH, mm)
		}
		return fmt.Sprintf("2026-03-%02dT%02d:%02d:00.000Z", day, utcH, mm)
	}
	ok := func(day, hh, mm int) { s := at(day, hh, mm); add(day, "succeeded", 1, s, s) }
	for d := 1; d <= 6; d++ {
		ok(d, 5, (d-1)*10)
	}
	ok(7, 6, 0) // exactly at the deadline counts as met
	ok(8, 6, 30)
	ok(9, 4, 0)
	add(10, "failed", 1, "", at(10, 3, 0))
	add(11, "succeeded", 2, at(11, 20, 0), at(11, 20, 0))
	add(12, "skipped", 1, "", at(12, 2, 30))
	add(14, "timed_out", 1, "", at(14, 8, 0))
	ok(15, 5, 0)
	add(16, "succeeded", 1, at(17, 1, 0), at(17, 1, 0))
	for d := 17; d <= 28; d++ {
		ok(d, 5, 30)
	}
	for d := 20; d <= 28; d++ {
		date := fmt.Sprintf("2026-03-%02d", d)
		r := runRow{pipeline: "beta", date: date, state: "succeeded", gate: date + "T01:30:00.000Z",
			recoverBy: fmt.Sprintf("2026-03-%02dT00:00:00.000Z", d+1), success: date + "T03:00:00.000Z"}
		r.finished = r.success
		if d == 28 {
			r.state, r.success, r.finished = "waiting", "", ""
		}
		rows = append(rows, r)
	}
	return cfg, rows
}

var monthQuery = Query{From: "2026-03-01", To: "2026-03-28", Now: mustTimeNoT("2026-03-29T03:00:00Z")}

func mustTimeNoT(s string) time.Time {
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return v
}

func fp(v float64) *float64 { return &v }
func ip(v int) *int         { return &v }
func i64(v int64) *int64    { return &v }
func sp(v string) *string   { return &v }

var wantAlpha = Row{Pipeline: "alpha", Days: 27, SLODays: 27, SLOMet: 21, SLOPct: fp(77.78), SLADays: 27, SLAMet: 23,
	SLAPct: fp(85.19), Objective: fp(90), ErrorBudgetLeft: ip(-4), FinishP50: sp("-00:30"), FinishP95: sp("+14:00"),
	FinishP50Seconds: i64(-1800), FinishP95Seconds: i64(50400), DurationP50Seconds: i64(12600),
	DurationP95Seconds: i64(64800), AttemptsPerDay: fp(1.04), Skipped: 1, Missed: 6}

var wantBeta = Row{Pipeline: "beta", Days: 9, SLADays: 9, SLAMet: 8, SLAPct: fp(88.89),
	DurationP50Seconds: i64(5400), DurationP95Seconds: i64(5400), AttemptsPerDay: fp(1)}

// Overall: durations pool beta's 8 x 90 min in front of alpha's 24, so
// p50 is rank 16 of 32 (210 min) and p95 rank 31 (1080 min).
var wantOverall = Row{Days: 36, SLODays: 27, SLOMet: 21, SLOPct: fp(77.78), SLADays: 36, SLAMet: 31, SLAPct: fp(86.11),
	ErrorBudgetLeft: ip(-4), FinishP50: sp("-00:30"), FinishP95: sp("+14:00"), FinishP50Seconds: i64(-1800),
	FinishP95Seconds: i64(50400), DurationP50Seconds: i64(12600), DurationP95Seconds: i64(64800),
	AttemptsPerDay: fp(1.03), Skipped: 1, Missed: 6}

func TestComputeMonth(t *testing.T) {
	storetest.Each(t, func(t *testing.T, loc string) {
		cfg, rows := monthFixture(t)
		db := openFixtureAt(t, loc, rows)
		rep, err := Compute(context.Background(), db, cfg, monthQuery)
		if err != nil {
			t.Fatal(err)
		}
		want := &Report{From: "2026-03-01", To: "2026-03-28", Pipelines: []Row{wantAlpha, wantBeta}, Overall: wantOverall}
		if !reflect.DeepEqual(rep, want) {
			got, _ := json.MarshalIndent(rep, "", " ")
			exp, _ := json.MarshalIndent(want, "", " ")
			t.Fatalf("report\n got %s\nwant %s", got, exp)
		}

		one, err := Compute(context.Background(), db, cfg, Query{From: monthQuery.From, To: monthQuery.To, Now: monthQuery.Now, Pipeline: "alpha"})
		if err != nil {
			t.Fatal(err)
		}
		if len(one.Pipelines) != 1 || !reflect.DeepEqual(one.Pipelines[0], wantAlpha) {
			t.Fatalf("alpha alone = %+v", one.Pipelines)
		}
	})
}

func TestWriteFormats(t *testing.T) {
	cfg, rows := monthFixture(t)
	db := openFixture(t, rows)
	rep, err := Compute(context.Background(), db, cfg, monthQuery)
	if err != nil {
		t.Fatal(err)
	}

	var js bytes.Buffer
	if err := Write(&js, rep, "json"); err != nil {
		t.Fatal(err)
	}
	var generic map[string]any
	if err := json.Unmarshal(js.Bytes(), &generic); err != nil {
		t.Fatal(err)
	}
	p0 := generic["pipelines"].([]any)[0].(map[string]any)
	for k, v := range map[string]any{"pipeline": "alpha", "days": 27.0, "slo_met": 21.0, "slo_pct": 77.78,
		"sla_met": 23.0, "sla_pct": 85.19, "error_budget_left": -4.0, "finish_p50": "-00:30", "finish_p95": "+14:00",
		"duration_p50_seconds": 12600.0, "duration_p95_seconds": 64800.0, "attempts_per_day": 1.04} {
		if p0[k] != v {
			t.Errorf("json alpha %s = %v, want %v", k, p0[k], v)
		}
	}
	p1 := generic["pipelines"].([]any)[1].(map[string]any)
	for _, k := range []string{"slo_pct", "error_budget_left", "finish_p50", "objective"} {
		if v, ok := p1[k]; !ok || v != nil {
			t.Errorf("json beta %s = %v (present %v), want null", k, v, ok)
		}
	}
	if o := generic["overall"].(map[string]any); o["sla_pct"] != 86.11 || o["days"] != 36.0 {
		t.Errorf("json overall = %v", o)
	}

	var c bytes.Buffer
	if err := Write(&c, rep, "csv"); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&c).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	wantCSV := [][]string{CSVHeader,
		{"alpha", "27", "27", "21", "77.78", "27", "23", "85.19", "90", "-4", "6", "-00:30", "+14:00", "-1800", "50400", "12600", "64800", "1.04", "1"},
		{"beta", "9", "0", "0", "", "9", "8", "88.89", "", "", "0", "", "", "", "", "5400", "5400", "1", "0"},
		{"(overall)", "36", "27", "21", "77.78", "36", "31", "86.11", "", "-4", "6", "-00:30", "+14:00", "-1800", "50400", "12600", "64800", "1.03", "1"},
	}
	if !reflect.DeepEqual(recs, wantCSV) {
		t.Fatalf("csv\n got %q\nwant %q", recs, wantCSV)
	}

	var tb bytes.Buffer
	if err := Write(&tb, rep, "table"); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(tb.String(), "\n")
	find := func(prefix string) []string {
		for _, l := range lines {
			if strings.HasPrefix(l, prefix+" ") {
				return strings.Fields(l)
			}
		}
		t.Fatalf("no table line for %s in\n%s", prefix, tb.String())
		return nil
	}
	if got, want := find("alpha"), []string{"alpha", "27", "21/27", "77.78%", "23/27", "85.19%", "90%", "-4", "-00:30", "+14:00", "3h30m", "18h00m", "1.04", "1"}; !reflect.DeepEqual(got, want) {
		t.Errorf("table alpha = %q, want %q", got, want)
	}
	if got, want := find("beta"), []string{"beta", "9", "-", "-", "8/9", "88.89%", "-", "-", "-", "-", "1h30m", "1h30m", "1.00", "0"}; !reflect.DeepEqual(got, want) {
		t.Errorf("table beta = %q, want %q", got, want)
	}
	if got := find("(overall)"); got[1] != "36" || got[5] != "86.11%" {
		t.Errorf("table overall = %q", got)
	}
	// Columns line up: every row puts SLO % at the same offset.
	hdr := strings.Index(lines[2], "SLO %")
	for _, l := range lines[3:6] {
		if len(l) < hdr || l[hdr-1] != ' ' {
			t.Errorf("misaligned line %q", l)
		}
	}

	if err := Write(&tb, rep, "xml"); err == nil || !strings.Contains(err.Error(), "table, csv or json") {
		t.Errorf("bad format error = %v", err)
	}
}

func TestComputeErrorsAndEmpty(t *testing.T) {
	cfg, rows := monthFixture(t)
	db := openFixture(t, rows)
	ctx := context.Background()
	tests := []struct {
		name    string
		q       Query
		wantErr string
		is      error
	}{
		{name: "unknown pipeline", q: Query{Pipeline: "gamma", Now: monthQuery.Now}, wantErr: `pipeline "gamma" is not in`, is: sekisho.ErrNotFound},
		{name: "from after to", q: Query{From: "2026-03-10", To: "2026-03-01"}, wantErr: "from 2026-03-10 is after to 2026-03-01: swap them", is: ErrBadRange},
		{name: "bad date", q: Query{From: "2026-3-1", To: "2026-03-01"}, wantErr: `from "2026-3-1" is not a date`, is: ErrBadRange},
		{name: "impossible date", q: Query{To: "2026-02-30"}, wantErr: `to "2026-02-30" is not a date`, is: ErrBadRange},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Compute(ctx, db, cfg, tt.q)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.Is(err, tt.is) {
				t.Fatalf("err = %v, want %q wrapping %v", err, tt.wantErr, tt.is)
			}
			if _, err := Daily(ctx, db, cfg, tt.q); !errors.Is(err, tt.is) {
				t.Fatalf("daily err = %v", err)
			}
		})
	}

	t.Run("empty range", func(t *testing.T) {
		rep, err := Compute(ctx, db, cfg, Query{From: "2025-01-01", To: "2025-01-28", Now: monthQuery.Now})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range append(rep.Pipelines, rep.Overall) {
			if r.Days != 0 || r.SLOPct != nil || r.SLAPct != nil || r.AttemptsPerDay != nil || r.FinishP50 != nil {
				t.Fatalf("row = %+v", r)
			}
		}
		var b bytes.Buffer
		if err := Write(&b, rep, "table"); err != nil || !strings.Contains(b.String(), "No day between 2025-01-01 and 2025-01-28 is counted yet") {
			t.Fatalf("table = %s (err %v)", b.String(), err)
		}
		b.Reset()
		if err := Write(&b, rep, "json"); err != nil || !strings.Contains(b.String(), `"slo_pct": null`) {
			t.Fatalf("json = %s (err %v)", b.String(), err)
		}
	})

	t.Run("no pipelines", func(t *testing.T) {
		rep, err := Compute(ctx, db, config.Fill(&config.Config{}), monthQuery)
		if err != nil || len(rep.Pipelines) != 0 || rep.Overall.Days != 0 {
			t.Fatalf("rep = %+v err = %v", rep, err)
		}
		var b bytes.Buffer
		Write(&b, rep, "table")
		if !strings.Contains(b.String(), "No pipelines are configured") {
			t.Fatal(b.String())
		}
	})

	t.Run("default range is the last 28 days in the config zone", func(t *testing.T) {
		// 2026-03-28T20:00Z is already the 29th in Tokyo.
		rep, err := Compute(ctx, db, cfg, Query{Now: mustTimeNoT("2026-03-28T20:00:00Z")})
		if err != nil || rep.From != "2026-03-02" || rep.To != "2026-03-29" {
			t.Fatalf("range %s..%s err %v", rep.From, rep.To, err)
		}
	})
}

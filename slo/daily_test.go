package slo

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"

	"github.com/sekisho-dev/sekisho/testkit/storetest"
)

func TestDailyMonth(t *testing.T) {
	storetest.Each(t, func(t *testing.T, loc string) {
		cfg, rows := monthFixture(t)
		db := openFixtureAt(t, loc, rows)
		cells, err := Daily(context.Background(), db, cfg, monthQuery)
		if err != nil {
			t.Fatal(err)
		}
		if len(cells) != 56 {
			t.Fatalf("%d cells, want 2 x 28", len(cells))
		}

		var grid bytes.Buffer
		if err := WriteDaily(&grid, cells, "table"); err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(grid.String(), "\n")
		want := []string{
			"2026-03-01 to 2026-03-28",
			"PIPELINE 01 02 03 04 05 06 07 08 09 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28",
			"alpha    ✅ ✅ ✅ ✅ ✅ ✅ ✅ 🐢 ✅ 🚨 🐢 ⏭  🚨 🚨 ✅ 🐢 ✅ ✅ ✅ ✅ ✅ ✅ ✅ ✅ ✅ ✅ ✅ ✅",
			"beta                                                              ✅ ✅ ✅ ✅ ✅ ✅ ✅ ✅ ⏳",
		}
		for i, w := range want {
			if lines[i] != w {
				t.Errorf("grid line %d\n got %q\nwant %q", i, lines[i], w)
			}
		}

		var c bytes.Buffer
		if err := WriteDaily(&c, cells, "csv"); err != nil {
			t.Fatal(err)
		}
		recs, err := csv.NewReader(&c).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		checks := map[int]string{
			8:  "alpha,2026-03-08,late,succeeded,true,false,true,2026-03-07T17:00:00.000Z,2026-03-07T21:00:00.000Z,2026-03-08T15:00:00.000Z,2026-03-07T21:30:00.000Z,1",
			12: "alpha,2026-03-12,skipped,skipped,false,,,2026-03-11T17:00:00.000Z,2026-03-11T21:00:00.000Z,2026-03-12T15:00:00.000Z,,1",
			13: "alpha,2026-03-13,missed,,true,false,false,2026-03-12T17:00:00.000Z,2026-03-12T21:00:00.000Z,2026-03-13T15:00:00.000Z,,0",
			29: "beta,2026-03-01,none,,false,,,2026-03-01T01:30:00.000Z,,,,0",
			56: "beta,2026-03-28,open,waiting,true,,false,2026-03-28T01:30:00.000Z,,2026-03-29T00:00:00.000Z,,1",
		}
		for i, w := range checks {
			if got := strings.Join(recs[i], ","); got != w {
				t.Errorf("csv line %d\n got %s\nwant %s", i, got, w)
			}
		}

		var js bytes.Buffer
		if err := WriteDaily(&js, cells[10:11], "json"); err != nil {
			t.Fatal(err)
		}
		var back []map[string]any
		if err := json.Unmarshal(js.Bytes(), &back); err != nil {
			t.Fatal(err)
		}
		// Day 11 succeeded on its second attempt at 20:00 Tokyo time.
		if b := back[0]; b["state"] != "late" || b["attempts"] != 2.0 || b["finished_at"] != "2026-03-11T20:00:00+09:00" ||
			b["deadline"] != "2026-03-11T06:00:00+09:00" || b["slo_met"] != false || b["sla_met"] != true {
			t.Fatalf("json cell = %v", b)
		}

		var empty bytes.Buffer
		if err := WriteDaily(&empty, nil, "table"); err != nil || !strings.Contains(empty.String(), "No pipelines to show") {
			t.Fatalf("empty grid = %q %v", empty.String(), err)
		}
		empty.Reset()
		if err := WriteDaily(&empty, nil, "json"); err != nil || strings.TrimSpace(empty.String()) != "[]" {
			t.Fatalf("empty json = %q %v", empty.String(), err)
		}
	})
}

package slo

import (
	"testing"

	"github.com/sekisho-dev/sekisho/marks"
)

// TestEveryCellHasItsMark: each day state of the grid has a mark and a word
// in the one table, and the grid's legend is read from it.
func TestEveryCellHasItsMark(t *testing.T) {
	for _, c := range []CellState{CellMet, CellLate, CellFailed, CellTimedOut, CellSkipped, CellMissed, CellOpen,
		CellNone, CellHoliday} {
		m := c.Mark()
		if m.Emoji == marks.Day("?").Emoji || m.Ja == "" || m.En == "" {
			t.Errorf("cell %s has no mark: %+v", c, m)
		}
		if (m.Emoji == "") != (c == CellNone) {
			t.Errorf("cell %s: emoji %q (only a day with no gate due is blank)", c, m.Emoji)
		}
	}
	const want = "✅ met  🐢 late  🚨 failed / timed out / missed  ⏳ in progress  ⏭ skipped  ⛱ day off  (blank) no gate due"
	if got := legend(); got != want {
		t.Errorf("legend\n got %s\nwant %s", got, want)
	}
}

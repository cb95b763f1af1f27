package slo

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/sekisho-dev/sekisho/marks"
)

// WriteDaily prints the day-by-day grid: for people a table with one line
// per pipeline and one mark per day, for BI a CSV or JSON row per cell.
func WriteDaily(w io.Writer, cells []Cell, format string) error {
	switch format {
	case "table", "":
		return writeGrid(w, cells)
	case "csv":
		return writeDailyCSV(w, cells)
	case "json":
		if cells == nil {
			cells = []Cell{}
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(cells)
	}
	return badFormat(format)
}

// LegendCells are the day states a legend explains, in its order: the
// grid's line under `sekisho slo --daily` and the board's history bar.
var LegendCells = []CellState{CellMet, CellLate, CellFailed, CellTimedOut, CellMissed, CellOpen, CellSkipped, CellHoliday}

// legend explains the grid's marks, from the one table of package marks:
// "✅ met  🐢 late  🚨 failed / timed out / missed  …  (blank) no gate due".
func legend() string {
	ms := make([]marks.Mark, len(LegendCells))
	for i, c := range LegendCells {
		ms[i] = c.Mark()
	}
	var parts []string
	for _, e := range marks.Legend(ms, "en") {
		parts = append(parts, e.Emoji+" "+e.Words)
	}
	return strings.Join(append(parts, "(blank) "+CellNone.Mark().En), "  ")
}

func writeGrid(w io.Writer, cells []Cell) error {
	if len(cells) == 0 {
		_, err := fmt.Fprintln(w, "No pipelines to show: the config declares none, or none matches --pipeline.")
		return err
	}
	// Cells come per pipeline, each over the same dates.
	var dates []string
	for _, c := range cells {
		if c.Pipeline != cells[0].Pipeline {
			break
		}
		dates = append(dates, c.Date)
	}
	width := len("PIPELINE")
	for i := 0; i < len(cells); i += len(dates) {
		width = max(width, len(cells[i].Pipeline))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s to %s\n", dates[0], dates[len(dates)-1])
	fmt.Fprintf(&b, "%-*s", width, "PIPELINE")
	for _, d := range dates {
		b.WriteString(" " + d[8:10])
	}
	b.WriteString("\n")
	for i := 0; i+len(dates) <= len(cells); i += len(dates) {
		fmt.Fprintf(&b, "%-*s", width, cells[i].Pipeline)
		for _, c := range cells[i : i+len(dates)] {
			b.WriteString(" " + marks.Pad(c.State.Symbol(), 2))
		}
		b.WriteString("\n")
		if b.Len() > 64<<10 {
			if _, err := io.WriteString(w, b.String()); err != nil {
				return err
			}
			b.Reset()
		}
	}
	b.WriteString("\n" + legend() + "\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// DailyCSVHeader is the first line of the daily CSV.
var DailyCSVHeader = []string{"pipeline", "date", "state", "run_state", "counted", "slo_met", "sla_met",
	"gate_at", "deadline", "recover_by", "finished_at", "attempts"}

func writeDailyCSV(w io.Writer, cells []Cell) error {
	cw := csv.NewWriter(w)
	cw.Write(DailyCSVHeader)
	for _, c := range cells {
		cw.Write([]string{c.Pipeline, c.Date, string(c.State), string(c.RunState), strconv.FormatBool(c.Counted),
			boolText(c.SLOMet), boolText(c.SLAMet), utc(c.GateAt), utc(c.Deadline), utc(c.RecoverBy),
			utc(c.FinishedAt), strconv.Itoa(c.Attempts)})
	}
	cw.Flush()
	return cw.Error()
}

func boolText(b *bool) string {
	if b == nil {
		return ""
	}
	return strconv.FormatBool(*b)
}

// utc writes times as the store and the export do, RFC 3339 in UTC, which
// BI tools load as timestamps without a zone to guess.
func utc(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}

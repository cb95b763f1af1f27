package slo

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"
)

// Formats lists the output formats of Write and WriteDaily.
var Formats = []string{"table", "csv", "json"}

// OverallName labels the overall row in tables and CSV; pipeline names are
// lowercase, so it cannot collide with one.
const OverallName = "(overall)"

func badFormat(format string) error {
	return fmt.Errorf("unknown format %q: use table, csv or json", format)
}

// Write prints the report as an aligned table for people, CSV for
// spreadsheets, or the JSON of SPEC §8.
func Write(w io.Writer, rep *Report, format string) error {
	switch format {
	case "table", "":
		return writeTable(w, rep)
	case "csv":
		return writeCSV(w, rep)
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	return badFormat(format)
}

func writeTable(w io.Writer, rep *Report) error {
	fmt.Fprintf(w, "SLO report %s to %s\n\n", rep.From, rep.To)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "PIPELINE\tDAYS\tSLO MET\tSLO %\tSLA MET\tSLA %\tOBJECTIVE\tBUDGET LEFT\tFINISH P50\tFINISH P95\tDURATION P50\tDURATION P95\tATTEMPTS/DAY\tSKIPPED")
	line := func(r Row) {
		name := r.Pipeline
		if name == "" {
			name = OverallName
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\n", name, r.Days,
			ratio(r.SLOMet, r.SLODays), pctText(r.SLOPct), ratio(r.SLAMet, r.SLADays), pctText(r.SLAPct),
			pctText(r.Objective), intText(r.ErrorBudgetLeft), strText(r.FinishP50), strText(r.FinishP95),
			durText(r.DurationP50Seconds), durText(r.DurationP95Seconds), floatText(r.AttemptsPerDay), r.Skipped)
	}
	for _, r := range rep.Pipelines {
		line(r)
	}
	if len(rep.Pipelines) > 1 {
		line(rep.Overall)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	switch {
	case len(rep.Pipelines) == 0:
		_, err := fmt.Fprintln(w, "\nNo pipelines are configured: add some to pipelines.yaml (see sekisho validate).")
		return err
	case rep.Overall.Days == 0:
		_, err := fmt.Fprintf(w, "\nNo day between %s and %s is counted yet: there are no runs in the range, or every gate and deadline is still ahead. Check --from, --to and --db.\n", rep.From, rep.To)
		return err
	}
	_, err := fmt.Fprintln(w, "\nFINISH: first success against the deadline (-00:42 = 42 minutes early). DURATION: gate to first success.")
	for _, r := range rep.Pipelines {
		if r.Intervals != nil && err == nil {
			_, err = fmt.Fprintf(w, "%s runs more than once a day: %s intervals met; a day is met when all of its intervals are.\n",
				r.Pipeline, ratio(*r.IntervalsMet, *r.Intervals))
		}
	}
	return err
}

// CSVHeader is the first line of the CSV report.
var CSVHeader = []string{"pipeline", "days", "slo_days", "slo_met", "slo_pct", "sla_days", "sla_met", "sla_pct",
	"objective", "error_budget_left", "slo_missed", "finish_p50", "finish_p95", "finish_p50_seconds", "finish_p95_seconds",
	"duration_p50_seconds", "duration_p95_seconds", "attempts_per_day", "skipped"}

func writeCSV(w io.Writer, rep *Report) error {
	cw := csv.NewWriter(w)
	cw.Write(CSVHeader)
	rec := func(r Row) {
		name := r.Pipeline
		if name == "" {
			name = OverallName
		}
		cw.Write([]string{name, strconv.Itoa(r.Days), strconv.Itoa(r.SLODays), strconv.Itoa(r.SLOMet), num(r.SLOPct),
			strconv.Itoa(r.SLADays), strconv.Itoa(r.SLAMet), num(r.SLAPct), num(r.Objective), numInt(r.ErrorBudgetLeft),
			strconv.Itoa(r.Missed), deref(r.FinishP50), deref(r.FinishP95), numInt(r.FinishP50Seconds),
			numInt(r.FinishP95Seconds), numInt(r.DurationP50Seconds), numInt(r.DurationP95Seconds),
			num(r.AttemptsPerDay), strconv.Itoa(r.Skipped)})
	}
	for _, r := range rep.Pipelines {
		rec(r)
	}
	rec(rep.Overall)
	cw.Flush()
	return cw.Error()
}

// CSV leaves a null empty, which spreadsheets and bq load read as NULL.
func num(v *float64) string {
	if v == nil {
		return ""
	}
	return strconv.FormatFloat(*v, 'f', -1, 64)
}

func numInt[T int | int64](v *T) string {
	if v == nil {
		return ""
	}
	return strconv.FormatInt(int64(*v), 10)
}

func deref(v *string) string {
	if v == nil {
		return ""
	}
	return *v
}

// Tables show a dash for a null, so a column never looks like a zero.
const dash = "-"

func ratio(n, of int) string {
	if of == 0 {
		return dash
	}
	return fmt.Sprintf("%d/%d", n, of)
}

func pctText(v *float64) string {
	if v == nil {
		return dash
	}
	return strconv.FormatFloat(*v, 'f', -1, 64) + "%"
}

func floatText(v *float64) string {
	if v == nil {
		return dash
	}
	return strconv.FormatFloat(*v, 'f', 2, 64)
}

func intText(v *int) string {
	if v == nil {
		return dash
	}
	return strconv.Itoa(*v)
}

func strText(v *string) string {
	if v == nil {
		return dash
	}
	return *v
}

func durText(v *int64) string {
	if v == nil {
		return dash
	}
	return Duration(*v)
}

// Duration formats seconds for people: "3h02m", "45m", "30s".
func Duration(sec int64) string {
	sign := ""
	if sec < 0 {
		sign, sec = "-", -sec
	}
	h, m, s := sec/3600, sec/60%60, sec%60
	switch {
	case h > 0:
		return fmt.Sprintf("%s%dh%02dm", sign, h, m)
	case m > 0 && s == 0:
		return fmt.Sprintf("%s%dm", sign, m)
	case m > 0:
		return fmt.Sprintf("%s%dm%02ds", sign, m, s)
	}
	return fmt.Sprintf("%s%ds", sign, s)
}

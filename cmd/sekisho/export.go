package main

import (
	"github.com/sekisho-dev/sekisho/export"
)

var cmdExport = &command{
	name:    "export",
	summary: "write runs, transitions or slo_daily as NDJSON or CSV, for BI loads",
	usage:   "export --table runs|transitions|slo_daily [--format ndjson|csv] [-c FILE] [--db PATH]",
	run: func(e *env, c *command, args []string) error {
		f := newFlags(e, c, true)
		table := f.String("table", "", "runs, transitions or slo_daily")
		format := f.String("format", "ndjson", "ndjson or csv")
		pos, err := f.parse(e, args)
		if err != nil {
			return err
		}
		if err := noArgs(f.cmd, pos); err != nil {
			return err
		}
		switch *table {
		case "runs", "transitions", "slo_daily":
		default:
			return usagef("--table %q: want runs, transitions or slo_daily", *table)
		}
		switch *format {
		case "ndjson", "csv":
		default:
			return usagef("--format %q: want ndjson or csv", *format)
		}
		_, st, err := f.open(e)
		if err != nil {
			return err
		}
		defer st.Close()
		return export.Export(e.ctx, st, *table, *format, e.stdout)
	},
}

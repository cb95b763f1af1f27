package main

import (
	"errors"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/slo"
)

var cmdReport = &command{
	name:    "report",
	summary: "report SLO/SLA attainment: 'report slo'",
	usage:   "report slo [--from D] [--to D] [--pipeline P] [--daily] [--format table|csv|json] [-c FILE] [--db PATH]",
	run: func(e *env, c *command, args []string) error {
		f := newFlags(e, c, true)
		from := f.String("from", "", "first logical date (default: 27 days before --to)")
		to := f.String("to", "", "last logical date (default: today)")
		pipeline := f.String("pipeline", "", "only this pipeline")
		daily := f.Bool("daily", false, "print the day-by-day grid")
		format := f.String("format", "table", "table, csv or json")
		pos, err := f.parse(e, args)
		if err != nil {
			return err
		}
		if len(pos) != 1 || pos[0] != "slo" {
			return usagef("want 'sekisho report slo' (see 'sekisho report --help')")
		}
		if err := checkDate("--from", *from); err != nil {
			return err
		}
		if err := checkDate("--to", *to); err != nil {
			return err
		}
		switch *format {
		case "table", "csv", "json":
		default:
			return usagef("--format %q: want table, csv or json", *format)
		}
		cfg, st, err := f.open(e)
		if err != nil {
			return err
		}
		defer st.Close()
		if *pipeline != "" && cfg.Pipeline(*pipeline) == nil {
			return usagef("unknown pipeline %q", *pipeline)
		}
		q := slo.Query{From: *from, To: *to, Pipeline: *pipeline, Now: time.Now()}
		if *daily {
			cells, err := slo.Daily(e.ctx, st, cfg, q)
			if err != nil {
				return reportErr(err)
			}
			return slo.WriteDaily(e.stdout, cells, *format)
		}
		rep, err := slo.Compute(e.ctx, st, cfg, q)
		if err != nil {
			return reportErr(err)
		}
		return slo.Write(e.stdout, rep, *format)
	},
}

// reportErr turns a bad query into a usage error.
func reportErr(err error) error {
	if errors.Is(err, sekisho.ErrNotFound) || errors.Is(err, slo.ErrBadRange) {
		return usagef("%v", err)
	}
	return err
}

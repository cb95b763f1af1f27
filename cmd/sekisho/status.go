package main

import (
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/status"
)

var cmdStatus = &command{
	name:    "status",
	summary: "print the day's state of every pipeline, like the board",
	usage:   "status [--date YYYY-MM-DD] [--now T] [--json] [-c FILE] [--db PATH]",
	run: func(e *env, c *command, args []string) error {
		f := newFlags(e, c, true)
		date := f.String("date", "", "logical date (default: each pipeline's today)")
		asJSON := f.Bool("json", false, "print the /api/v1/status JSON")
		clock := f.now()
		pos, err := f.parse(e, args)
		if err != nil {
			return err
		}
		if err := noArgs(f.cmd, pos); err != nil {
			return err
		}
		if err := checkDate("--date", *date); err != nil {
			return err
		}
		now, err := clock()
		if err != nil {
			return err
		}
		cfg, st, err := f.open(e)
		if err != nil {
			return err
		}
		defer st.Close()
		b, err := status.Build(e.ctx, st, cfg, *date, now)
		if err != nil {
			return err
		}
		if *asJSON {
			return b.WriteJSON(e.stdout)
		}
		return status.WriteTable(e.stdout, b)
	},
}

// checkDate refuses a date that is not YYYY-MM-DD.
func checkDate(flag, d string) error {
	if d == "" {
		return nil
	}
	if _, err := time.Parse(sekisho.DateLayout, d); err != nil {
		return usagef("%s %q: want a date like 2026-11-21", flag, d)
	}
	return nil
}

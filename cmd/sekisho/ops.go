package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/engine"
)

var cmdRerun = &command{
	name:    "rerun",
	summary: "start a new attempt of a finished run (works with or without the daemon)",
	usage:   "rerun PIPELINE [--date YYYY-MM-DD] [--anyway] [-c FILE] [--db PATH]",
}

var cmdSkip = &command{
	name:    "skip",
	summary: "mark a day skipped: left out of SLO/SLA, done for pipelines downstream",
	usage:   "skip PIPELINE [--date YYYY-MM-DD] [-c FILE] [--db PATH]",
}

func init() {
	cmdRerun.run = operate
	cmdSkip.run = operate
}

func operate(e *env, c *command, args []string) error {
	f := newFlags(e, c, true)
	date := f.String("date", "", "logical date (default: the pipeline's today)")
	anyway := new(bool)
	if c.name == "rerun" {
		anyway = f.Bool("anyway", false, "rerun even when a job the last attempt's unanswered trigger request may have started is known")
	}
	pos, err := f.parse(e, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("want exactly one pipeline name (see 'sekisho %s --help')", c.name)
	}
	if err := checkDate("--date", *date); err != nil {
		return err
	}
	cfg, st, err := f.open(e)
	if err != nil {
		return err
	}
	defer st.Close()
	p := cfg.Pipeline(pos[0])
	if p == nil {
		return usagef("unknown pipeline %q", pos[0])
	}
	now := time.Now()
	d := *date
	if d == "" {
		d = sekisho.DateOf(now, p.Location)
	}
	var r sekisho.Run
	switch {
	case c.name == "rerun" && *anyway:
		r, err = engine.RerunAnyway(e.ctx, st, cfg, p.Name, d, now, engine.By{Who: engine.ByCLI})
	case c.name == "rerun":
		r, err = engine.Rerun(e.ctx, st, cfg, p.Name, d, now, engine.By{Who: engine.ByCLI})
	default:
		r, err = engine.Skip(e.ctx, st, p.Name, d, now, engine.By{Who: engine.ByCLI})
	}
	switch {
	case errors.Is(err, sekisho.ErrNotFound):
		return usagef("%s has no run on %s", p.Name, d)
	case errors.Is(err, sekisho.ErrConflict):
		return usagef("%v", err)
	case err != nil:
		return err
	}
	fmt.Fprintf(e.stdout, "%s %s: %s (attempt %d)\n", r.Pipeline, r.LogicalDate, r.State, r.Attempt)
	return nil
}

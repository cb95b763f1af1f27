package main

import (
	"fmt"
	"time"

	"github.com/sekisho-dev/sekisho/policy/budget"
)

var cmdValidate = &command{
	name:    "validate",
	summary: "check pipelines.yaml and print every problem (exit 0 valid, 2 invalid)",
	usage:   "validate [-c FILE]",
	run: func(e *env, c *command, args []string) error {
		f := newFlags(e, c, false)
		pos, err := f.parse(e, args)
		if err != nil {
			return err
		}
		if err := noArgs(f.cmd, pos); err != nil {
			return err
		}
		cfg, err := f.loadConfig()
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "%s: ok, %d pipelines\n", f.configPath(), len(cfg.Pipelines))
		for _, w := range budget.Warnings(cfg) {
			fmt.Fprintf(e.stdout, "warning: %s\n", w)
		}
		for _, w := range cfg.CalendarWarnings(time.Now()) {
			fmt.Fprintf(e.stdout, "warning: %s\n", w)
		}
		return nil
	},
}

package main

import (
	"fmt"
	"strings"
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
		// The shape is checked without the production secrets (CI, a
		// laptop): their variables left unset are named, not refused;
		// run refuses them.
		cfg, err := f.loadConfigFor(true)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "%s: ok, %d pipelines\n", f.configPath(), len(cfg.Pipelines))
		if n := cfg.UnsetSecrets; len(n) > 0 {
			verb, obj := "is", "it"
			if len(n) > 1 {
				verb, obj = "are", "them"
			}
			fmt.Fprintf(e.stdout, "warning: %s %s not set: 'sekisho run' will need %s\n", andList(n), verb, obj)
		}
		for _, w := range budget.Warnings(cfg) {
			fmt.Fprintf(e.stdout, "warning: %s\n", w)
		}
		for _, w := range cfg.CalendarWarnings(time.Now()) {
			fmt.Fprintf(e.stdout, "warning: %s\n", w)
		}
		return nil
	},
}

// andList writes names as "A", "A and B", "A, B and C".
func andList(names []string) string {
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

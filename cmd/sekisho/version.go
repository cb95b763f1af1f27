package main

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// Set with -ldflags "-X main.version=… -X main.commit=…" by release builds.
var (
	version = "dev"
	commit  = ""
)

var cmdVersion = &command{
	name:    "version",
	summary: "print the version, commit and Go version",
	usage:   "version",
	run: func(e *env, c *command, args []string) error {
		f := newFlags(e, c, false)
		if _, err := f.parse(e, args); err != nil {
			return err
		}
		rev := commit
		if rev == "" {
			rev = "unknown"
			if bi, ok := debug.ReadBuildInfo(); ok {
				for _, s := range bi.Settings {
					if s.Key == "vcs.revision" {
						rev = s.Value
					}
				}
			}
		}
		fmt.Fprintf(e.stdout, "sekisho %s (commit %s, %s %s/%s)\n", version, rev, runtime.Version(), runtime.GOOS, runtime.GOARCH)
		return nil
	},
}

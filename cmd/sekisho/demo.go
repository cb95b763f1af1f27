package main

var cmdDemo = &command{
	name:    "demo",
	summary: "run the whole system against built-in simulators (no cloud account needed)",
	usage:   "demo [--speed N] [--days N] [--listen ADDR] [--seed N] [--db PATH]",
	run: func(e *env, c *command, args []string) error {
		return usagef("the demo is not built yet")
	},
}

package main

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/sekisho-dev/sekisho/store"
)

var cmdMigrate = &command{
	name:    "migrate",
	summary: "bring the store's schema up to date, or copy a SQLite history into PostgreSQL",
	usage:   "migrate [-c FILE] [--db PATH]  |  migrate --from sqlite:PATH --to postgres://USER@HOST/DB",
	run: func(e *env, c *command, args []string) error {
		f := newFlags(e, c, true)
		f.migrate = true
		from := f.String("from", "", "SQLite store to copy from (sqlite:PATH); stop its daemon first")
		to := f.String("to", "", "empty PostgreSQL store to copy into (postgres://…; the password may come from $PGPASSWORD)")
		pos, err := f.parse(e, args)
		if err != nil {
			return err
		}
		if err := noArgs(f.cmd, pos); err != nil {
			return err
		}
		if *from == "" && *to == "" {
			_, st, err := f.open(e)
			if err != nil {
				return err
			}
			defer st.Close()
			v, err := st.SchemaVersion(e.ctx)
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "store %s is at schema version %d\n", st.Path(), v)
			return nil
		}
		return copyStore(e, *from, *to)
	},
}

// copyStore is sekisho migrate --from --to (SPEC §14): the whole history of
// a SQLite store into an empty PostgreSQL one, counts checked.
func copyStore(e *env, from, to string) error {
	if from == "" || to == "" {
		return usagef("--from and --to go together: migrate --from sqlite:PATH --to postgres://…")
	}
	if store.IsPostgresURL(from) {
		return usagef("--from %s: copy from a SQLite store (sqlite:PATH)", store.RedactURL(from))
	}
	if !store.IsPostgresURL(to) {
		return usagef("--to %s: copy into a PostgreSQL store (postgres://USER@HOST/DB)", to)
	}
	src, err := store.Open(e.ctx, strings.TrimPrefix(from, "sqlite:"))
	if err != nil {
		return err
	}
	defer src.Close()
	// The daemon's lock: a daemon still writing would leave its later
	// history behind.
	if err := src.LockDaemon(); err != nil {
		return err
	}
	dst, err := store.Init(e.ctx, to)
	if err != nil {
		return err
	}
	defer dst.Close()
	counts, err := store.CopyAll(e.ctx, src, dst)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TABLE\tROWS")
	var total int64
	for _, c := range counts {
		fmt.Fprintf(tw, "%s\t%d\n", c.Table, c.Rows)
		total += c.Rows
	}
	tw.Flush()
	fmt.Fprintf(e.stdout, "copied %d rows from %s to %s; the counts match\n", total, src.Path(), dst.Path())
	return nil
}

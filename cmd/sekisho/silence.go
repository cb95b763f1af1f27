package main

import (
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/store"
)

var cmdSilence = &command{
	name:    "silence",
	summary: "pause a pipeline's Slack notices for a maintenance window (works with or without the daemon)",
	usage: "silence add --pipeline P [--pipeline Q] --until T --reason R [--now T] [-c FILE] [--db PATH]\n" +
		"       sekisho silence list [--all] [--now T] [-c FILE] [--db PATH]\n" +
		"       sekisho silence expire ID [--now T] [-c FILE] [--db PATH]",
}

func init() { cmdSilence.run = silence }

// silence writes to the store directly: the daemon's notice sender reads
// the silences before each notice it sends, so nothing needs to reach it.
func silence(e *env, c *command, args []string) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			fmt.Fprintf(e.stdout, "Usage: sekisho %s\n\n%s\n", c.usage, c.summary)
			return nil
		}
		return usagef("want add, list or expire (see 'sekisho silence --help')")
	}
	switch args[0] {
	case "add":
		return silenceAdd(e, c, args[1:])
	case "list":
		return silenceList(e, c, args[1:])
	case "expire":
		return silenceExpire(e, c, args[1:])
	}
	return usagef("unknown silence command %q: want add, list or expire", args[0])
}

func silenceAdd(e *env, c *command, args []string) error {
	f := newFlags(e, c, true)
	var pipelines []string
	f.Func("pipeline", "a pipeline to silence (repeat for more)", func(s string) error {
		pipelines = append(pipelines, s)
		return nil
	})
	until := f.String("until", "", "end of the window: an RFC 3339 time (2026-11-21T06:00:00+09:00) or a duration from now (2h)")
	reason := f.String("reason", "", "why, shown on the board and in the API")
	clock := f.now()
	pos, err := f.parse(e, args)
	if err != nil {
		return err
	}
	if err := noArgs(c, pos); err != nil {
		return err
	}
	now, err := clock()
	if err != nil {
		return err
	}
	end, err := parseUntil(*until, now)
	if err != nil {
		return err
	}
	cfg, st, err := f.open(e)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := store.CheckSilencePipelines(pipelines, func(n string) bool { return cfg.Pipeline(n) != nil }); err != nil {
		return usagef("%v", err)
	}
	sil, err := st.AddSilence(e.ctx, store.Silence{Pipelines: pipelines, Reason: *reason, StartsAt: now, EndsAt: end, CreatedAt: now})
	if errors.Is(err, store.ErrBadSilence) {
		return usagef("%v", err)
	}
	if err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, sil.ID)
	return nil
}

// parseUntil reads --until: an RFC 3339 time, or a duration from now.
func parseUntil(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, usagef("--until is required: an RFC 3339 time or a duration such as 2h")
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return now.Add(d), nil
	}
	return time.Time{}, usagef("--until %q is neither an RFC 3339 time (2026-11-21T06:00:00+09:00) nor a positive duration (2h)", s)
}

func silenceList(e *env, c *command, args []string) error {
	f := newFlags(e, c, true)
	all := f.Bool("all", false, "also list silences that have ended")
	clock := f.now()
	pos, err := f.parse(e, args)
	if err != nil {
		return err
	}
	if err := noArgs(c, pos); err != nil {
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
	since := now
	if *all {
		since = time.Time{}
	}
	list, err := st.SilencesEndingAfter(e.ctx, since)
	if err != nil {
		return err
	}
	if len(list) == 0 {
		if *all {
			fmt.Fprintln(e.stdout, "No silences. Add one with 'sekisho silence add'.")
		} else {
			fmt.Fprintln(e.stdout, "No active or pending silences ('--all' lists ended ones too).")
		}
		return nil
	}
	loc := cfg.Location
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATE\tPIPELINES\tFROM\tUNTIL\tREASON")
	for _, s := range list {
		state := "ended"
		switch {
		case s.ActiveAt(now):
			state = "active"
		case now.Before(s.StartsAt):
			state = "pending"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", s.ID, state, strings.Join(s.Pipelines, ","),
			silenceTime(s.StartsAt, loc), silenceTime(s.End(), loc), s.Reason)
	}
	return tw.Flush()
}

func silenceExpire(e *env, c *command, args []string) error {
	f := newFlags(e, c, true)
	clock := f.now()
	pos, err := f.parse(e, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("want exactly one silence id (see 'sekisho silence list')")
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
	sil, err := st.ExpireSilence(e.ctx, pos[0], now)
	if errors.Is(err, sekisho.ErrNotFound) {
		return usagef("no silence %s (see 'sekisho silence list --all')", pos[0])
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%s ended at %s\n", sil.ID, silenceTime(sil.End(), cfg.Location))
	return nil
}

// silenceTime is how silence commands print a time: in the config's time
// zone, as the board does, with the zone named.
func silenceTime(t time.Time, loc *time.Location) string {
	return t.In(loc).Format("2006-01-02 15:04 MST")
}

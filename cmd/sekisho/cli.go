package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/sekisho-dev/sekisho/condition"
	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/daemon"
	"github.com/sekisho-dev/sekisho/store"
)

// Exit codes (SPEC §9).
const (
	exitOK      = 0
	exitRuntime = 1
	exitUsage   = 2
)

// usageError is a bad command line or configuration: exit 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

// env is what a command runs with.
type env struct {
	ctx    context.Context
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

type command struct {
	name    string
	summary string
	usage   string
	run     func(e *env, c *command, args []string) error
}

var commands []*command

func init() {
	commands = []*command{cmdRun, cmdValidate, cmdStatus, cmdReport, cmdRerun, cmdSkip, cmdSilence, cmdExport, cmdCalendar, cmdMigrate, cmdDemo, cmdVersion}
}

// Main runs one sekisho command and returns its exit code.
func Main(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	e := &env{ctx: ctx, stdin: stdin, stdout: stdout, stderr: stderr}
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		printUsage(stdout)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	name := args[0]
	for _, c := range commands {
		if c.name == name {
			err := c.run(e, c, args[1:])
			return report(stderr, name, err)
		}
	}
	names := make([]string, len(commands))
	for i, c := range commands {
		names[i] = c.name
	}
	if s := condition.Suggest(name, names); s != "" {
		fmt.Fprintf(stderr, "sekisho: unknown command %q (did you mean %q? run 'sekisho --help')\n", name, s)
		return exitUsage
	}
	fmt.Fprintf(stderr, "sekisho: unknown command %q (run 'sekisho --help')\n", name)
	return exitUsage
}

func report(stderr io.Writer, name string, err error) int {
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	var ue *usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(stderr, "sekisho %s: %s\n", name, oneLine(ue.msg))
		return exitUsage
	}
	var ce config.Errors
	if errors.As(err, &ce) {
		for _, e := range ce {
			fmt.Fprintln(stderr, e.Error())
		}
		return exitUsage
	}
	fmt.Fprintf(stderr, "sekisho %s: %s\n", name, oneLine(err.Error()))
	return exitRuntime
}

func oneLine(s string) string { return strings.ReplaceAll(strings.TrimSpace(s), "\n", "; ") }

func printUsage(w io.Writer) {
	fmt.Fprintln(w, "sekisho: the checkpoint between your data pipelines")
	fmt.Fprintln(w, "\nUsage: sekisho <command> [flags]\n\nCommands:")
	cs := append([]*command(nil), commands...)
	sort.SliceStable(cs, func(i, j int) bool { return false })
	for _, c := range cs {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'sekisho <command> --help' for a command's flags.")
}

// flags is a command's flag set with the common -c and --db flags.
type flags struct {
	*flag.FlagSet
	cmd    *command
	config *string
	db     *string
	// migrate lets open change the store's schema: only the daemon (and
	// sekisho migrate) do; every other command reads the store as it is.
	migrate bool
}

func newFlags(e *env, c *command, withDB bool) *flags {
	fs := flag.NewFlagSet("sekisho "+c.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	f := &flags{FlagSet: fs, cmd: c}
	f.config = fs.String("c", "", "config file (default $SEKISHO_CONFIG, then ./pipelines.yaml)")
	fs.StringVar(f.config, "config", "", "same as -c")
	if withDB {
		f.db = fs.String("db", "", "SQLite file or postgres:// URL (overrides store.path)")
	}
	return f
}

// parse parses flags that may stand before or after the positional
// arguments (SPEC §9) and returns the positional ones.
func (f *flags) parse(e *env, args []string) ([]string, error) {
	var pos []string
	for {
		if err := f.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				f.printHelp(e.stdout)
				return nil, flag.ErrHelp
			}
			return nil, usagef("%v (see 'sekisho %s --help')", err, f.cmd.name)
		}
		rest := f.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if rest[0] == "--" {
			return append(pos, rest[1:]...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

func (f *flags) printHelp(w io.Writer) {
	fmt.Fprintf(w, "Usage: sekisho %s\n\n%s\n\nFlags:\n", f.cmd.usage, f.cmd.summary)
	f.SetOutput(w)
	f.PrintDefaults()
	f.SetOutput(io.Discard)
}

// configPath resolves -c, then $SEKISHO_CONFIG, then ./pipelines.yaml.
func (f *flags) configPath() string {
	if *f.config != "" {
		return *f.config
	}
	if p := os.Getenv("SEKISHO_CONFIG"); p != "" {
		return p
	}
	return "pipelines.yaml"
}

// loadConfigFor loads and validates the config; every problem is a usage
// error. reading allows unset secret variables, for the commands that send
// nothing with them (SPEC §9).
func (f *flags) loadConfigFor(reading bool) (*config.Config, error) {
	path := f.configPath()
	if _, err := os.Stat(path); err != nil {
		return nil, usagef("config %s: %v (give one with -c or $SEKISHO_CONFIG)", path, errors.Unwrap(err))
	}
	load := daemon.LoadConfig
	if reading {
		load = func(p string) (*config.Config, error) { return config.LoadReading(p, nil) }
	}
	cfg, err := load(path)
	if err != nil {
		var ce config.Errors
		if errors.As(err, &ce) {
			return nil, ce
		}
		return nil, usagef("config %s: %v", path, err)
	}
	return cfg, nil
}

// dbPath is --db, else the config's store.path.
func (f *flags) dbPath(cfg *config.Config) string {
	if f.db != nil && *f.db != "" {
		return *f.db
	}
	if cfg != nil && cfg.Store.Path != "" {
		return cfg.Store.Path
	}
	return "sekisho.db"
}

// readingCommands need none of the daemon's secrets (SPEC §9): only run
// insists on every secret variable being set (validate loads as they do
// and warns of the unset ones, issue #27).
var readingCommands = map[string]bool{"status": true, "report": true, "export": true, "rerun": true, "skip": true, "calendar": true}

// open loads the config and opens its store: what every command that reads
// the store needs.
func (f *flags) open(e *env) (*config.Config, *store.Store, error) {
	cfg, err := f.loadConfigFor(readingCommands[f.cmd.name])
	if err != nil {
		return nil, nil, err
	}
	var st *store.Store
	if f.migrate {
		st, err = store.Init(e.ctx, f.dbPath(cfg)) // run and migrate own the schema
	} else {
		st, err = store.Open(e.ctx, f.dbPath(cfg))
	}
	if err != nil {
		return nil, nil, fmt.Errorf("%w (check --db or store.path)", err)
	}
	return cfg, st, nil
}

// now adds --now, the moment a command takes as the present: the demo's
// clock runs ahead of the wall clock, and its record is read on its own
// time. The returned function gives --now, or the wall clock without it.
func (f *flags) now() func() (time.Time, error) {
	s := f.String("now", "", "take this RFC 3339 time as now (the demo prints its clock); default: the wall clock")
	return func() (time.Time, error) {
		if *s == "" {
			return time.Now(), nil
		}
		t, err := time.Parse(time.RFC3339, *s)
		if err != nil {
			return time.Time{}, usagef("--now %q: want an RFC 3339 time like 2026-11-21T06:00:00+09:00", *s)
		}
		return t, nil
	}
}

func noArgs(c *command, pos []string) error {
	if len(pos) > 0 {
		return usagef("unexpected argument %q (see 'sekisho %s --help')", pos[0], c.name)
	}
	return nil
}

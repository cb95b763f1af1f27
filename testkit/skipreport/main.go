// Command skipreport reads `go test -json` and prints what plain `go test`
// prints (a line per package, the output of failed tests), then one
// summary of the tests that skipped and why. Plain `go test ./...` shows a
// skip only with -v, so a bare machine (no PostgreSQL, no Chromium) passes
// while quietly leaving tests out; .ci/test pipes through this to say so:
//
//	go test -json ./... | go run ./testkit/skipreport
//
// It exits 1 when a test or package failed.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"regexp"
	"sort"
	"strings"
)

func main() {
	failed, err := report(os.Stdin, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "skipreport:", err)
		os.Exit(2)
	}
	if failed {
		os.Exit(1)
	}
}

// event is one line of `go test -json` (cmd/test2json).
type event struct {
	Action  string
	Package string
	Test    string
	Output  string
	Elapsed float64
}

// location is the "file.go:31: " a t.Log or t.Skip line starts with.
var location = regexp.MustCompile(`^\s*[\w./-]+\.go:\d+: `)

// report copies the run's verdicts from r to w and ends with the skipped
// tests grouped by reason, most frequent first; failed says whether
// anything failed.
func report(r io.Reader, w io.Writer) (failed bool, err error) {
	output := map[string][]string{}  // package/test → its output lines
	reasons := map[string][]string{} // reason → package.Test
	var passed, failedN, skipped int // tests, subtests included
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		line := sc.Bytes()
		var ev event
		if err := json.Unmarshal(line, &ev); err != nil || ev.Action == "" {
			fmt.Fprintf(w, "%s\n", line) // a build error, printed as go test would
			continue
		}
		key := ev.Package + "/" + ev.Test
		switch ev.Action {
		case "output":
			output[key] = append(output[key], ev.Output)
		case "skip":
			if ev.Test == "" {
				fmt.Fprintf(w, "?   \t%s\t[no test files]\n", ev.Package)
				break
			}
			skipped++
			why := skipReason(output[key])
			reasons[why] = append(reasons[why], shortPackage(ev.Package)+"."+ev.Test)
		case "fail":
			failed = true
			if ev.Test != "" {
				failedN++
				fmt.Fprint(w, strings.Join(output[key], ""))
			} else {
				fmt.Fprintf(w, "FAIL\t%s\t%.3fs\n", ev.Package, ev.Elapsed)
			}
		case "pass":
			if ev.Test == "" {
				fmt.Fprintf(w, "ok  \t%s\t%.3fs\n", ev.Package, ev.Elapsed)
			} else {
				passed++
			}
		}
		if ev.Action != "output" && ev.Test != "" {
			delete(output, key)
		}
	}
	if err := sc.Err(); err != nil {
		return failed, err
	}
	writeSkips(w, reasons)
	// The one closing line a reader (or CI) needs, in the plain form.
	fmt.Fprintf(w, "\ntests: %d passed, %d failed, %d skipped\n", passed, failedN, skipped)
	return failed, nil
}

// skipReason is the message a skipped test gave: its last line of output
// other than go test's own "--- SKIP" line, without the file:line prefix.
func skipReason(out []string) string {
	for i := len(out) - 1; i >= 0; i-- {
		l := strings.TrimSpace(out[i])
		if l == "" || strings.HasPrefix(l, "--- SKIP") || strings.HasPrefix(l, "=== ") {
			continue
		}
		return strings.TrimSpace(location.ReplaceAllString(out[i], ""))
	}
	return "(no reason given)"
}

func shortPackage(p string) string {
	return strings.TrimPrefix(strings.TrimPrefix(p, "github.com/sekisho-dev/sekisho"), "/")
}

func writeSkips(w io.Writer, reasons map[string][]string) {
	total := 0
	var whys []string
	for why, tests := range reasons {
		total += len(tests)
		whys = append(whys, why)
	}
	if total == 0 {
		fmt.Fprintln(w, "\nNo test skipped.")
		return
	}
	sort.Slice(whys, func(i, j int) bool {
		if len(reasons[whys[i]]) != len(reasons[whys[j]]) {
			return len(reasons[whys[i]]) > len(reasons[whys[j]])
		}
		return whys[i] < whys[j]
	})
	fmt.Fprintf(w, "\n%d tests skipped:\n", total)
	for _, why := range whys {
		tests := reasons[why]
		sort.Strings(tests)
		example := tests[0]
		if len(tests) > 1 {
			example += fmt.Sprintf(", … (%d more)", len(tests)-1)
		}
		fmt.Fprintf(w, "%5d  %s\n       e.g. %s\n", len(tests), why, example)
	}
}

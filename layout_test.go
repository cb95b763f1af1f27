package sekisho_test

import (
	"encoding/json"
	"io"
	"os/exec"
	"strings"
	"testing"
)

// module is this repository's module path; imports outside it are not ours.
const module = "github.com/sekisho-dev/sekisho"

// importRule forbids the packages under From from importing those under To
// (both relative to the module, "" for the root package). A trailing "/"
// matches a folder and everything in it. docs/architecture.md ("Which way
// imports run") explains each rule.
type importRule struct {
	From, To []string
	Why      string
}

var importRules = []importRule{
	{From: []string{""}, To: []string{"*"},
		Why: "the domain package imports nothing of ours"},
	{From: []string{"store"}, To: []string{"*"}, Why: "the store persists; it imports the domain only, never policy"},
	{From: []string{"incident", "marks", "condition", "calendar"}, To: []string{"*"},
		Why: "pure deciding packages import the domain only"},
	{From: []string{"client/"}, To: []string{"sensors/", "triggers/", "engine", "store", "daemon", "web", "notify", "incident"},
		Why: "vendor wire clients sit below the adapters that use them"},
	{From: []string{"policy/"}, To: []string{"client/", "sensors/", "triggers/", "engine", "store", "daemon", "web", "notify"},
		Why: "policy decides from what it is given; it does no vendor I/O"},
	{From: []string{"sensors/", "triggers/"}, To: []string{"engine", "daemon", "store", "web", "notify", "sensors/", "triggers/"},
		Why: "adapters import the domain and their vendor's client, never the engine or each other"},
	{From: []string{"engine"}, To: []string{"daemon", "web", "notify", "sensors/", "triggers/", "client/"},
		Why: "the engine reaches the world only through the interfaces it is given"},
	{From: []string{"*"}, To: []string{"daemon"},
		Why: "only cmd/ wires the daemon"},
	{From: []string{"*"}, To: []string{"testkit/"},
		Why: "test kits are for tests and benchmarks"},
	{From: []string{"*"}, To: []string{"sim/"},
		Why: "simulators are plugged in by cmd/ (the demo) and tests only"},
}

// allowedEverywhere may import what a "*" rule forbids: the assembly,
// the commands and the simulated world itself.
var allowedEverywhere = []string{"cmd/", "daemon", "demo", "sim/", "testkit/", "e2e"}

// exceptions are known violations with the issue that removes them. Keep
// this list empty; an entry is a debt with a name.
var exceptions = map[string]string{}

func matches(pattern, pkg string) bool {
	switch {
	case pattern == "*":
		return true
	case strings.HasSuffix(pattern, "/"):
		return strings.HasPrefix(pkg, pattern)
	default:
		return pkg == pattern
	}
}

func matchesAny(patterns []string, pkg string) bool {
	for _, p := range patterns {
		if matches(p, pkg) {
			return true
		}
	}
	return false
}

// TestImportDirection fails when an import runs the wrong way: the store
// importing policy, a sensor importing the engine, production code
// importing a simulator or a test kit.
func TestImportDirection(t *testing.T) {
	if testing.Short() {
		t.Skip("lists every package with the go command")
	}
	out, err := exec.Command("go", "list", "-json", "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	checked := 0
	used := map[string]bool{}
	for {
		var p struct {
			ImportPath string
			Imports    []string
		}
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		from := strings.TrimPrefix(strings.TrimPrefix(p.ImportPath, module), "/")
		for _, imp := range p.Imports {
			if imp != module && !strings.HasPrefix(imp, module+"/") {
				continue
			}
			to := strings.TrimPrefix(strings.TrimPrefix(imp, module), "/")
			checked++
			for _, r := range importRules {
				if !matchesAny(r.From, from) || !matchesAny(r.To, to) || from == to {
					continue
				}
				if r.From[0] == "*" && matchesAny(allowedEverywhere, from) {
					continue
				}
				if r.To[0] == "*" && to == "" {
					continue // the domain package is below everything
				}
				if why, ok := exceptions[from+" -> "+to]; ok {
					t.Logf("known: %s -> %s (%s)", from, to, why)
					used[from+" -> "+to] = true
					continue
				}
				t.Errorf("%s imports %s: %s", nameOf(from), nameOf(to), r.Why)
			}
		}
	}
	if checked == 0 {
		t.Fatal("no imports of ours were checked: is the module path right?")
	}
	for e := range exceptions {
		if !used[e] {
			t.Errorf("exception %q is paid off: remove it", e)
		}
	}
}

func nameOf(pkg string) string {
	if pkg == "" {
		return "sekisho (root)"
	}
	return pkg
}

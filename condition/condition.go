// Package condition parses and evaluates the upstream condition of a
// pipeline: "all", "any", or an expression over upstream names with &&, ||,
// ! and parentheses. Evaluation is three-valued (Kleene logic) so the engine
// can tell "not yet" from "cannot hold without a rerun".
package condition

import (
	"fmt"
	"sort"
	"strings"

	"github.com/sekisho-dev/sekisho"
)

// Result is the three-valued outcome of a condition.
type Result int

// The results of Eval. Unknown is the zero value: nothing is known yet.
const (
	// Unknown means the condition may still hold once running or pending
	// upstreams finish.
	Unknown Result = iota
	// False means the condition cannot hold unless a failed upstream is rerun.
	False
	// True means the condition holds: the gate may open.
	True
)

func (r Result) String() string {
	switch r {
	case True:
		return "true"
	case False:
		return "false"
	}
	return "unknown"
}

// Of maps one upstream state to a truth value: succeeded is true, failed is
// false, pending and running are unknown.
func Of(s sekisho.JobState) Result {
	switch s {
	case sekisho.JobSucceeded:
		return True
	case sekisho.JobFailed:
		return False
	}
	return Unknown
}

func not(r Result) Result {
	switch r {
	case True:
		return False
	case False:
		return True
	}
	return Unknown
}

func and(a, b Result) Result {
	if a == False || b == False {
		return False
	}
	if a == True && b == True {
		return True
	}
	return Unknown
}

func or(a, b Result) Result {
	if a == True || b == True {
		return True
	}
	if a == False && b == False {
		return False
	}
	return Unknown
}

// Expr is a parsed condition, ready to evaluate many times.
type Expr struct {
	src   string
	root  node
	names []string // upstream names the condition reads, sorted
}

// String returns the condition as written.
func (e *Expr) String() string { return e.src }

// Names returns the upstream names the condition reads, sorted. For "all"
// and "any" that is every upstream.
func (e *Expr) Names() []string { return append([]string(nil), e.names...) }

// Eval evaluates the condition over the upstream states state reports.
func (e *Expr) Eval(state func(name string) sekisho.JobState) Result {
	return e.root.eval(state)
}

type node interface {
	eval(func(string) sekisho.JobState) Result
}

type ident string

func (n ident) eval(s func(string) sekisho.JobState) Result { return Of(s(string(n))) }

type notNode struct{ x node }

func (n notNode) eval(s func(string) sekisho.JobState) Result { return not(n.x.eval(s)) }

type andNode struct{ xs []node }

func (n andNode) eval(s func(string) sekisho.JobState) Result {
	return fold(True, and, n.xs, func(x node) Result { return x.eval(s) })
}

type orNode struct{ xs []node }

func (n orNode) eval(s func(string) sekisho.JobState) Result {
	return fold(False, or, n.xs, func(x node) Result { return x.eval(s) })
}

// allOf and anyOf are "all" and "any": one node over the names the Expr
// holds anyway, rather than an and or or of an ident per upstream. The
// engine keeps a parsed condition per open run, and the keywords are the
// common conditions (issue 23).
type allOf []string

func (n allOf) eval(s func(string) sekisho.JobState) Result {
	return fold(True, and, n, func(name string) Result { return Of(s(name)) })
}

type anyOf []string

func (n anyOf) eval(s func(string) sekisho.JobState) Result {
	return fold(False, or, n, func(name string) Result { return Of(s(name)) })
}

// fold combines the results of xs with op, from start (and's identity True,
// or's False).
func fold[T any](start Result, op func(a, b Result) Result, xs []T, eval func(T) Result) Result {
	r := start
	for _, x := range xs {
		r = op(r, eval(x))
	}
	return r
}

func uniqueSorted(xs []string) []string {
	out := append([]string(nil), xs...)
	sort.Strings(out)
	j := 0
	for i, x := range out {
		if i == 0 || x != out[j-1] {
			out[j] = x
			j++
		}
	}
	return out[:j]
}

// Parse parses a condition over the given upstream names. "all" (or an empty
// string) needs every upstream to succeed, "any" at least one; the keywords
// win over upstreams that happen to be named so. A returned error is an
// *Error naming the unknown upstream or the column of the syntax error.
func Parse(expr string, names []string) (*Expr, error) {
	src := strings.TrimSpace(expr)
	all := uniqueSorted(names)
	switch src {
	case "", "all":
		return &Expr{src: expr, root: allOf(all), names: all}, nil
	case "any":
		return &Expr{src: expr, root: anyOf(all), names: all}, nil
	}
	p := &parser{src: expr, known: map[string]bool{}, candidates: all}
	for _, n := range all {
		p.known[n] = true
	}
	if err := p.lex(); err != nil {
		return nil, err
	}
	root, err := p.or(0)
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tEOF {
		return nil, p.errAt(t, fmt.Sprintf("unexpected %s", t.describe()))
	}
	return &Expr{src: expr, root: root, names: uniqueSorted(p.used)}, nil
}

package condition

import (
	"errors"
	"strings"
	"testing"

	"github.com/sekisho-dev/sekisho"
)

var upstreams = []string{"hegel_export", "master_sync", "ads_workflow", "kant-daily"}

func states(m map[string]sekisho.JobState) func(string) sekisho.JobState {
	return func(n string) sekisho.JobState {
		if s, ok := m[n]; ok {
			return s
		}
		return sekisho.JobPending
	}
}

const (
	S = sekisho.JobSucceeded
	F = sekisho.JobFailed
	R = sekisho.JobRunning
	P = sekisho.JobPending
)

func TestEval(t *testing.T) {
	tests := []struct {
		name string
		expr string
		st   map[string]sekisho.JobState
		want Result
	}{
		{"all succeeded", "all", map[string]sekisho.JobState{"hegel_export": S, "master_sync": S, "ads_workflow": S, "kant-daily": S}, True},
		{"all one running", "all", map[string]sekisho.JobState{"hegel_export": S, "master_sync": R, "ads_workflow": S, "kant-daily": S}, Unknown},
		{"all one failed one pending", "all", map[string]sekisho.JobState{"hegel_export": F}, False},
		{"empty means all", "  ", map[string]sekisho.JobState{"hegel_export": S, "master_sync": S, "ads_workflow": S, "kant-daily": S}, True},
		{"any one succeeded", "any", map[string]sekisho.JobState{"master_sync": S, "hegel_export": F}, True},
		{"any all failed", "any", map[string]sekisho.JobState{"hegel_export": F, "master_sync": F, "ads_workflow": F, "kant-daily": F}, False},
		{"any some pending", "any", map[string]sekisho.JobState{"hegel_export": F}, Unknown},
		{"and of or true", "hegel_export && (master_sync || ads_workflow)", map[string]sekisho.JobState{"hegel_export": S, "ads_workflow": S, "master_sync": F}, True},
		{"and of or unknown", "hegel_export && (master_sync || ads_workflow)", map[string]sekisho.JobState{"hegel_export": S, "master_sync": F, "ads_workflow": R}, Unknown},
		{"and of or false", "hegel_export && (master_sync || ads_workflow)", map[string]sekisho.JobState{"hegel_export": S, "master_sync": F, "ads_workflow": F}, False},
		{"false wins over unknown in and", "hegel_export && master_sync", map[string]sekisho.JobState{"hegel_export": R, "master_sync": F}, False},
		{"true wins over unknown in or", "hegel_export || master_sync", map[string]sekisho.JobState{"hegel_export": R, "master_sync": S}, True},
		{"precedence and over or", "hegel_export || master_sync && ads_workflow", map[string]sekisho.JobState{"hegel_export": S, "master_sync": F}, True},
		{"precedence and over or false", "hegel_export || master_sync && ads_workflow", map[string]sekisho.JobState{"hegel_export": F, "master_sync": F}, False},
		{"not failed", "!hegel_export", map[string]sekisho.JobState{"hegel_export": F}, True},
		{"not running", "!hegel_export", map[string]sekisho.JobState{"hegel_export": R}, Unknown},
		{"double not", "!!hegel_export", map[string]sekisho.JobState{"hegel_export": S}, True},
		{"hyphenated name", "kant-daily", map[string]sekisho.JobState{"kant-daily": S}, True},
		{"no spaces", "(hegel_export&&master_sync)||ads_workflow", map[string]sekisho.JobState{"ads_workflow": S}, True},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := Parse(tt.expr, upstreams)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.expr, err)
			}
			if got := e.Eval(states(tt.st)); got != tt.want {
				t.Errorf("Eval(%q) = %v, want %v", tt.expr, got, tt.want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name  string
		expr  string
		want  string
		col   int
		ident string
	}{
		{"unknown with suggestion", "hegle_export && master_sync", `unknown upstream "hegle_export" at column 1 (did you mean "hegel_export"?)`, 1, "hegle_export"},
		{"unknown without suggestion", "master_sync || zzz", `unknown upstream "zzz" at column 16`, 16, "zzz"},
		{"trailing operator", "hegel_export && ", `syntax error at column 17: expected an upstream name, "!" or "(", got end of condition`, 17, ""},
		{"single ampersand", "hegel_export & master_sync", `syntax error at column 14: single "&"; write "&&"`, 14, ""},
		{"single pipe", "hegel_export | master_sync", `syntax error at column 14: single "|"; write "||"`, 14, ""},
		{"unclosed paren", "(hegel_export || master_sync", `syntax error at column 29: expected ")" to close the "(" at column 1, got end of condition`, 29, ""},
		{"extra paren", "hegel_export)", `syntax error at column 13: unexpected ")"`, 13, ""},
		{"two names", "hegel_export master_sync", `syntax error at column 14: unexpected "master_sync"`, 14, ""},
		{"bad character", "hegel_export && 済", `syntax error at column 17: unexpected character '済'`, 17, ""},
		{"keyword inside expression", "all && hegel_export", `unknown upstream "all" at column 1`, 1, "all"},
		{"empty parens", "()", `syntax error at column 2: expected an upstream name, "!" or "(", got ")"`, 2, ""},
		{"deep nesting", strings.Repeat("(", 200) + "hegel_export" + strings.Repeat(")", 200), `syntax error at column 102: nested more than 100 deep`, 102, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(tt.expr, upstreams)
			if err == nil {
				t.Fatalf("Parse(%q) = nil error, want %q", tt.expr, tt.want)
			}
			if err.Error() != tt.want {
				t.Errorf("Parse(%q) error\n got %s\nwant %s", tt.expr, err, tt.want)
			}
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("error is %T, want *Error", err)
			}
			if ce.Col != tt.col || ce.Ident != tt.ident {
				t.Errorf("Col, Ident = %d, %q; want %d, %q", ce.Col, ce.Ident, tt.col, tt.ident)
			}
		})
	}
}

func TestNames(t *testing.T) {
	e, err := Parse("master_sync && (hegel_export || master_sync)", upstreams)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(e.Names(), ","); got != "hegel_export,master_sync" {
		t.Errorf("Names() = %s", got)
	}
	e, _ = Parse("any", upstreams)
	if got := len(e.Names()); got != 4 {
		t.Errorf("any: %d names, want 4", got)
	}
}

// TestKleene checks the truth tables against the three values exhaustively.
func TestKleene(t *testing.T) {
	vals := []sekisho.JobState{S, F, R}
	for _, a := range vals {
		for _, b := range vals {
			st := states(map[string]sekisho.JobState{"hegel_export": a, "master_sync": b})
			and, _ := Parse("hegel_export && master_sync", upstreams)
			or, _ := Parse("hegel_export || master_sync", upstreams)
			deMorgan, _ := Parse("!(!hegel_export || !master_sync)", upstreams)
			if and.Eval(st) != deMorgan.Eval(st) {
				t.Errorf("%s,%s: a&&b = %v, !(!a||!b) = %v", a, b, and.Eval(st), deMorgan.Eval(st))
			}
			wantOr := Unknown
			if a == S || b == S {
				wantOr = True
			} else if a == F && b == F {
				wantOr = False
			}
			if got := or.Eval(st); got != wantOr {
				t.Errorf("%s || %s = %v, want %v", a, b, got, wantOr)
			}
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"all", "any", "a && (b || !c)", "((a))", "a &", "a || b && c", "!", "(", "a)"} {
		f.Add(s)
	}
	names := []string{"a", "b", "c"}
	f.Fuzz(func(t *testing.T, expr string) {
		e, err := Parse(expr, names)
		if err != nil {
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("error %T is not *Error", err)
			}
			if ce.Col < 1 || ce.Col > len(expr)+1 {
				t.Fatalf("column %d outside [1, %d]", ce.Col, len(expr)+1)
			}
			return
		}
		for _, st := range []sekisho.JobState{S, F, R, P} {
			e.Eval(func(string) sekisho.JobState { return st })
		}
	})
}

func TestSuggest(t *testing.T) {
	tests := []struct {
		word string
		want string
	}{
		{"glu_job", "glue_job"},
		{"dealy", "delay"},
		{"hegle_export", "hegel_export"},
		{"xyz", ""},
		{"delay", ""}, // an exact match is not a suggestion
	}
	cands := []string{"glue_job", "glue_workflow", "delay", "hegel_export"}
	for _, tt := range tests {
		if got := Suggest(tt.word, cands); got != tt.want {
			t.Errorf("Suggest(%q) = %q, want %q", tt.word, got, tt.want)
		}
	}
}

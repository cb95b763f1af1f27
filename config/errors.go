package config

import (
	"fmt"
	"sort"
	"strings"
)

// Error is one problem in a pipelines file, at the line and column it comes
// from. Path names the field the way a reader finds it: pipelines[0].timeout.
type Error struct {
	File string
	Line int
	Col  int
	Path string
	Msg  string
}

// Error prints FILE:LINE:COL: PATH: MSG. A YAML syntax error has no path and
// prints FILE:LINE:COL: MSG.
func (e Error) Error() string {
	if e.Path == "" {
		return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Col, e.Msg)
	}
	return fmt.Sprintf("%s:%d:%d: %s: %s", e.File, e.Line, e.Col, e.Path, e.Msg)
}

// Errors is every problem found in one file, sorted by position. Parse and
// Load return it as their error, so `sekisho validate` can print all of them.
type Errors []Error

// Error joins the problems with newlines, one per line.
func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// sorted orders the errors by position, keeping the order of discovery for
// errors at the same place, and drops exact duplicates (a bad value in
// defaults: is found once per pipeline that inherits it).
func (es Errors) sorted() Errors {
	sort.SliceStable(es, func(i, j int) bool {
		if es[i].Line != es[j].Line {
			return es[i].Line < es[j].Line
		}
		return es[i].Col < es[j].Col
	})
	out := es[:0]
	seen := map[Error]bool{}
	for _, e := range es {
		if !seen[e] {
			seen[e] = true
			out = append(out, e)
		}
	}
	return out
}

package config

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/condition"
)

// maxNodes bounds the nodes one file may make the decoder visit, so aliases
// of aliases cannot expand into a billion values.
const maxNodes = 1_000_000

// decoder walks yaml.Node trees, collecting every problem with its position.
type decoder struct {
	file    string
	lookup  func(string) (string, bool)
	errs    Errors
	visited int
	// reading allows a ${VAR} left unset in a secret field (SPEC §9):
	// reading commands need none of the daemon's secrets.
	reading bool
	unset   map[string]bool // secret variables a reading load let through
	// unsplit says a file cut by split could not be read that way after
	// all: parse reads it again whole.
	unsplit bool
	// strs holds one copy of each string read (intern): the YAML parser
	// allocates every scalar anew, and types, connections, job names and
	// schedules repeat across thousands of pipelines.
	strs map[string]string
	// confs holds one copy of each distinct trigger conf (internConf).
	confs map[string]map[string]any
	// resources holds one Resources slice per polled resource
	// (readResources).
	resources map[sekisho.Resource][]sekisho.Resource
}

// intern returns the decoder's one copy of s.
func (d *decoder) intern(s string) string {
	if v, ok := d.strs[s]; ok {
		return v
	}
	if d.strs == nil {
		d.strs = map[string]string{}
	}
	d.strs[s] = s
	return s
}

// val is one value in the file: its node, where errors about it point (the
// key for a mapping value, the item itself in a list) and its path.
type val struct {
	n    *yaml.Node
	at   *yaml.Node
	path string
}

// position is v without its nodes, for an error about it raised later:
// where it is and what it is called. A pipeline's meta keeps only these, so
// the YAML node tree of a pipeline already decoded can be collected.
func (v val) position() val {
	if v.at == nil {
		return val{path: v.path}
	}
	return val{at: &yaml.Node{Kind: v.at.Kind, Line: v.at.Line, Column: v.at.Column}, path: v.path}
}

func (d *decoder) errorf(at *yaml.Node, path, format string, args ...any) {
	line, col := 1, 1
	if at != nil && at.Line > 0 {
		line, col = at.Line, at.Column
	}
	d.errs = append(d.errs, Error{File: d.file, Line: line, Col: col, Path: path, Msg: fmt.Sprintf(format, args...)})
}

func (d *decoder) fail(v val, format string, args ...any) { d.errorf(v.at, v.path, format, args...) }

// resolve follows aliases, within the node budget.
func (d *decoder) resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 100; i++ {
		n = n.Alias
	}
	d.visited++
	if n != nil && n.Kind == yaml.AliasNode || d.visited > maxNodes {
		return nil
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n == nil || n.Kind == 0 || n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func index(path string, i int) string { return fmt.Sprintf("%s[%d]", path, i) }

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	return "a scalar"
}

// fields is one checked mapping: its values by key, in file order. The
// keys and values are two lists looked up by a scan, not a map: a mapping
// holds a few keys, and with a map each, reading 10,000 pipelines
// allocated 237 MB against 214 MB with the lists (BenchmarkParse10k,
// issue 23).
type fields struct {
	v     val
	keys  []string
	vals  []val // vals[i] is keys[i]'s
	known []string
	// typos are known keys an unknown key was taken for ("did you mean"):
	// that error already says the key is missing, so "is required" would
	// say it twice.
	typos map[string]bool
}

// lookup is key's value as written, null included.
func (f *fields) lookup(key string) (val, bool) {
	if i := slices.Index(f.keys, key); i >= 0 {
		return f.vals[i], true
	}
	return val{}, false
}

// add sets key, which f does not hold.
func (f *fields) add(key string, v val) {
	f.keys = append(f.keys, key)
	f.vals = append(f.vals, v)
}

func (f *fields) get(key string) (val, bool) {
	if f == nil {
		return val{}, false
	}
	v, ok := f.lookup(key)
	if !ok || isNull(v.n) {
		return val{}, false
	}
	return v, true
}

func (f *fields) has(key string) bool { _, ok := f.get(key); return ok }

// mapping checks that v is a mapping whose keys are all known, and returns
// its fields. Merge keys (<<: *anchor) are honoured; explicit keys win.
// unknownHint may add advice to an unknown key's message.
func (d *decoder) mapping(v val, known []string, unknownHint func(key string) string) *fields {
	n := d.resolve(v.n)
	if n == nil {
		d.fail(v, "too many values (aliases nest too deeply)")
		return nil
	}
	if n.Kind != yaml.MappingNode {
		d.fail(v, "want a mapping, got %s", kindName(n))
		return nil
	}
	k := len(n.Content) / 2
	f := &fields{v: val{n: n, at: v.at, path: v.path}, keys: make([]string, 0, k), vals: make([]val, 0, k), known: known}
	var merges []*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, value := n.Content[i], n.Content[i+1]
		if k.Tag == "!!merge" {
			merges = append(merges, value)
			continue
		}
		if k.Kind != yaml.ScalarNode {
			d.errorf(k, v.path, "a key must be a plain word, got %s", kindName(k))
			continue
		}
		path := join(v.path, k.Value)
		if !slices.Contains(known, k.Value) {
			msg := fmt.Sprintf("unknown key %q", k.Value)
			if s := condition.Suggest(k.Value, known); s != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", s)
				if f.typos == nil {
					f.typos = map[string]bool{}
				}
				f.typos[s] = true
			} else if unknownHint != nil {
				msg += unknownHint(k.Value)
			}
			d.errorf(k, path, "%s", msg)
			continue
		}
		if _, dup := f.lookup(k.Value); dup {
			d.errorf(k, path, "duplicate key %q; keep one", k.Value)
			continue
		}
		f.add(k.Value, val{n: value, at: k, path: path})
	}
	for _, m := range merges {
		m = d.resolve(m)
		if m == nil {
			continue
		}
		srcs := []*yaml.Node{m}
		if m.Kind == yaml.SequenceNode {
			srcs = m.Content
		}
		for _, src := range srcs {
			sf := d.mapping(val{n: src, at: src, path: v.path}, known, unknownHint)
			if sf == nil {
				continue
			}
			for i, k := range sf.keys {
				if _, ok := f.lookup(k); !ok {
					f.add(k, sf.vals[i])
				}
			}
		}
	}
	return f
}

// mapEntries returns the entries of a mapping with free-form keys (named
// connections, conf), in file order.
func (d *decoder) mapEntries(v val) ([]string, []val, bool) {
	n := d.resolve(v.n)
	if n == nil || n.Kind != yaml.MappingNode {
		if n != nil {
			d.fail(v, "want a mapping, got %s", kindName(n))
		}
		return nil, nil, false
	}
	var keys []string
	var vals []val
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, value := d.resolve(n.Content[i]), n.Content[i+1]
		if k == nil || k.Kind != yaml.ScalarNode || k.Tag == "!!merge" {
			d.errorf(n.Content[i], v.path, "a key must be a plain word")
			continue
		}
		path := join(v.path, k.Value)
		if seen[k.Value] {
			d.errorf(k, path, "duplicate key %q; keep one", k.Value)
			continue
		}
		seen[k.Value] = true
		keys = append(keys, k.Value)
		vals = append(vals, val{n: value, at: k, path: path})
	}
	return keys, vals, true
}

// list returns the items of a sequence.
func (d *decoder) list(v val) ([]val, bool) {
	n := d.resolve(v.n)
	if n == nil {
		return nil, false
	}
	if n.Kind != yaml.SequenceNode {
		d.fail(v, "want a list, got %s", kindName(n))
		return nil, false
	}
	out := make([]val, len(n.Content))
	for i, item := range n.Content {
		out[i] = val{n: item, at: item, path: index(v.path, i)}
	}
	return out, true
}

// scalars reads the list under key, keeping each scalar that keep accepts
// (keep reports what it refuses with d.fail).
func (d *decoder) scalars(f *fields, key string, keep func(it val, s scalar) bool) []string {
	v, ok := f.get(key)
	if !ok {
		return nil
	}
	items, _ := d.list(v)
	var out []string
	for _, it := range items {
		if s, ok := d.scalarOf(it, false); ok && keep(it, s) {
			out = append(out, s.s)
		}
	}
	return out
}

// scalar is a string value after ${VAR} expansion. shown is how errors
// quote it: the text as written when it came from the environment, so a
// secret is never printed.
type scalar struct {
	s     string
	shown string
	env   bool
}

func (d *decoder) scalarOf(v val, template bool) (scalar, bool) {
	n := d.resolve(v.n)
	if n == nil {
		return scalar{}, false
	}
	if n.Kind != yaml.ScalarNode {
		d.fail(v, "want a single value, got %s", kindName(n))
		return scalar{}, false
	}
	s, used, err := expand(n.Value, d.lookup, template)
	if err != nil {
		d.fail(v, "%v", err)
		return scalar{}, false
	}
	return scalar{s: d.intern(s), shown: strconv.Quote(n.Value), env: used}, true
}

// detail is err's text, unless the value came from the environment: then
// the underlying error might quote the secret, so only a hint is given.
func (s scalar) detail(err error) string {
	if s.env {
		return "check the environment variable's value"
	}
	return err.Error()
}

// str reads an optional string; ok is false when absent or invalid.
func (d *decoder) str(f *fields, key string) (string, val, bool) {
	v, ok := f.get(key)
	if !ok {
		return "", v, false
	}
	s, ok := d.scalarOf(v, false)
	return s.s, v, ok
}

// required reads a string that must be present and not empty.
func (d *decoder) required(f *fields, key, hint string) (string, val, bool) {
	if f == nil {
		return "", val{}, false
	}
	v, ok := f.get(key)
	if !ok {
		d.missing(f, key, hint)
		return "", v, false
	}
	s, ok := d.scalarOf(v, false)
	if ok && s.s == "" {
		d.fail(v, "must not be empty%s", hint)
		return "", v, false
	}
	return s.s, v, ok
}

// requiredOneOf reads a required enumerated word such as a type: missing,
// empty or not one of allowed fails, the last with a suggestion. The word
// comes back as written either way; ok says it is one of allowed.
func (d *decoder) requiredOneOf(f *fields, key, what, hint string, allowed []string) (string, val, bool) {
	s, v, ok := d.required(f, key, hint)
	if ok && !slices.Contains(allowed, s) {
		sc, _ := d.scalarOf(v, false)
		d.fail(v, "%s", unknownWord(what, sc, allowed))
		ok = false
	}
	return s, v, ok
}

func (d *decoder) missing(f *fields, key, hint string) {
	if f.typos[key] {
		return
	}
	d.errorf(f.v.n, join(f.v.path, key), "is required%s", hint)
}

func (d *decoder) secret(f *fields, key string) Secret {
	if d.reading {
		lookup := d.lookup
		d.lookup = func(name string) (string, bool) {
			v, ok := lookup(name)
			if !ok {
				if d.unset == nil {
					d.unset = map[string]bool{}
				}
				d.unset[name] = true
			}
			return v, true
		}
		defer func() { d.lookup = lookup }()
	}
	s, _, _ := d.str(f, key)
	return Secret(s)
}

// oneOf reads an optional enumerated string, defaulting to def.
func (d *decoder) oneOf(f *fields, key, what, def string, allowed []string) string {
	v, ok := f.get(key)
	if !ok {
		return def
	}
	s, ok := d.scalarOf(v, false)
	if !ok {
		return def
	}
	if !slices.Contains(allowed, s.s) {
		d.fail(v, "%s", unknownWord(what, s, allowed))
		return def
	}
	return s.s
}

// unknownWord says a word is not one of allowed, with a suggestion.
func unknownWord(what string, s scalar, allowed []string) string {
	msg := fmt.Sprintf("unknown %s %s", what, s.shown)
	if !s.env {
		if g := condition.Suggest(s.s, allowed); g != "" {
			return msg + fmt.Sprintf(" (did you mean %q?)", g)
		}
	}
	return msg + fmt.Sprintf(" (want %s)", strings.Join(allowed, ", "))
}

func (d *decoder) integer(f *fields, key string) (int64, val, bool) {
	v, ok := f.get(key)
	if !ok {
		return 0, v, false
	}
	s, ok := d.scalarOf(v, false)
	if !ok {
		return 0, v, false
	}
	n, err := strconv.ParseInt(s.s, 10, 64)
	if err != nil {
		d.fail(v, "want a whole number, got %s", s.shown)
		return 0, v, false
	}
	return n, v, true
}

func (d *decoder) boolean(f *fields, key string) bool {
	v, ok := f.get(key)
	if !ok {
		return false
	}
	s, ok := d.scalarOf(v, false)
	if !ok {
		return false
	}
	switch s.s {
	case "true", "True", "TRUE":
		return true
	case "false", "False", "FALSE":
		return false
	}
	d.fail(v, "want true or false, got %s", s.shown)
	return false
}

// duration reads a Go duration; min is the least accepted value.
func (d *decoder) duration(f *fields, key string, def, min time.Duration) time.Duration {
	v, ok := f.get(key)
	if !ok {
		return def
	}
	s, ok := d.scalarOf(v, false)
	if !ok {
		return def
	}
	t, err := time.ParseDuration(s.s)
	if err != nil {
		d.fail(v, "bad duration %s; write Go syntax like 90s, 30m or 2h30m", s.shown)
		return def
	}
	if t < min {
		d.fail(v, "duration %s is below the minimum %s", s.shown, min)
		return def
	}
	return t
}

func (d *decoder) timeOfDay(f *fields, key string) (sekisho.TimeOfDay, val, bool) {
	v, ok := f.get(key)
	if !ok {
		return sekisho.TimeOfDay{}, v, false
	}
	s, ok := d.scalarOf(v, false)
	if !ok {
		return sekisho.TimeOfDay{}, v, false
	}
	t, err := sekisho.ParseTimeOfDay(s.s)
	if err != nil {
		if s.env {
			d.fail(v, "bad time of day %s; write \"HH:MM\" or \"+1d HH:MM\"", s.shown)
		} else {
			d.fail(v, "bad %v; write \"HH:MM\" or \"+1d HH:MM\"", err)
		}
		return sekisho.TimeOfDay{}, v, false
	}
	return t, v, true
}

// absURL checks an optional http(s) URL.
func (d *decoder) absURL(f *fields, key string) string {
	s, v, ok := d.str(f, key)
	if !ok || s == "" {
		return ""
	}
	if !isAbsURL(s) {
		sc, _ := d.scalarOf(v, false)
		d.fail(v, "want an absolute http or https URL, got %s", sc.shown)
		return ""
	}
	return strings.TrimRight(s, "/")
}

package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Built-in defaults (SPEC §3).
const (
	DefaultTimezone     = "UTC"
	DefaultPokeInterval = 60 * time.Second
	DefaultTimeout      = 6 * time.Hour
	DefaultStorePath    = "sekisho.db"
	DefaultLease        = 6 * time.Second
	DefaultListen       = ":8080"
	DefaultLanguage     = "ja"
	DefaultTroccoURL    = "https://trocco.io"
	DefaultAPIVersion   = "v1"
	DefaultAuth         = "google"
	DefaultGroupWait    = 30 * time.Second // slack.group_wait (SPEC §17)
)

// Enumerations accepted by the parser.
var (
	Languages          = []string{"ja", "en"}
	UpstreamFailureOps = []string{"wait", "fail"}
	APIVersions        = []string{"v1", "v2"}
	AuthModes          = []string{"google", "basic", "bearer", "password", "none"}
)

var namePattern = regexp.MustCompile(`^[a-z0-9_-]+$`)

// awsAccountID is an AWS account id: twelve digits.
var awsAccountID = regexp.MustCompile(`^[0-9]{12}$`)

// Load reads and validates a pipelines file. lookupEnv expands ${VAR}; nil
// means os.LookupEnv. A file that cannot be read gives a plain error; a file
// with problems gives Errors, listing every one of them.
func Load(path string, lookupEnv func(string) (string, bool)) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return Parse(path, data, lookupEnv)
}

// LoadReading is Load for the reading and operator commands (status,
// report, export, rerun, skip): a ${VAR} left unset in a secret field is
// allowed and reads as empty, since these commands send nothing with it.
// Every other problem is reported as Load reports it.
func LoadReading(path string, lookupEnv func(string) (string, bool)) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return parse(path, data, lookupEnv, true)
}

// Parse validates pipelines.yaml content; filename only labels errors and
// becomes Config.Path. lookupEnv nil means os.LookupEnv. On failure the
// error is Errors.
func Parse(filename string, data []byte, lookupEnv func(string) (string, bool)) (*Config, error) {
	return parse(filename, data, lookupEnv, false)
}

func parse(filename string, data []byte, lookupEnv func(string) (string, bool), reading bool) (*Config, error) {
	return parseSplit(filename, data, lookupEnv, reading, true)
}

// parseSplit is parse; trySplit false reads the whole document at once
// (the tests compare the two ways).
func parseSplit(filename string, data []byte, lookupEnv func(string) (string, bool), reading, trySplit bool) (*Config, error) {
	if lookupEnv == nil {
		lookupEnv = os.LookupEnv
	}
	used := map[string]string{}
	newDecoder := func() *decoder {
		return &decoder{file: filename, reading: reading, lookup: func(name string) (string, bool) {
			v, ok := lookupEnv(name)
			if ok {
				used[name] = v
			}
			return v, ok
		}}
	}
	// The pipelines list item by item when the layout allows (split.go);
	// a file with any problem is read again whole, so its errors are
	// always the whole document's.
	d := newDecoder()
	var cfg *Config
	if sp := split(data); sp != nil && trySplit {
		cfg = d.parse(data, sp)
	}
	if cfg == nil || len(d.errs) > 0 || d.unsplit {
		d = newDecoder()
		cfg = d.parse(data, nil)
	}
	if len(d.errs) > 0 {
		return nil, scrub(d.errs, used).sorted()
	}
	cfg.Path = filename
	for name := range d.unset {
		cfg.UnsetSecrets = append(cfg.UnsetSecrets, name)
	}
	slices.Sort(cfg.UnsetSecrets)
	return cfg, nil
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

func (d *decoder) syntaxError(data []byte, err error) {
	line, msg := yamlErrorLine(err)
	col := 1
	if l, c := problemLine(data, msg); l > line {
		line, col = l, c
	}
	d.errs = append(d.errs, Error{File: d.file, Line: line, Col: col, Msg: "invalid YAML: " + msg})
}

// yamlErrorLine splits a YAML error into its line (1 if it names none) and
// message.
func yamlErrorLine(err error) (int, string) {
	msg := err.Error()
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return line, m[2]
	}
	return 1, msg
}

// problemLine finds the line a YAML syntax error is on, and its first
// non-blank column. The YAML parser names the line where the enclosing
// block began ("did not find expected '-' indicator" at the list's first
// item, for a bad indent three lines down); the first prefix of the file
// that fails with the same message ends on the line at fault. A binary
// search keeps it to a few parses of a large file.
func problemLine(data []byte, msg string) (line, col int) {
	lines := bytes.SplitAfter(data, []byte("\n"))
	fails := func(k int) bool {
		var n yaml.Node
		err := yaml.Unmarshal(bytes.Join(lines[:k], nil), &n)
		if err == nil {
			return false
		}
		_, m := yamlErrorLine(err)
		return m == msg
	}
	lo, hi := 1, len(lines)
	if !fails(hi) {
		return 0, 0
	}
	for lo < hi {
		mid := (lo + hi) / 2
		if fails(mid) {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	text := lines[lo-1]
	return lo, len(text) - len(bytes.TrimLeft(text, " ")) + 1
}

// parse decodes data; with sp, its list of pipelines is read item by
// item from sp, and d.unsplit says when that could not be done.
func (d *decoder) parse(data []byte, sp *splitDoc) *Config {
	src := data
	if sp != nil {
		src = sp.stream
	}
	dec := yaml.NewDecoder(bytes.NewReader(src))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			d.errorf(nil, "version", "the file is empty; start with \"version: 1\" and a list of pipelines")
		} else {
			d.syntaxError(data, err)
		}
		return nil
	}
	var extra yaml.Node
	if sp == nil { // split's stream has the items as its next documents
		if err := dec.Decode(&extra); err == nil {
			d.errorf(&extra, "", "a second YAML document (---); keep the whole configuration in one document")
		} else if !errors.Is(err, io.EOF) {
			d.syntaxError(data, err)
		}
	}
	if len(doc.Content) == 0 {
		d.errorf(nil, "version", "the file is empty; start with \"version: 1\" and a list of pipelines")
		return nil
	}
	root := doc.Content[0]
	if isNull(root) {
		d.errorf(root, "version", "the file is empty; start with \"version: 1\" and a list of pipelines")
		return nil
	}
	f := d.mapping(val{n: root, at: root, path: ""}, KnownKeys[""], func(key string) string {
		if slices.Contains(pipelineKeys, key) {
			return fmt.Sprintf("; %s is a pipeline field: set it under defaults: or in a pipeline", key)
		}
		return ""
	})
	if f == nil {
		return nil
	}
	cfg := &Config{Timezone: DefaultTimezone, Location: time.UTC, index: &pipelineIndex{}}

	if v, ok := f.get("version"); !ok {
		d.errorf(root, "version", "is required; add \"version: 1\" at the top")
	} else if s, ok := d.scalarOf(v, false); ok {
		if s.s != "1" {
			d.fail(v, "unsupported version %s; this sekisho reads version 1", s.shown)
		}
		cfg.Version = 1
	}
	if tz, v, ok := d.str(f, "timezone"); ok {
		if loc := d.location(v, tz); loc != nil {
			cfg.Timezone, cfg.Location = tz, loc
		}
	}
	cfg.Store = d.store(f)
	cfg.HA = d.ha(f)
	cfg.Server = d.server(f)
	cfg.Connections = d.connections(f)
	cfg.Slack = d.slack(f)
	cfg.Lineage = d.lineage(f)
	cfg.Calendars = d.calendars(f)

	var defaults *fields
	if v, ok := f.get("defaults"); ok {
		defaults = d.mapping(v, KnownKeys["defaults"], nil)
	}
	var metas []*pipelineMeta
	decode := func(item val) {
		if p, m := d.pipeline(cfg, item, defaults); p != nil {
			cfg.Pipelines = append(cfg.Pipelines, p)
			metas = append(metas, m)
		}
	}
	if sp != nil {
		// The list was cut out of the text: `pipelines:` must be where
		// split found it, on a block mapping, with nothing left under it.
		pv, ok := f.lookup("pipelines")
		if !ok || pv.at == nil || pv.at.Line != sp.keyLine || pv.at.Column != 1 || !isNull(pv.n) ||
			root.Kind != yaml.MappingNode || root.Style&yaml.FlowStyle != 0 {
			d.unsplit = true
			return nil
		}
		cfg.Pipelines = make([]*Pipeline, 0, len(sp.shifts))
		items := readItems(dec, sp.shifts)
		i := 0
		for n := range items.nodes {
			decode(val{n: n, at: n, path: index("pipelines", i)})
			i++
		}
		if !items.whole {
			d.unsplit = true
			return nil
		}
	} else {
		pv, ok := f.get("pipelines")
		if !ok {
			d.errorf(root, "pipelines", "is required; declare at least one pipeline")
			return cfg
		}
		items, ok := d.list(pv)
		if !ok {
			return cfg
		}
		if len(items) == 0 {
			d.fail(pv, "is empty; declare at least one pipeline")
		}
		for _, item := range items {
			decode(item)
			// The pipeline is decoded: let its nodes go, so the whole
			// config is not held beside the rest of the node tree. An
			// anchored one stays, for the aliases that may follow.
			if n := item.n; n != nil && n.Kind == yaml.MappingNode && n.Anchor == "" {
				n.Content = nil
			}
		}
	}
	d.checkGraph(cfg, metas)
	d.checkLogicalDates(cfg, metas)
	d.checkSlack(cfg, f)
	d.watches(cfg, f)
	d.maintenance(cfg, f)
	return cfg
}

func (d *decoder) location(v val, tz string) *time.Location {
	sc, _ := d.scalarOf(v, false)
	if tz == "" || tz == "Local" {
		d.fail(v, "bad time zone %s; write an IANA name like \"Asia/Tokyo\" or \"UTC\"", sc.shown)
		return nil
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		d.fail(v, "unknown time zone %s; write an IANA name like \"Asia/Tokyo\" or \"UTC\"", sc.shown)
		return nil
	}
	return loc
}

func isAbsURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

func (d *decoder) store(root *fields) Store {
	s := Store{Path: DefaultStorePath}
	v, ok := root.get("store")
	if !ok {
		return s
	}
	f := d.mapping(v, KnownKeys["store"], nil)
	if p, _, ok := d.str(f, "path"); ok && p != "" {
		s.Path = p
	}
	s.Retention = d.retention(f)
	return s
}

// retention reads store.retention: whole days, "400d", or 0 (keep
// everything).
func (d *decoder) retention(f *fields) time.Duration {
	v, ok := f.get("retention")
	if !ok {
		return 0
	}
	s, ok := d.scalarOf(v, false)
	if !ok {
		return 0
	}
	if s.s == "0" {
		return 0
	}
	days, err := strconv.Atoi(strings.TrimSuffix(s.s, "d"))
	switch {
	case !strings.HasSuffix(s.s, "d") || err != nil || days < 0 || strings.HasPrefix(s.s, "+"):
		d.fail(v, "bad retention %s; write whole days like 400d, or 0 to keep everything", s.shown)
		return 0
	case days > 0 && time.Duration(days)*24*time.Hour < MinRetention:
		d.fail(v, "retention %s is below the minimum %dd: the board's history and the engine's look-backs read runs that young",
			s.shown, int(MinRetention/(24*time.Hour)))
		return 0
	case days == 0:
		return 0
	case days > 100*366:
		d.fail(v, "retention %s is more than a century; leave it out to keep everything", s.shown)
		return 0
	}
	return time.Duration(days) * 24 * time.Hour
}

func (d *decoder) ha(root *fields) HA {
	h := HA{Lease: DefaultLease}
	if v, ok := root.get("ha"); ok {
		if f := d.mapping(v, KnownKeys["ha"], nil); f != nil {
			h.Lease = d.duration(f, "lease", DefaultLease, time.Second)
		}
	}
	return h
}

func (d *decoder) server(root *fields) Server {
	s := Server{Listen: DefaultListen}
	v, ok := root.get("server")
	if !ok {
		return s
	}
	f := d.mapping(v, KnownKeys["server"], nil)
	if f == nil {
		return s
	}
	if l, _, ok := d.str(f, "listen"); ok && l != "" {
		s.Listen = l
	}
	s.PublicURL = d.absURL(f, "public_url")
	s.Token = d.secret(f, "token")
	s.ReadToken = d.secret(f, "read_token")
	return s
}

func (d *decoder) connections(root *fields) Connections {
	var c Connections
	v, ok := root.get("connections")
	if !ok {
		return c
	}
	f := d.mapping(v, KnownKeys["connections"], nil)
	if f == nil {
		return c
	}
	if gv, ok := f.get("glue"); ok {
		if g := d.mapping(gv, KnownKeys["connections.glue"], nil); g != nil {
			region, _, _ := d.required(g, "region", "; the AWS region of your Glue jobs, e.g. ap-northeast-1")
			c.Glue = &Glue{Region: region, Endpoint: d.absURL(g, "endpoint"), RateLimit: d.rateLimit(g, RateLimit{})}
			if acct, av, ok := d.str(g, "account_id"); ok && acct != "" {
				if !awsAccountID.MatchString(acct) {
					d.fail(av, "want the 12-digit AWS account id of the Glue jobs, e.g. \"123456789012\"")
				} else {
					c.Glue.AccountID = acct
				}
			}
		}
	}
	if tv, ok := f.get("trocco"); ok {
		if t := d.mapping(tv, KnownKeys["connections.trocco"], nil); t != nil {
			c.Trocco = &Trocco{BaseURL: DefaultTroccoURL}
			if u := d.absURL(t, "base_url"); u != "" {
				c.Trocco.BaseURL = u
			}
			if d.reading && t.has("api_key") {
				c.Trocco.APIKey = d.secret(t, "api_key")
			} else {
				key, _, _ := d.required(t, "api_key", "; write api_key: ${TROCCO_API_KEY} and export the key")
				c.Trocco.APIKey = Secret(key)
			}
			c.Trocco.RateLimit = d.rateLimit(t, DefaultTroccoRateLimit)
		}
	}
	if av, ok := f.get("airflow"); ok {
		names, vals, _ := d.mapEntries(av)
		c.Airflow = map[string]*Airflow{}
		for i, name := range names {
			if a := d.airflow(name, vals[i]); a != nil {
				c.Airflow[name] = a
			}
		}
	}
	if wv, ok := f.get("warehouses"); ok {
		c.Warehouses = d.warehouses(wv)
	}
	return c
}

func (d *decoder) airflow(name string, v val) *Airflow {
	f := d.mapping(v, KnownKeys["connections.airflow.*"], nil)
	if f == nil {
		return nil
	}
	a := &Airflow{Name: name}
	if _, bv, ok := d.required(f, "base_url", "; the Airflow web server or Composer URL"); ok {
		a.BaseURL = d.absURL(f, "base_url")
		_ = bv
	}
	a.APIVersion = d.oneOf(f, "api_version", "api_version", DefaultAPIVersion, APIVersions)
	a.Auth = d.oneOf(f, "auth", "auth", DefaultAuth, AuthModes)
	a.Username, _, _ = d.str(f, "username")
	a.Password = d.secret(f, "password")
	a.Token = d.secret(f, "token")
	a.RateLimit = d.rateLimit(f, RateLimit{})
	if av, ok := f.get("auth"); ok {
		switch {
		case a.APIVersion == "v2" && a.Auth == "basic":
			d.fail(av, "auth: basic does not work with api_version: v2 (Airflow 3's API takes only bearer tokens); use auth: password with username and password, and sekisho gets the tokens from /auth/token")
		case a.APIVersion == "v1" && a.Auth == "password":
			d.fail(av, "auth: password is Airflow 3's /auth/token and needs api_version: v2; for Airflow 2 use auth: basic or google")
		}
	}
	need := map[string][]string{"basic": {"username", "password"}, "password": {"username", "password"}, "bearer": {"token"}}
	for _, k := range []string{"username", "password", "token"} {
		wanted := slices.Contains(need[a.Auth], k)
		v, present := f.get(k)
		switch {
		case wanted && !present:
			d.missing(f, k, fmt.Sprintf(" with auth: %s", a.Auth))
		case !wanted && present:
			if a.Auth == "basic" || a.Auth == "bearer" || a.Auth == "password" || k != "token" {
				d.fail(v, "is not used with auth: %s; remove it or change auth", a.Auth)
			} else {
				d.fail(v, "is not used with auth: %s; did you mean auth: bearer?", a.Auth)
			}
		}
	}
	return a
}

func (d *decoder) slack(root *fields) Slack {
	s := Slack{Language: DefaultLanguage, GroupWait: DefaultGroupWait}
	v, ok := root.get("slack")
	if !ok {
		return s
	}
	f := d.mapping(v, KnownKeys["slack"], nil)
	if f == nil {
		return s
	}
	s.WebhookURL = d.secret(f, "webhook_url")
	s.Token = d.secret(f, "token")
	s.Channel, _, _ = d.str(f, "channel")
	s.APIURL = d.absURL(f, "api_url")
	s.Language = d.oneOf(f, "language", "language", DefaultLanguage, Languages)
	s.GroupWait = d.duration(f, "group_wait", DefaultGroupWait, 0)
	d.slackActions(f, &s)
	if t, tv, ok := d.timeOfDay(f, "digest_at"); ok {
		if t.Days != 0 {
			d.fail(tv, "digest_at is a time of day without a day offset, like \"09:00\"")
		} else {
			s.DigestAt = t
		}
	}
	if wv, ok := f.get("webhook_url"); ok && s.WebhookURL != "" && s.Token != "" {
		d.fail(wv, "webhook_url and token are exclusive: use webhook mode or bot mode, not both")
	}
	return s
}

// checkSlack checks what depends on the pipelines: bot mode needs a channel
// for every notice.
func (d *decoder) checkSlack(cfg *Config, root *fields) {
	if cfg.Slack.Token == "" || cfg.Slack.WebhookURL != "" || cfg.Slack.Channel != "" {
		return
	}
	v, _ := root.get("slack")
	sf := d.mapping(v, KnownKeys["slack"], nil)
	tv, _ := sf.get("token")
	for _, p := range cfg.Pipelines {
		if p.Notify.Channel == "" {
			d.fail(tv, "bot mode needs a channel: set slack.channel (or notify.channel in every pipeline)")
			return
		}
	}
}

// scrub replaces any environment value that made it into a message with the
// variable's name. Messages quote values as written (${NAME}) already; this
// is the safety net for messages built from a value, like a template error
// or an unknown name. Values shorter than 3 bytes would only mangle text.
func scrub(es Errors, used map[string]string) Errors {
	names := slices.Collect(maps.Keys(used))
	slices.SortFunc(names, func(a, b string) int { return len(used[b]) - len(used[a]) })
	var pairs []string
	for _, n := range names {
		v := used[n]
		if len(v) < 3 {
			continue
		}
		pairs = append(pairs, v, "${"+n+"}")
		if q := strconv.Quote(v); q[1:len(q)-1] != v {
			pairs = append(pairs, q[1:len(q)-1], "${"+n+"}")
		}
	}
	if len(pairs) == 0 {
		return es
	}
	r := strings.NewReplacer(pairs...)
	for i := range es {
		es[i].Msg = r.Replace(es[i].Msg)
		es[i].Path = r.Replace(es[i].Path)
	}
	return es
}

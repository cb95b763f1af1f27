package config

import (
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/sekisho-dev/sekisho"
)

// Warehouse kinds (SPEC §15).
const (
	WarehousePostgres = "postgres"
	WarehouseRedshift = "redshift"
	WarehouseBigQuery = "bigquery"
)

// WarehouseTypes lists every kind of connections.warehouses entry.
var WarehouseTypes = []string{WarehousePostgres, WarehouseRedshift, WarehouseBigQuery}

// TypeSQL is the sensor type of a data-quality check: a query on a warehouse.
const TypeSQL = "sql"

// WatchLongQueries is the one watch type: queries running past a threshold.
const WatchLongQueries = "long_queries"

// WatchTypes lists every kind of watches: entry.
var WatchTypes = []string{WatchLongQueries}

// Watch defaults and limits.
const (
	DefaultWatchInterval = time.Minute
	MinWatchInterval     = 5 * time.Second
	MinWatchThreshold    = time.Minute
)

// Warehouse is one named SQL warehouse under connections.warehouses. Which
// fields matter depends on Type; the others stay empty.
type Warehouse struct {
	Name string
	Type string // postgres | redshift | bigquery
	// DSN is a PostgreSQL connection URL or key=value string (postgres).
	DSN Secret
	// Redshift: Region always; Serverless by WorkgroupName, provisioned by
	// ClusterIdentifier with DBUser (temporary credentials for that user),
	// SecretARN, or neither: then the Data API connects as the caller's IAM
	// identity (redshift:GetClusterCredentialsWithIAM).
	Region            string
	WorkgroupName     string
	ClusterIdentifier string
	Database          string
	DBUser            string
	SecretARN         string
	// BigQuery: Project that runs the jobs, and the default Location.
	Project  string
	Location string
	// Endpoint overrides the vendor's API endpoint (test doubles).
	Endpoint string
	// RateLimit is the budget every check query and long-query listing on
	// this warehouse draws from (SPEC §13); none by default.
	RateLimit RateLimit
}

// Watch is one standing watch of top-level watches:, not a gate.
type Watch struct {
	Name         string
	Type         string // long_queries
	Warehouse    string
	Threshold    time.Duration
	Interval     time.Duration
	ExcludeUsers []string
	Notify       WatchNotify
}

// WatchNotify addresses a watch's notices.
type WatchNotify struct {
	Channel string
	Mention string
}

// Watch returns the watch with the given name, or nil.
func (c *Config) Watch(name string) *Watch {
	for _, w := range c.Watches {
		if w.Name == name {
			return w
		}
	}
	return nil
}

// warehouseFields says which keys, besides type, each warehouse kind takes.
var warehouseFields = map[string][]string{
	WarehousePostgres: {"dsn"},
	WarehouseRedshift: {"region", "workgroup_name", "cluster_identifier", "database", "db_user", "secret_arn", "endpoint"},
	WarehouseBigQuery: {"project", "location", "endpoint"},
}

func (d *decoder) warehouses(v val) map[string]*Warehouse {
	names, vals, _ := d.mapEntries(v)
	out := map[string]*Warehouse{}
	for i, name := range names {
		if !namePattern.MatchString(name) {
			d.errorf(vals[i].at, vals[i].path, "name %q may only hold lowercase letters, digits, _ and -", name)
			continue
		}
		if w := d.warehouse(name, vals[i]); w != nil {
			out[name] = w
		}
	}
	return out
}

func (d *decoder) warehouse(name string, v val) *Warehouse {
	f := d.mapping(v, KnownKeys["connections.warehouses.*"], nil)
	if f == nil {
		return nil
	}
	w := &Warehouse{Name: name}
	typ, _, ok := d.requiredOneOf(f, "type", "warehouse type", " ("+strings.Join(WarehouseTypes, ", ")+")", WarehouseTypes)
	if !ok {
		return nil
	}
	w.Type = typ
	w.RateLimit = d.rateLimit(f, RateLimit{})
	for _, k := range KnownKeys["connections.warehouses.*"][1:] {
		if kv, present := f.get(k); present && k != "rate_limit" && !slices.Contains(warehouseFields[typ], k) {
			d.fail(kv, "is not a field of %s warehouse", article(typ))
		}
	}
	switch typ {
	case WarehousePostgres:
		// The DSN carries a password: no message ever quotes it.
		if dv, ok := f.get("dsn"); !ok {
			d.missing(f, "dsn", "; write dsn: ${DWH_DSN} and export postgres://user:password@host:5432/db")
		} else if s, ok := d.scalarOf(dv, false); ok {
			w.DSN = Secret(s.s)
			if !validDSN(s.s) {
				d.fail(dv, "want a postgres:// URL or key=value settings (the value is not shown: it may hold a password)")
			}
		}
	case WarehouseRedshift:
		w.Region, _, _ = d.required(f, "region", "; the AWS region of the cluster or workgroup, e.g. ap-northeast-1")
		w.WorkgroupName, _, _ = d.str(f, "workgroup_name")
		w.ClusterIdentifier, _, _ = d.str(f, "cluster_identifier")
		w.Database, _, _ = d.required(f, "database", "; the database the queries run in, e.g. dev")
		w.DBUser, _, _ = d.str(f, "db_user")
		w.SecretARN, _, _ = d.str(f, "secret_arn")
		w.Endpoint = d.absURL(f, "endpoint")
		switch {
		case w.WorkgroupName != "" && w.ClusterIdentifier != "":
			cv, _ := f.get("cluster_identifier")
			d.fail(cv, "workgroup_name (Serverless) and cluster_identifier (provisioned) are exclusive; keep one")
		case w.WorkgroupName == "" && w.ClusterIdentifier == "":
			d.missing(f, "workgroup_name", " for Serverless, or cluster_identifier for a provisioned cluster")
		case w.WorkgroupName != "":
			if uv, ok := f.get("db_user"); ok {
				d.fail(uv, "is not used with workgroup_name: Serverless takes the IAM identity or secret_arn")
			}
		case w.DBUser != "" && w.SecretARN != "":
			sv, _ := f.get("secret_arn")
			d.fail(sv, "db_user and secret_arn are exclusive; keep one")
		}
	case WarehouseBigQuery:
		w.Project, _, _ = d.required(f, "project", "; the Google Cloud project that runs the jobs")
		w.Location, _, _ = d.str(f, "location")
		w.Endpoint = d.absURL(f, "endpoint")
	}
	return w
}

// validDSN accepts what pgx parses: a postgres:// or postgresql:// URL, or
// key=value settings.
func validDSN(s string) bool {
	s = strings.TrimSpace(s)
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://") || strings.Contains(s, "=")
}

// warehouseRef reads a required warehouse key naming connections.warehouses;
// kinds limits the accepted warehouse types (nil: any).
func (d *decoder) warehouseRef(cfg *Config, f *fields, what string, kinds []string) (string, bool) {
	name, v, ok := d.required(f, "warehouse", "; the name of a warehouse under connections.warehouses")
	if !ok {
		return "", false
	}
	w, known := cfg.Connections.Warehouses[name]
	if !known {
		d.fail(v, "%s", unknownName("warehouse", name, "connections.warehouses", slices.Sorted(maps.Keys(cfg.Connections.Warehouses))))
		return name, false
	}
	if kinds != nil && !slices.Contains(kinds, w.Type) {
		d.fail(v, "%s needs a %s warehouse; %q is %s", what, strings.Join(kinds, " or "), name, w.Type)
		return name, false
	}
	return name, true
}

// sqlUpstream decodes a type: sql upstream and renders its query over a
// sample run, so a template typo fails validate, not the gate.
func (d *decoder) sqlUpstream(cfg *Config, p *Pipeline, f *fields, u *Upstream) {
	c := &DataCheck{}
	c.Warehouse, _ = d.warehouseRef(cfg, f, "a sql upstream", nil)
	c.Query = d.checkQuery(p, f, "a sql upstream (SELECT … whose first column is true or a count)")
	d.expect(f, c)
	u.DataCheck = c
}

// checkQuery reads the required query of a sql upstream or a reconcile side
// and renders it over a sample run.
func (d *decoder) checkQuery(p *Pipeline, f *fields, what string) string {
	qv, ok := f.get("query")
	if !ok {
		d.missing(f, "query", " for "+what)
		return ""
	}
	s, ok := d.scalarOf(qv, true)
	if !ok {
		return ""
	}
	if strings.TrimSpace(s.s) == "" {
		d.fail(qv, "must not be empty; write a SELECT whose first column is true or a count")
		return ""
	}
	out, err := renderSample(p, s.s)
	if err != nil {
		d.fail(qv, "%s", s.detail(err))
		return s.s
	}
	if strings.TrimSpace(out) == "" {
		d.fail(qv, "renders to an empty query; write a SELECT whose first column is true or a count")
	}
	return s.s
}

// QueryData is what a sql upstream's query template sees.
type QueryData struct {
	Pipeline    string
	LogicalDate string // YYYY-MM-DD
	GateAt      string // RFC 3339 in the pipeline's time zone
}

// RenderQuery renders a sql upstream's query for one run. The template sees
// .Pipeline, .LogicalDate and .GateAt; a missing key is an error.
func RenderQuery(query, pipeline, logicalDate string, gateAt time.Time) (string, error) {
	return sekisho.ExecuteTemplate("query", query, QueryData{Pipeline: pipeline, LogicalDate: logicalDate, GateAt: gateAt.Format(time.RFC3339)})
}

// RendersPerRun reports whether SpecFor renders a query for each run;
// when it does not, every run's snapshot is Spec.
func (p *Pipeline) RendersPerRun() bool {
	for _, u := range p.Upstreams {
		if u.DataCheck == nil || u.DataCheck.Rendered {
			continue
		}
		switch u.Type {
		case TypeSQL:
			return true
		case TypeReconcile:
			if u.DataCheck.Source != nil && u.DataCheck.Target != nil {
				return true
			}
		}
	}
	return false
}

// SpecFor is the snapshot kept with the run of one logical date: Spec with
// every sql upstream's query rendered for that run, so its polled resource
// (warehouse, rendered query) is what every run of that day shares.
func (p *Pipeline) SpecFor(logicalDate string, gateAt time.Time) []byte {
	if !p.RendersPerRun() {
		return p.Spec()
	}
	q := *p
	q.Upstreams = slices.Clone(p.Upstreams)
	// Validated at load: a render error would only come from a hand-built
	// config; the warehouse then reports the raw text.
	render := func(query string) string {
		if out, err := RenderQuery(query, p.Name, logicalDate, gateAt.In(p.Location)); err == nil {
			return out
		}
		return query
	}
	for i, u := range q.Upstreams {
		if u.DataCheck == nil || u.DataCheck.Rendered {
			continue
		}
		// A copy: the loaded pipeline's DataCheck is shared with the clone.
		c := *u.DataCheck
		switch u.Type {
		case TypeSQL:
			c.Query, c.Rendered = render(c.Query), true
		case TypeReconcile:
			if c.Source == nil || c.Target == nil {
				continue
			}
			src, tgt := *c.Source, *c.Target
			src.Query, tgt.Query = render(src.Query), render(tgt.Query)
			c.Source, c.Target, c.Rendered = &src, &tgt, true
		default:
			continue
		}
		q.Upstreams[i].DataCheck = &c
		q.Upstreams[i].resources = nil // its queries changed
	}
	return q.Spec()
}

func (d *decoder) watches(cfg *Config, root *fields) {
	v, ok := root.get("watches")
	if !ok {
		return
	}
	items, ok := d.list(v)
	if !ok {
		return
	}
	seen := map[string]int{}
	for _, it := range items {
		w, nv := d.watch(cfg, it)
		if w == nil {
			continue
		}
		if line, dup := seen[w.Name]; dup {
			d.fail(nv, "duplicate watch name %q (first at line %d); watch names are unique", w.Name, line)
			continue
		}
		seen[w.Name] = nv.at.Line
		cfg.Watches = append(cfg.Watches, w)
	}
}

func (d *decoder) watch(cfg *Config, it val) (*Watch, val) {
	f := d.mapping(it, KnownKeys["watches[]"], nil)
	if f == nil {
		return nil, it
	}
	w := &Watch{Interval: DefaultWatchInterval}
	name, nv, ok := d.required(f, "name", "; a name like long_queries")
	if ok && !namePattern.MatchString(name) {
		d.fail(nv, "name %q may only hold lowercase letters, digits, _ and -", name)
		ok = false
	}
	w.Name = name
	typ, _, _ := d.requiredOneOf(f, "type", "watch type", " ("+strings.Join(WatchTypes, ", ")+")", WatchTypes)
	w.Type = typ
	w.Warehouse, _ = d.warehouseRef(cfg, f, "a long_queries watch", nil)
	if _, present := f.get("threshold"); !present {
		d.missing(f, "threshold", "; how long a query may run before a notice, e.g. 30m")
	} else {
		w.Threshold = d.duration(f, "threshold", 0, MinWatchThreshold)
	}
	w.Interval = d.duration(f, "interval", DefaultWatchInterval, MinWatchInterval)
	if ev, ok := f.get("exclude_users"); ok {
		items, _ := d.list(ev)
		for _, u := range items {
			if s, ok := d.scalarOf(u, false); ok && s.s != "" {
				w.ExcludeUsers = append(w.ExcludeUsers, s.s)
			}
		}
	}
	if nv, ok := f.get("notify"); ok {
		if nf := d.mapping(nv, KnownKeys["watches[].notify"], nil); nf != nil {
			w.Notify.Channel, _, _ = d.str(nf, "channel")
			w.Notify.Mention, _, _ = d.str(nf, "mention")
		}
	}
	if cfg.Slack.Token != "" && cfg.Slack.WebhookURL == "" && cfg.Slack.Channel == "" && w.Notify.Channel == "" {
		d.missing(f, "notify", ": bot mode needs a channel (notify.channel, or slack.channel)")
	}
	if !ok {
		return nil, nv
	}
	return w, nv
}

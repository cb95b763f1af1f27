// Package config turns pipelines.yaml into typed, defaulted and validated
// configuration. Every problem is reported at once with the file, line and
// column it comes from.
package config

import (
	"bytes"
	"encoding/json"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/calendar"
)

// Secret is a string that must never be printed: its String, GoString and
// JSON forms are redacted. Use Value to read it.
type Secret string

// Value returns the secret itself, for the one place that sends it.
func (s Secret) Value() string { return string(s) }

// String redacts the secret.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return "[redacted]"
}

// GoString redacts the secret in %#v.
func (s Secret) GoString() string { return s.String() }

// MarshalJSON redacts the secret.
func (s Secret) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// Config is a whole pipelines.yaml.
type Config struct {
	Path        string // the file it was read from
	Version     int
	Timezone    string
	Location    *time.Location // Timezone, loaded; UTC by default
	Store       Store
	HA          HA
	Server      Server
	Connections Connections
	Slack       Slack
	Lineage     Lineage
	Pipelines   []*Pipeline
	Watches     []*Watch // standing watches (SPEC §15), not gates
	Maintenance []Maintenance
	// Calendars are the company calendars declared under calendars:
	// (SPEC §18); Calendar also knows the built-in ones.
	Calendars map[string]*calendar.Calendar
	// UnsetSecrets are the variables of secret fields left unset, sorted:
	// LoadReading lets them through (validate names them as what `run`
	// will need); Load refuses them.
	UnsetSecrets []string

	// index finds Pipelines by name (Pipeline): the engine and the board
	// look pipelines up by name once per run, and a scan of 10,000 each
	// time was quadratic. Load makes it; a Config built by hand has none
	// and is scanned. A pointer, so a Config copied by value shares it.
	index *pipelineIndex
}

// pipelineIndex is Pipelines' positions by name, built at the first
// look-up.
type pipelineIndex struct {
	byName atomic.Pointer[map[string]int]
}

// With is a copy of c that lists only ps (pipelines of c): part of the
// config, such as a page of the board, for the readers that take a whole
// *Config (status, slo).
func (c *Config) With(ps []*Pipeline) *Config {
	sub := *c
	sub.Pipelines, sub.index = ps, &pipelineIndex{}
	return &sub
}

// Pipeline returns the pipeline with the given name, or nil. Every answer
// from the index is checked against Pipelines, so a config changed after a
// look-up (a test appending a pipeline) is still answered right.
func (c *Config) Pipeline(name string) *Pipeline {
	if c.index != nil {
		if idx := c.index.byName.Load(); idx != nil {
			if i, ok := (*idx)[name]; ok && i < len(c.Pipelines) && c.Pipelines[i].Name == name {
				return c.Pipelines[i]
			}
		}
	}
	for _, p := range c.Pipelines {
		if p.Name == name {
			if c.index != nil {
				idx := make(map[string]int, len(c.Pipelines))
				for i, q := range c.Pipelines {
					idx[q.Name] = i
				}
				c.index.byName.Store(&idx)
			}
			return p
		}
	}
	return nil
}

// Store configures the store.
type Store struct {
	Path string // a SQLite file (default sekisho.db) or a postgres:// URL
	// Retention is how long finished runs are kept (`retention: 400d`):
	// the leader prunes older ones, with their transitions, observations
	// and notices, after writing their days' SLO summaries. 0 keeps
	// everything (the default).
	Retention time.Duration
}

// MinRetention is the shortest store.retention: the engine looks back up
// to 16 days for a sub-daily window, the board shows 30 days of history,
// and both read runs (the SLO report reads pruned days' summaries).
const MinRetention = 31 * 24 * time.Hour

// HA configures the leader lease of replicas sharing a PostgreSQL store
// (SPEC §14).
type HA struct {
	// Lease is how long a leader's lease runs; it renews every third of
	// it, and a replica takes over this long after a leader dies.
	Lease time.Duration // default 6s
}

// Server configures the HTTP server.
type Server struct {
	Listen    string // default ":8080"
	PublicURL string
	Token     Secret // bearer token for writes and event ingestion
	ReadToken Secret // if set, reads need it too
}

// Connections holds the upstream and downstream systems.
type Connections struct {
	Glue    *Glue
	Trocco  *Trocco
	Airflow map[string]*Airflow
	// Warehouses are SQL warehouses for sql upstreams and watches (SPEC §15).
	Warehouses map[string]*Warehouse
}

// Glue configures the AWS Glue client; credentials come from the default chain.
type Glue struct {
	Region    string
	Endpoint  string // optional override, e.g. a local test double
	RateLimit RateLimit
	// AccountID is the AWS account of the Glue jobs (12 digits), used only
	// to name them in lineage as OpenLineage names Glue resources
	// (arn:aws:glue:{region}:{account id}); optional.
	AccountID string
}

// Trocco configures the TROCCO API client.
type Trocco struct {
	BaseURL   string // default https://trocco.io
	APIKey    Secret
	RateLimit RateLimit // default DefaultTroccoRateLimit
}

// Airflow configures one named Airflow / Composer environment.
type Airflow struct {
	Name       string
	BaseURL    string
	APIVersion string // v1 (Airflow 2, default) | v2 (Airflow 3)
	Auth       string // google | basic | bearer | password | none
	Username   string
	Password   Secret
	Token      Secret
	RateLimit  RateLimit
}

// Slack configures notices. Webhook mode and bot mode are exclusive.
type Slack struct {
	WebhookURL Secret
	Token      Secret
	Channel    string
	APIURL     string
	Language   string // ja | en (default ja)
	DigestAt   sekisho.TimeOfDay
	// GroupWait is how long webhook mode holds an incident's first message
	// so the pipelines affected by then are in it, and the least time
	// between two messages about one incident (SPEC §17; default 30s).
	GroupWait time.Duration

	// Operator actions from Slack (SPEC §20).
	Interactivity string   // off (default) | socket_mode | http
	AppToken      Secret   // socket_mode: an xapp- app-level token
	SigningSecret Secret   // http: verifies POST /slack/interactions
	Operators     []string // user and user-group ids who may act on every pipeline
}

// Enabled reports whether any Slack mode is configured.
func (s Slack) Enabled() bool { return s.WebhookURL != "" || s.Token != "" }

// Pipeline is one gated downstream unit, with defaults already merged in.
type Pipeline struct {
	Name         string         `json:"name"`
	Description  string         `json:"description,omitempty"`
	Schedule     string         `json:"schedule"`
	Timezone     string         `json:"timezone"`
	Location     *time.Location `json:"-"`
	PokeInterval time.Duration  `json:"poke_interval"` // default 60s
	Timeout      time.Duration  `json:"timeout"`       // default 6h
	// TimeoutAt, when set, replaces Timeout with a time of day of the
	// logical date, like "+1bd 09:00" (SPEC §18).
	TimeoutAt sekisho.TimeOfDay `json:"timeout_at"`
	// Calendar, when set, lets a gate open only on its business days
	// (SPEC §18); CalendarName is its name in the config.
	Calendar     *calendar.Calendar `json:"-"`
	CalendarName string             `json:"calendar,omitempty"`
	// CalendarDef is the calendar's definition in a run's snapshot, so a
	// run keeps the calendar it started with.
	CalendarDef *calendar.Def `json:"calendar_def,omitempty"`
	// BusinessDay, when not 0, gates only on the Nth business day of the
	// month (-1 the last).
	BusinessDay int               `json:"business_day,omitempty"`
	WindowStart sekisho.TimeOfDay `json:"window_start"` // default 00:00 of the logical date; unset for a sub-daily pipeline (Window)
	// WindowBefore starts the window this long before the gate
	// (window_start: -15m); zero when window_start is a time of day.
	WindowBefore      time.Duration        `json:"window_before,omitempty"`
	Upstreams         []Upstream           `json:"upstreams"`
	Condition         string               `json:"condition"`           // all (default) | any | expression
	OnUpstreamFailure string               `json:"on_upstream_failure"` // wait (default) | fail
	Trigger           *sekisho.TriggerSpec `json:"trigger,omitempty"`
	SLO               *SLO                 `json:"slo,omitempty"`
	SLA               SLA                  `json:"sla"`
	MaxDuration       time.Duration        `json:"max_duration,omitempty"`
	Notify            Notify               `json:"notify"`
	Impacts           []string             `json:"impacts,omitempty"`
	// Owners may act from Slack on this pipeline besides slack.operators;
	// an entry "-<id>" takes an operator away (SPEC §20).
	Owners  []string `json:"owners,omitempty"`
	Runbook string   `json:"runbook,omitempty"` // linked in every notice and on the board
}

// Upstream is one thing a pipeline waits for.
type Upstream struct {
	Name                 string `json:"name"`
	Type                 string `json:"type"` // glue_job | glue_workflow | trocco_job | trocco_workflow | airflow_dag | pipeline
	JobName              string `json:"job_name,omitempty"`
	WorkflowName         string `json:"workflow_name,omitempty"`
	JobDefinitionID      int64  `json:"job_definition_id,omitempty"`
	PipelineDefinitionID int64  `json:"pipeline_definition_id,omitempty"`
	Connection           string `json:"connection,omitempty"`
	DagID                string `json:"dag_id,omitempty"`
	Pipeline             string `json:"pipeline,omitempty"`
	// Runs says which runs of a sub-daily upstream pipeline a run waits
	// for (SPEC §19): all of them whose fire time falls on its logical
	// date (RunsAll, the default), or the latest of them (RunsLatest).
	Runs string `json:"runs,omitempty"`
	// DataCheck is set for sql and reconcile upstreams only. Embedded, so
	// a snapshot writes its fields among the upstream's own.
	*DataCheck
	// SkippedIsSuccess counts a skipped run of this upstream (TROCCO's
	// "skipped" job status; a pipeline's skipped run) as succeeded. By
	// default a skipped run is a failure of the upstream: it did not run, so
	// the downstream would get no fresh data (SPEC §5).
	SkippedIsSuccess bool `json:"skipped_is_success,omitempty"`

	// resources is Resources(), worked out once the upstream is read (Load,
	// PipelineFromSpec): the poll planner asks every upstream of every
	// pipeline for it at each poll, and making the slice anew each time
	// was 38 % of the daemon's allocations at 10,000 pipelines (issue 23).
	resources []sekisho.Resource
}

// DataCheck is what only sql and reconcile upstreams have (SPEC §15, §21).
// The other upstreams leave it nil and stay half the size: a pipeline holds
// its upstreams for as long as it is loaded (issue 23). Its fields are
// promoted into Upstream, but reading u.Query of a nil DataCheck panics:
// check u.DataCheck first.
type DataCheck struct {
	Warehouse string `json:"warehouse,omitempty"` // sql
	Query     string `json:"query,omitempty"`     // sql: a template until Rendered
	// Rendered is set in a run's snapshot, whose Query (or Source and
	// Target queries) is rendered for its logical date (SpecFor).
	Rendered bool `json:"rendered,omitempty"`
	// Expect and OnViolation: what a sql upstream's number must satisfy,
	// and what breaking it does (SPEC §21).
	Expect      *Expect `json:"expect,omitempty"`
	OnViolation string  `json:"on_violation,omitempty"`
	// Source, Target and Tolerance: a reconcile upstream (SPEC §21).
	Source    *CheckQuery `json:"source,omitempty"`
	Target    *CheckQuery `json:"target,omitempty"`
	Tolerance Tolerance   `json:"tolerance,omitzero"`
}

// SLO is a pipeline's service level objective.
type SLO struct {
	Deadline sekisho.TimeOfDay `json:"deadline"`
	// Within is the deadline as a duration after each gate (SPEC §19), the
	// only form a sub-daily pipeline takes; zero when Deadline is set.
	Within    time.Duration `json:"within,omitempty"`
	Objective float64       `json:"objective"` // a share: 0.95 for "95%"
}

// SLA is the recovery agreement: a failed day must still succeed by RecoverBy.
type SLA struct {
	RecoverBy sekisho.TimeOfDay `json:"recover_by"` // default "+1d 00:00", the end of the logical date
	// Within is the recovery limit as a duration after each gate (SPEC §19).
	Within time.Duration `json:"within,omitempty"`
}

// Notify filters and addresses a pipeline's notices.
type Notify struct {
	Channel string               `json:"channel,omitempty"`
	Mention string               `json:"mention,omitempty"`
	On      []sekisho.NoticeKind `json:"on,omitempty"` // default: all kinds
	// EscalateAfter: an incident unacknowledged this long gets one thread
	// reply mentioning EscalateTo (SPEC §20).
	EscalateAfter time.Duration `json:"escalate_after,omitempty"`
	EscalateTo    string        `json:"escalate_to,omitempty"`
}

// Wants reports whether the pipeline wants notices of kind k.
func (n Notify) Wants(k sekisho.NoticeKind) bool {
	if len(n.On) == 0 {
		return true
	}
	for _, o := range n.On {
		if o == k {
			return true
		}
	}
	return false
}

// Sensor types.
const (
	TypeGlueJob        = "glue_job"
	TypeGlueWorkflow   = "glue_workflow"
	TypeTroccoJob      = "trocco_job"
	TypeTroccoWorkflow = "trocco_workflow"
	TypeAirflowDag     = "airflow_dag"
	TypePipeline       = "pipeline"
)

// The choices of a pipeline upstream's runs:.
const (
	RunsAll    = "all"
	RunsLatest = "latest"
)

// UpstreamRuns lists the choices of runs:.
var UpstreamRuns = []string{RunsAll, RunsLatest}

// SensorTypes lists every upstream type.
var SensorTypes = []string{TypeGlueJob, TypeGlueWorkflow, TypeTroccoJob, TypeTroccoWorkflow, TypeAirflowDag, TypePipeline, TypeSQL, TypeReconcile}

// TriggerTypes lists every downstream type.
var TriggerTypes = []string{TypeAirflowDag, TypeTroccoWorkflow}

// TriggerResource is the resource whose jobs a trigger starts: the key its
// jobs are filed under in the job ledger, the same an upstream on that
// workflow or DAG polls.
func TriggerResource(t *sekisho.TriggerSpec) sekisho.Resource {
	return Upstream{Type: t.Type, Connection: t.Connection, DagID: t.DagID, PipelineDefinitionID: t.PipelineDefinitionID}.Resource()
}

// Resource returns the polled resource an upstream names; Type pipeline
// upstreams read the store instead and have no resource.
func (u Upstream) Resource() sekisho.Resource {
	switch u.Type {
	case TypeGlueJob:
		return sekisho.Resource{Type: u.Type, ID: u.JobName}
	case TypeGlueWorkflow:
		return sekisho.Resource{Type: u.Type, ID: u.WorkflowName}
	case TypeTroccoJob:
		return sekisho.Resource{Type: u.Type, ID: itoa(u.JobDefinitionID)}
	case TypeTroccoWorkflow:
		return sekisho.Resource{Type: u.Type, ID: itoa(u.PipelineDefinitionID)}
	case TypeAirflowDag:
		return sekisho.Resource{Type: u.Type, Connection: u.Connection, ID: u.DagID}
	case TypeSQL:
		// One query per (warehouse, rendered query) per interval: the ID is
		// the query as the run's snapshot rendered it (SpecFor).
		if c := u.DataCheck; c != nil {
			return sekisho.Resource{Type: u.Type, Connection: c.Warehouse, ID: c.Query}
		}
	case TypeReconcile:
		// The target's query: the side the board shows the next check of.
		if c := u.DataCheck; c != nil && c.Target != nil {
			return c.Target.Resource()
		}
	}
	return sekisho.Resource{Type: u.Type, ID: u.Pipeline}
}

// UpstreamNames lists the pipeline's upstream names in config order: what
// its condition may name.
func (p *Pipeline) UpstreamNames() []string {
	names := make([]string, len(p.Upstreams))
	for i, u := range p.Upstreams {
		names[i] = u.Name
	}
	return names
}

// Waiter is the first pipeline and upstream of a config that wait on a
// resource.
type Waiter struct {
	Pipeline *Pipeline
	Upstream string
}

// Waiters indexes, per resource an upstream of c polls, its first waiter.
// It is built afresh on every call: callers keep it per config (a scan of
// 10,000 pipelines per poll or per pushed event was a tenth of the
// daemon's CPU).
func (c *Config) Waiters() map[sekisho.Resource]Waiter {
	out := map[sekisho.Resource]Waiter{}
	if c == nil {
		return out
	}
	for _, p := range c.Pipelines {
		for _, u := range p.Upstreams {
			for _, r := range u.Resources() {
				if _, ok := out[r]; !ok {
					out[r] = Waiter{Pipeline: p, Upstream: u.Name}
				}
			}
		}
	}
	return out
}

// Resources returns every resource an upstream polls: one for a job or a
// sql check, the source's and the target's query for a reconcile, none for
// a pipeline. The slice is shared: callers must not change it.
func (u Upstream) Resources() []sekisho.Resource {
	if u.resources != nil {
		return u.resources
	}
	return u.resourcesOf()
}

// readResources keeps each upstream's Resources, for a pipeline read from
// a snapshot.
func (p *Pipeline) readResources() {
	for i := range p.Upstreams {
		p.Upstreams[i].resources = p.Upstreams[i].resourcesOf()
	}
}

func (u Upstream) resourcesOf() []sekisho.Resource {
	switch u.Type {
	case TypePipeline:
		return nil
	case TypeReconcile:
		if u.DataCheck == nil {
			return nil
		}
		var rs []sekisho.Resource
		for _, q := range []*CheckQuery{u.DataCheck.Source, u.DataCheck.Target} {
			if q != nil {
				rs = append(rs, q.Resource())
			}
		}
		return rs
	}
	return []sekisho.Resource{u.Resource()}
}

// Deadline returns the SLO deadline of the run whose gate opens at gate on
// the logical date: slo.deadline on the date, or slo.within after the gate
// (SPEC §19); zero without an SLO.
func (p *Pipeline) Deadline(date string, gate time.Time) time.Time {
	switch {
	case p.SLO == nil:
		return time.Time{}
	case p.SLO.Within > 0:
		return gate.Add(p.SLO.Within).UTC()
	case p.SLO.Deadline.Set:
		return p.mustTimeOn(p.SLO.Deadline, date)
	}
	return time.Time{}
}

// RecoverBy returns the SLA recovery limit of the run whose gate opens at
// gate on the logical date: sla.recover_by on the date, or sla.within after
// the gate. Without either it is the end of the logical date, or the SLO
// deadline when that is later ("+1d 06:00"): a day cannot miss its SLA
// before its SLO.
func (p *Pipeline) RecoverBy(date string, gate time.Time) time.Time {
	if p.SLA.Within > 0 {
		return gate.Add(p.SLA.Within).UTC()
	}
	if p.SLA.RecoverBy.Set {
		return p.mustTimeOn(p.SLA.RecoverBy, date)
	}
	end := sekisho.TimeOfDay{Days: 1, Set: true}.MustOn(date, p.Location)
	if d := p.Deadline(date, gate); d.After(end) {
		return d
	}
	return end
}

// Window returns the start of the upstream window of the run whose gate
// opens at gate on the logical date (SPEC §5 rule 2, §19): window_start on
// the date, or window_start's duration before the gate; without it 00:00 of
// the date, or a sub-daily pipeline's previous fire, so each interval
// counts only the upstream runs since the last one.
func (p *Pipeline) Window(date string, gate time.Time) time.Time {
	switch {
	case p.WindowBefore > 0:
		return gate.Add(-p.WindowBefore)
	case p.WindowStart.Set:
		return p.mustTimeOn(p.WindowStart, date)
	}
	if prev := p.PrevFire(gate); !prev.IsZero() {
		return prev
	}
	return sekisho.TimeOfDay{Set: true}.MustOn(date, p.Location)
}

// Spec returns the JSON snapshot kept with each run (SPEC §4 rule 6).
func (p *Pipeline) Spec() []byte {
	if p.Calendar != nil {
		c := *p
		def := p.Calendar.Def()
		c.CalendarDef = &def
		p = &c
	}
	b, err := json.Marshal(p)
	if err != nil {
		panic(err) // every field is plain data
	}
	return b
}

// PipelineForRun reads a run's snapshot as PipelineFromSpec does, but
// answers current, the loaded config's pipeline of that name (or nil),
// when the snapshot is exactly what current writes: the open runs of a
// pipeline unchanged since their gates opened then share the one loaded
// pipeline instead of each holding a parsed copy (issue 23: about 2 KB an
// open run). A pipeline whose queries each run renders never matches its
// snapshot, and is parsed. Callers must not change what it returns.
func PipelineForRun(spec []byte, current *Pipeline) (*Pipeline, error) {
	if current != nil && bytes.Equal(current.Spec(), spec) {
		return current, nil
	}
	return PipelineFromSpec(spec)
}

// PipelineFromSpec reads a snapshot written by Spec.
func PipelineFromSpec(b []byte) (*Pipeline, error) {
	var p Pipeline
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, err
	}
	loc, err := time.LoadLocation(p.Timezone)
	if err != nil {
		return nil, err
	}
	p.Location = loc
	p.readResources()
	if p.CalendarDef != nil {
		if p.Calendar, err = calendar.New(p.CalendarName, *p.CalendarDef); err != nil {
			return nil, err
		}
	}
	return &p, nil
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

package config

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/sekisho-dev/sekisho"
)

// trigger decodes a pipeline's trigger and renders its templates over a
// sample run, so a typo fails validate instead of the 02:00 trigger.
func (d *decoder) trigger(cfg *Config, p *Pipeline, v val, upstreams []string) *sekisho.TriggerSpec {
	f := d.mapping(v, KnownKeys["pipelines[].trigger"], nil)
	if f == nil {
		return nil
	}
	t := &sekisho.TriggerSpec{}
	typ, tv, ok := d.requiredOneOf(f, "type", "trigger type", " (airflow_dag or trocco_workflow)", TriggerTypes)
	if !ok {
		return t
	}
	t.Type = typ
	own := map[string][]string{
		TypeAirflowDag:     {"connection", "dag_id", "conf", "note", "unpause", "trace_context", "logical_date"},
		TypeTroccoWorkflow: {"pipeline_definition_id", "retry_unknown"},
	}
	for _, k := range KnownKeys["pipelines[].trigger"][1:] {
		if kv, present := f.get(k); present && !slices.Contains(own[typ], k) {
			d.fail(kv, "is not a field of %s trigger", article(typ))
		}
	}
	switch typ {
	case TypeAirflowDag:
		t.Connection = d.airflowConnection(cfg, f)
		t.DagID, _, _ = d.required(f, "dag_id", " for an airflow_dag trigger (the DAG to start)")
		t.Unpause = d.boolean(f, "unpause")
		t.TraceContext = d.boolean(f, "trace_context")
		data := sampleData(p, upstreams)
		if cv, ok := f.get("conf"); ok {
			if conf, ok := d.toAny(cv, 0); ok {
				m, isMap := conf.(map[string]any)
				if !isMap {
					d.fail(cv, "want a mapping of DAG run parameters")
				} else {
					t.Conf = d.internConf(m)
					if _, err := sekisho.RenderConf(m, data); err != nil {
						d.fail(cv, "%v", err)
					}
				}
			}
		}
		if nv, ok := f.get("note"); ok {
			if s, ok := d.scalarOf(nv, true); ok {
				t.Note = s.s
				if _, err := sekisho.RenderTemplate("note", s.s, data); err != nil {
					d.fail(nv, "%v", err)
				}
			}
		}
		t.LogicalDate = d.logicalDate(cfg, p, f, t)
	case TypeTroccoWorkflow:
		t.PipelineDefinitionID = d.positiveID(f, "pipeline_definition_id", " for a trocco_workflow trigger (the number in the workflow's URL)")
		t.RetryUnknown = d.boolean(f, "retry_unknown")
		if cfg.Connections.Trocco == nil {
			d.fail(tv, "a trocco_workflow trigger needs connections.trocco with an api_key")
		}
	}
	return t
}

// LogicalDateModes are the words trigger.logical_date takes besides a template.
var LogicalDateModes = []string{sekisho.LogicalDateFire, sekisho.LogicalDateIntervalStart, sekisho.LogicalDateNone}

// logicalDate reads trigger.logical_date (SPEC §18). Unset, it follows the
// convention of the Airflow the connection speaks to, so a DAG moved from
// its own cron schedule sees the dates it saw before: interval_start on
// Airflow 2 (api_version v1), fire on Airflow 3 (v2). A template is
// rendered over a sample run and must give an RFC 3339 time.
func (d *decoder) logicalDate(cfg *Config, p *Pipeline, f *fields, t *sekisho.TriggerSpec) string {
	v, ok := f.get("logical_date")
	if !ok {
		if a := cfg.Connections.Airflow[t.Connection]; a != nil && a.APIVersion == "v2" {
			return sekisho.LogicalDateFire
		}
		return sekisho.LogicalDateIntervalStart
	}
	s, ok := d.scalarOf(v, true)
	if !ok {
		return ""
	}
	if slices.Contains(LogicalDateModes, s.s) {
		return s.s
	}
	if !strings.Contains(s.s, "{{") {
		d.fail(v, "%s; or a template giving an RFC 3339 time, like \"{{ .LogicalDate }}T00:00:00+09:00\"", unknownWord("logical_date", s, LogicalDateModes))
		return ""
	}
	gate := time.Date(2025, 1, 31, 2, 0, 0, 0, p.Location)
	req := sekisho.TriggerRequest{Pipeline: p.Name, LogicalDate: "2025-01-31", Attempt: 1, GateAt: gate,
		IntervalStart: gate.AddDate(0, 0, -1), TimeZone: p.Location, Spec: sekisho.TriggerSpec{LogicalDate: s.s}}
	if _, err := sekisho.DagRunDates(req); err != nil {
		d.fail(v, "%v", err)
	}
	return s.s
}

// checkLogicalDates refuses two pipelines that would give one DAG runs
// with the same logical date: Airflow keeps one run per (dag_id, logical
// date), so the second would fail every day with logical_date_taken. Two
// pipelines collide when they trigger the same DAG of the same connection
// with fire or interval_start at the same time of day in the same zone, or
// with the same template.
func (d *decoder) checkLogicalDates(cfg *Config, metas []*pipelineMeta) {
	first := map[string]*Pipeline{}
	for i, p := range cfg.Pipelines {
		t := p.Trigger
		if t == nil || t.Type != TypeAirflowDag || t.LogicalDate == "" || t.LogicalDate == sekisho.LogicalDateNone {
			continue
		}
		key := t.Connection + "\x00" + t.DagID + "\x00" + t.LogicalDate
		if t.LogicalDate == sekisho.LogicalDateFire || t.LogicalDate == sekisho.LogicalDateIntervalStart {
			if p.Schedule == "" {
				continue
			}
			h, m, s := p.GateClock()
			key += fmt.Sprintf("\x00%02d:%02d:%02d\x00%s", h, m, s, p.Timezone)
		}
		if other, dup := first[key]; dup {
			d.fail(metas[i].trigger, "pipelines %s and %s both trigger DAG %s of %s with logical_date %s at the same time, "+
				"but Airflow keeps one DAG run per logical date; give one of them another logical_date (none, or a template)",
				other.Name, p.Name, t.DagID, t.Connection, t.LogicalDate)
			continue
		}
		first[key] = p
	}
}

// sampleData is a run of p as a template would see it, with every upstream
// present, so missing keys and bad fields show up at validate time.
func sampleData(p *Pipeline, upstreams []string) sekisho.TemplateData {
	gate := time.Date(2025, 1, 31, 2, 0, 0, 0, p.Location)
	d := sekisho.TemplateData{Pipeline: p.Name, LogicalDate: "2025-01-31", Attempt: 1,
		GateAt: gate.Format(time.RFC3339), IntervalStart: gate.AddDate(0, 0, -1).Format(time.RFC3339),
		Upstreams: map[string]sekisho.TemplateUpstream{}}
	for _, n := range upstreams {
		d.Upstreams[n] = sekisho.TemplateUpstream{ExternalID: "sample-run-id", FinishedAt: gate.Add(-time.Hour).Format(time.RFC3339)}
	}
	return d
}

// internConf returns the decoder's one copy of a trigger conf equal to m:
// pipelines triggering with the same parameters (a date template) share
// one map instead of holding 300 bytes each (issue 23). A conf is never
// changed once read (RenderConf makes a new one).
func (d *decoder) internConf(m map[string]any) map[string]any {
	b, err := json.Marshal(m)
	if err != nil {
		return m
	}
	key := string(b)
	// JSON writes 1 and 1.0 alike: equal text is not yet equal values.
	if c, ok := d.confs[key]; ok && reflect.DeepEqual(c, m) {
		return c
	}
	if d.confs == nil {
		d.confs = map[string]map[string]any{}
	}
	d.confs[key] = m
	return m
}

// toAny turns YAML into JSON-friendly values: maps with string keys,
// []any, string, int64, float64, bool and nil. Strings are templates, so
// ${VAR} values are inserted as data.
func (d *decoder) toAny(v val, depth int) (any, bool) {
	n := d.resolve(v.n)
	if n == nil || depth > 50 {
		d.fail(v, "nests too deeply")
		return nil, false
	}
	switch n.Kind {
	case yaml.MappingNode:
		keys, vals, ok := d.mapEntries(val{n: n, at: v.at, path: v.path})
		if !ok {
			return nil, false
		}
		out := make(map[string]any, len(keys))
		good := true
		for i, k := range keys {
			x, ok := d.toAny(vals[i], depth+1)
			good = good && ok
			out[k] = x
		}
		return out, good
	case yaml.SequenceNode:
		out := make([]any, len(n.Content))
		good := true
		for i, item := range n.Content {
			x, ok := d.toAny(val{n: item, at: item, path: index(v.path, i)}, depth+1)
			good = good && ok
			out[i] = x
		}
		return out, good
	}
	switch n.Tag {
	case "!!null":
		return nil, true
	case "!!bool":
		var b bool
		if err := n.Decode(&b); err == nil {
			return b, true
		}
	case "!!int":
		if i, err := strconv.ParseInt(n.Value, 0, 64); err == nil {
			return i, true
		}
		var i int64
		if err := n.Decode(&i); err == nil {
			return i, true
		}
	case "!!float":
		var x float64
		if err := n.Decode(&x); err == nil {
			if math.IsInf(x, 0) || math.IsNaN(x) {
				d.fail(v, "%s has no JSON form; quote it to send a string", n.Value)
				return nil, false
			}
			return x, true
		}
	}
	s, ok := d.scalarOf(val{n: n, at: v.at, path: v.path}, true)
	if !ok {
		return nil, false
	}
	return s.s, true
}

package config

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/condition"
)

// pipelineMeta keeps what the checks across pipelines need: positions
// only (val.position), so a decoded pipeline's YAML nodes can go.
type pipelineMeta struct {
	name    val
	refs    []pipelineRef // type: pipeline upstreams
	trigger val           // the trigger: key, for errors across pipelines
}

type pipelineRef struct {
	to string
	v  val
}

// withDefaults lays the pipeline's own fields over defaults:.
func withDefaults(own, defaults *fields) *fields {
	if defaults == nil {
		return own
	}
	n := len(own.keys) + len(defaults.keys)
	f := &fields{v: own.v, keys: append(make([]string, 0, n), own.keys...), vals: append(make([]val, 0, n), own.vals...), known: own.known}
	for i, k := range defaults.keys {
		if _, ok := own.lookup(k); !ok {
			f.add(k, defaults.vals[i])
		}
	}
	return f
}

func (d *decoder) pipeline(cfg *Config, item val, defaults *fields) (*Pipeline, *pipelineMeta) {
	own := d.mapping(item, KnownKeys["pipelines[]"], nil)
	if own == nil {
		return nil, nil
	}
	f := withDefaults(own, defaults)
	p := &Pipeline{Timezone: cfg.Timezone, Location: cfg.Location, Condition: "all", OnUpstreamFailure: "wait"}
	m := &pipelineMeta{}

	name, nv, ok := d.required(f, "name", "; a name like socrates_daily")
	if ok && !namePattern.MatchString(name) {
		d.fail(nv, "name %q may only hold lowercase letters, digits, _ and -", name)
	}
	p.Name, m.name = name, nv.position()
	p.Description, _, _ = d.str(f, "description")
	if tz, v, ok := d.str(f, "timezone"); ok {
		if loc := d.location(v, tz); loc != nil {
			p.Timezone, p.Location = tz, loc
		}
	}
	var sched *cron.SpecSchedule
	if s, v, ok := d.required(f, "schedule", "; a cron expression like \"0 2 * * *\" (02:00 every day)"); ok {
		sc, _ := d.scalarOf(v, false)
		var err error
		if sched, err = parseSchedule(s); err != nil {
			d.fail(v, "bad schedule %s: %s", sc.shown, sc.detail(err))
		} else if msg := scheduleProblem(sched); msg != "" {
			d.fail(v, "schedule %s %s", sc.shown, msg)
			sched = nil
		} else {
			p.Schedule = s
		}
	}
	d.pipelineCalendar(cfg, p, f)
	p.PokeInterval = d.duration(f, "poke_interval", DefaultPokeInterval, 1e9)
	if s, _, ok := d.str(f, "timeout"); ok && strings.ContainsAny(strings.TrimSpace(s), "+-") {
		// A time of day of the logical date, like "+1bd 09:00" (SPEC §18).
		p.Timeout = DefaultTimeout
		if t, tv, ok := d.timeOfDay(f, "timeout"); ok && d.businessTime(p, f, "timeout", t, tv) {
			if sched != nil && seconds(t) <= gateSeconds(sched) {
				d.fail(tv, "timeout %q is not after the gate; write a duration like 6h or a later time like \"+1bd 09:00\"", t.String())
			} else {
				p.TimeoutAt = t
			}
		}
	} else {
		p.Timeout = d.duration(f, "timeout", DefaultTimeout, 1e9)
	}
	d.windowStart(p, f, own, sched)

	names, namesOK := d.upstreams(cfg, p, f, m)
	if c, cv, ok := d.str(f, "condition"); ok && c != "" {
		p.Condition = c
		if len(names) == 0 && namesOK && c != "all" {
			d.fail(cv, "a pipeline without upstreams can only use condition all")
		} else if namesOK {
			if _, err := condition.Parse(c, names); err != nil {
				d.fail(cv, "%v", err)
			}
		}
	}
	p.OnUpstreamFailure = d.oneOf(f, "on_upstream_failure", "on_upstream_failure", "wait", UpstreamFailureOps)
	if v, ok := f.get("trigger"); ok {
		p.Trigger, m.trigger = d.trigger(cfg, p, v, names), v.position()
	}
	d.slo(p, f, sched)
	p.MaxDuration = d.duration(f, "max_duration", 0, 0)
	if v, ok := f.get("notify"); ok {
		p.Notify = d.notify(v)
	}
	d.pipelineActions(p, f)
	if v, ok := f.get("impacts"); ok {
		items, _ := d.list(v)
		for _, it := range items {
			if s, ok := d.scalarOf(it, false); ok {
				p.Impacts = append(p.Impacts, s.s)
			}
		}
	}
	d.readResources(p)
	return p, m
}

// readResources keeps each upstream's Resources, for a pipeline just
// decoded: the upstreams of a file that poll one resource share one slice
// (Resources' callers never change it), as thousands of pipelines wait on
// a few hundred jobs.
func (d *decoder) readResources(p *Pipeline) {
	for i := range p.Upstreams {
		rs := p.Upstreams[i].resourcesOf()
		if len(rs) == 1 {
			if shared, ok := d.resources[rs[0]]; ok {
				rs = shared
			} else {
				if d.resources == nil {
					d.resources = map[sekisho.Resource][]sekisho.Resource{}
				}
				d.resources[rs[0]] = rs
			}
		}
		p.Upstreams[i].resources = rs
	}
}

// windowStart reads window_start: a time of day relative to the logical
// date, or a duration before the gate ("-15m", SPEC §19). Without it the
// window starts at 00:00 of the logical date, or for a sub-daily pipeline
// at its previous fire, so each interval waits for its own upstream runs.
// A time of day from defaults: is left out of a sub-daily pipeline: it
// was written for the daily ones, and an hourly run counting every load
// since 00:00 would pass on the day's first load from its second hour on.
// own is the pipeline's own fields, f with defaults laid under them.
func (d *decoder) windowStart(p *Pipeline, f, own *fields, sched *cron.SpecSchedule) {
	subDay := sched != nil && subDaily(sched)
	v, ok := f.get("window_start")
	if ok && subDay {
		if _, mine := own.get("window_start"); !mine {
			sc, isScalar := d.scalarOf(v, false)
			ok = isScalar && windowBefore(sc.s)
		}
	}
	if !ok {
		if !subDay {
			p.WindowStart = sekisho.TimeOfDay{Set: true}
		}
		return
	}
	sc, ok := d.scalarOf(v, false)
	if !ok {
		return
	}
	if windowBefore(sc.s) {
		before, err := time.ParseDuration(sc.s)
		if err != nil || before >= 0 {
			d.fail(v, "bad window_start %s: write a time of day like \"00:00\" or \"-1d 22:00\", or a duration before the gate like -15m", sc.shown)
			return
		}
		p.WindowBefore = -before
		return
	}
	if t, tv, ok := d.timeOfDay(f, "window_start"); ok && d.businessTime(p, f, "window_start", t, tv) {
		p.WindowStart = t
	}
}

// windowBefore reports whether a window_start is written as a duration
// before the gate ("-15m") rather than a time of day ("-1d 22:00").
func windowBefore(s string) bool {
	return strings.HasPrefix(s, "-") && !strings.Contains(s, ":")
}

// upstreams decodes the list; names is every upstream name, and namesOK
// false when some are missing (then a condition check would only echo that).
func (d *decoder) upstreams(cfg *Config, p *Pipeline, f *fields, m *pipelineMeta) ([]string, bool) {
	v, ok := f.get("upstreams")
	if !ok {
		d.missing(f, "upstreams", "; list what this pipeline waits for")
		return nil, false
	}
	items, ok := d.list(v)
	if !ok {
		return nil, false
	}
	if len(items) == 0 {
		// An explicit empty list is a clock gate: the run succeeds when the
		// gate opens. It roots a chain of gate-only pipelines.
		return nil, true
	}
	namesOK := true
	var names []string
	seen := map[string]int{}
	// Sized exactly: a pipeline holds its upstreams for as long as it is
	// loaded, and append's doubling left a quarter of them unused (issue 23).
	p.Upstreams = make([]Upstream, 0, len(items))
	for _, it := range items {
		u, nv := d.upstream(cfg, p, it, m)
		if u.Name == "" || !namePattern.MatchString(u.Name) {
			namesOK = false
			continue
		}
		if line, dup := seen[u.Name]; dup {
			d.fail(nv, "duplicate upstream name %q (first at line %d); upstream names are unique within a pipeline", u.Name, line)
			continue
		}
		seen[u.Name] = nv.at.Line
		names = append(names, u.Name)
		p.Upstreams = append(p.Upstreams, u)
	}
	return names, namesOK
}

func (d *decoder) upstream(cfg *Config, p *Pipeline, it val, m *pipelineMeta) (Upstream, val) {
	var u Upstream
	f := d.mapping(it, KnownKeys["pipelines[].upstreams[]"], nil)
	if f == nil {
		return u, it
	}
	name, nv, ok := d.required(f, "name", "; a name the condition can use")
	if ok && !namePattern.MatchString(name) {
		d.fail(nv, "name %q may only hold lowercase letters, digits, _ and -", name)
	}
	u.Name = name
	typ, tv, tok := d.requiredOneOf(f, "type", "sensor type", " ("+strings.Join(SensorTypes, ", ")+")", SensorTypes)
	if !tok {
		return u, nv
	}
	u.Type = typ
	for _, k := range KnownKeys["pipelines[].upstreams[]"][2:] {
		if v, present := f.get(k); present && !slices.Contains(upstreamFields[typ], k) {
			d.fail(v, "is not a field of %s upstream", article(typ))
		}
	}
	hint := func(what string) string { return fmt.Sprintf(" for %s upstream (%s)", article(typ), what) }
	switch typ {
	case TypeGlueJob:
		u.JobName, _, _ = d.required(f, "job_name", hint("the Glue job's name"))
		if cfg.Connections.Glue == nil {
			d.fail(tv, "a glue_job upstream needs connections.glue with a region")
		}
	case TypeGlueWorkflow:
		u.WorkflowName, _, _ = d.required(f, "workflow_name", hint("the Glue workflow's name"))
		if cfg.Connections.Glue == nil {
			d.fail(tv, "a glue_workflow upstream needs connections.glue with a region")
		}
	case TypeTroccoJob:
		u.JobDefinitionID = d.positiveID(f, "job_definition_id", hint("the number in the job definition's URL"))
		if cfg.Connections.Trocco == nil {
			d.fail(tv, "a trocco_job upstream needs connections.trocco with an api_key")
		}
	case TypeTroccoWorkflow:
		u.PipelineDefinitionID = d.positiveID(f, "pipeline_definition_id", hint("the number in the workflow's URL"))
		if cfg.Connections.Trocco == nil {
			d.fail(tv, "a trocco_workflow upstream needs connections.trocco with an api_key")
		}
	case TypeAirflowDag:
		u.Connection = d.airflowConnection(cfg, f)
		u.DagID, _, _ = d.required(f, "dag_id", hint("the DAG to watch"))
	case TypePipeline:
		var pv val
		u.Pipeline, pv, _ = d.required(f, "pipeline", hint("another pipeline's name"))
		if u.Pipeline != "" {
			m.refs = append(m.refs, pipelineRef{to: u.Pipeline, v: pv.position()})
		}
		if f.has("runs") {
			u.Runs = d.oneOf(f, "runs", "runs", RunsAll, UpstreamRuns)
		}
	case TypeSQL:
		d.sqlUpstream(cfg, p, f, &u)
	case TypeReconcile:
		d.reconcileUpstream(cfg, p, f, &u)
	}
	if slices.Contains(upstreamFields[typ], "skipped_is_success") {
		u.SkippedIsSuccess = d.boolean(f, "skipped_is_success")
	}
	return u, nv
}

func (d *decoder) positiveID(f *fields, key, hint string) int64 {
	n, v, ok := d.integer(f, key)
	if !ok {
		if !f.has(key) {
			d.missing(f, key, hint)
		}
		return 0
	}
	if n <= 0 {
		d.fail(v, "must be a positive number")
		return 0
	}
	return n
}

// airflowConnection reads a required connection naming connections.airflow.
func (d *decoder) airflowConnection(cfg *Config, f *fields) string {
	name, v, ok := d.required(f, "connection", "; the name of an environment under connections.airflow")
	if !ok {
		return ""
	}
	if _, known := cfg.Connections.Airflow[name]; known {
		return name
	}
	d.fail(v, "%s", unknownName("connection", name, "connections.airflow", slices.Sorted(maps.Keys(cfg.Connections.Airflow))))
	return name
}

// unknownName says a name is not among the declared ones (all, sorted),
// with a suggestion, the declared names, or where to declare it.
func unknownName(what, name, where string, all []string) string {
	msg := fmt.Sprintf("unknown %s %q", what, name)
	if s := condition.Suggest(name, all); s != "" {
		return msg + fmt.Sprintf(" (did you mean %q?)", s)
	}
	if len(all) == 0 {
		return msg + "; declare it under " + where
	}
	return msg + fmt.Sprintf(" (declared: %s)", strings.Join(all, ", "))
}

var noticeAliases = map[string][]sekisho.NoticeKind{
	"failure": {sekisho.NoticeUpstreamFailed, sekisho.NoticeTriggerFailed, sekisho.NoticeRunFailed},
	"timeout": {sekisho.NoticeTimedOut},
}

func (d *decoder) notify(v val) Notify {
	var n Notify
	f := d.mapping(v, KnownKeys["pipelines[].notify"], nil)
	if f == nil {
		return n
	}
	n.Channel, _, _ = d.str(f, "channel")
	n.Mention, _, _ = d.str(f, "mention")
	d.notifyEscalation(f, &n)
	ov, ok := f.get("on")
	if !ok {
		return n
	}
	words := make([]string, 0, len(sekisho.NoticeKinds)+len(noticeAliases))
	for _, k := range sekisho.NoticeKinds {
		words = append(words, string(k))
	}
	words = append(words, "failure", "timeout")
	items, _ := d.list(ov)
	for _, it := range items {
		s, ok := d.scalarOf(it, false)
		if !ok {
			continue
		}
		kinds := noticeAliases[s.s]
		if kinds == nil && slices.Contains(words, s.s) {
			kinds = []sekisho.NoticeKind{sekisho.NoticeKind(s.s)}
		}
		if kinds == nil {
			d.fail(it, "%s", unknownWord("notice kind", s, words))
			continue
		}
		for _, k := range kinds {
			if !slices.Contains(n.On, k) {
				n.On = append(n.On, k)
			}
		}
	}
	if len(items) > 0 && len(n.On) == 0 {
		// Every item was bad; an empty list would mean "all kinds".
		n.On = nil
	}
	return n
}

// objective reads "95%" or "99.5%" as a share: 0.95, 0.995.
func parseObjective(s string) (float64, bool) {
	num, ok := strings.CutSuffix(strings.TrimSpace(s), "%")
	if !ok {
		return 0, false
	}
	x, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
	if err != nil || !(x > 0 && x <= 100) {
		return 0, false
	}
	return x / 100, true
}

func seconds(t sekisho.TimeOfDay) int {
	return t.Days*86400 + t.Hour*3600 + t.Minute*60 + t.Second
}

// slo reads slo: and sla:, and checks both against the gate time of day.
// A sub-daily pipeline's runs have no single time of day to meet: their
// limits are durations after each gate (within, SPEC §19).
func (d *decoder) slo(p *Pipeline, f *fields, sched *cron.SpecSchedule) {
	gate, gateOK := 0, sched != nil
	sub := sched != nil && subDaily(sched)
	if gateOK {
		gate = gateSeconds(sched)
	}
	gateText := func() string {
		h, m, s := gateClock(sched)
		return sekisho.TimeOfDay{Hour: h, Minute: m, Second: s, Set: true}.String()
	}
	if v, ok := f.get("slo"); ok {
		if sf := d.mapping(v, KnownKeys["pipelines[].slo"], nil); sf != nil {
			slo := &SLO{}
			slo.Within = d.duration(sf, "within", 0, time.Second)
			dl, dv, dok := d.timeOfDay(sf, "deadline")
			dok = dok && d.businessTime(p, f, "deadline", dl, dv)
			switch {
			case dok && sub:
				d.fail(dv, "a sub-daily schedule has no single deadline; write within: 45m, measured from each gate")
			case dok && sf.has("within"):
				wv, _ := sf.get("within")
				d.fail(wv, "deadline and within both set; keep one")
			case dok:
				slo.Deadline = dl
				if gateOK && seconds(dl) <= gate {
					d.fail(dv, "deadline %q is not after the gate at %s; write \"+1d %s\" for the next day",
						dl.String(), gateText(), sekisho.TimeOfDay{Hour: dl.Hour, Minute: dl.Minute, Second: dl.Second, Set: true})
				}
			case sf.has("deadline") || sf.has("within"):
			case sub:
				d.missing(sf, "within", "; how long after each gate the run must have succeeded, like 45m")
			default:
				d.missing(sf, "deadline", "; the time the run must have succeeded by, like \"06:00\"")
			}
			if o, ov, ok := d.str(sf, "objective"); ok {
				if x, ok := parseObjective(o); ok {
					slo.Objective = x
				} else {
					sc, _ := d.scalarOf(ov, false)
					d.fail(ov, "bad objective %s; write a percentage above 0 and at most 100, like 95%% or 99.5%%", sc.shown)
				}
			} else if !sf.has("objective") {
				d.missing(sf, "objective", "; the share of days that must meet the deadline, like 95%")
			}
			p.SLO = slo
		}
	}
	if v, ok := f.get("sla"); ok {
		if sf := d.mapping(v, KnownKeys["pipelines[].sla"], nil); sf != nil {
			p.SLA.Within = d.duration(sf, "within", 0, time.Second)
			if wv, ok := sf.get("within"); ok && p.SLA.Within > 0 && p.SLO != nil && p.SLA.Within < p.SLO.Within {
				d.fail(wv, "within %s is before the slo's %s; a recovery limit comes after the deadline",
					shortDuration(p.SLA.Within), shortDuration(p.SLO.Within))
			}
			if r, rv, ok := d.timeOfDay(sf, "recover_by"); ok && d.businessTime(p, f, "recover_by", r, rv) {
				switch {
				case sub:
					d.fail(rv, "a sub-daily schedule has no single recover_by; write within: 3h, measured from each gate")
				case sf.has("within"):
					wv, _ := sf.get("within")
					d.fail(wv, "recover_by and within both set; keep one")
				case gateOK && seconds(r) <= gate:
					d.fail(rv, "recover_by %q is not after the gate at %s; write \"+1d %s\" for the next day",
						r.String(), gateText(), sekisho.TimeOfDay{Hour: r.Hour, Minute: r.Minute, Second: r.Second, Set: true})
				case p.SLO != nil && p.SLO.Deadline.Set && r.BusinessDays == p.SLO.Deadline.BusinessDays && seconds(r) < seconds(p.SLO.Deadline):
					d.fail(rv, "recover_by %q is before the slo deadline %q; a recovery limit comes after the deadline",
						r.String(), p.SLO.Deadline.String())
				}
				if !sub && !sf.has("within") {
					p.SLA.RecoverBy = r
				}
			}
		}
	}
}

// article puts "a" or "an" before a type name.
func article(word string) string {
	if word != "" && strings.ContainsRune("aeiou", rune(word[0])) {
		return "an " + word
	}
	return "a " + word
}

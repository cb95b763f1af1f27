package eta

import (
	"context"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/condition"
)

var day = time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)

func at(h, m int) time.Time {
	return day.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute)
}

func waiting(ups ...Upstream) Input {
	return Input{Pipeline: "p", Run: sekisho.Run{State: sekisho.StateWaiting, GateAt: at(2, 0)}, Triggered: true,
		Upstreams: ups, Stats: Stats{N: 20, Total: 2 * time.Hour, Down: time.Hour}}
}

// usual is an upstream that finishes an hour after the gate and runs 45 minutes.
var usual = UpstreamStats{N: 20, Finish: time.Hour, Run: 45 * time.Minute}

func TestProject(t *testing.T) {
	cond := func(s string, names ...string) *condition.Expr {
		e, err := condition.Parse(s, names)
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	tests := []struct {
		name  string
		in    Input
		now   time.Time
		want  time.Time // zero: no projection
		cause Cause
	}{
		{"pending upstream: its usual finish, then the usual downstream run", waiting(Upstream{Name: "glue", State: sekisho.JobPending, Stats: usual}),
			at(2, 10), at(4, 0), Cause{Upstream: "glue"}},
		{"a vendor run in progress: its start plus its usual run", waiting(Upstream{Name: "glue", State: sekisho.JobRunning, StartedAt: at(2, 30), Stats: usual}),
			at(2, 40), at(4, 15), Cause{Upstream: "glue"}},
		{"overdue: not before now", waiting(Upstream{Name: "glue", State: sekisho.JobPending, Stats: usual}),
			at(3, 30), at(4, 30), Cause{Upstream: "glue"}},
		{"no history: now", waiting(Upstream{Name: "glue", State: sekisho.JobPending}),
			at(2, 10), at(3, 10), Cause{Upstream: "glue"}},
		{"two nights are not history yet", func() Input {
			in := waiting(Upstream{Name: "glue", State: sekisho.JobPending, Stats: UpstreamStats{N: 2, Finish: 3 * time.Hour}})
			in.Stats.N = 2
			return in
		}(), at(2, 10), at(2, 10), Cause{Upstream: "glue"}},
		{"the last of all upstreams", waiting(
			Upstream{Name: "a", State: sekisho.JobSucceeded, FinishedAt: at(2, 20)},
			Upstream{Name: "b", State: sekisho.JobPending, Stats: UpstreamStats{N: 5, Finish: 90 * time.Minute}}),
			at(2, 30), at(4, 30), Cause{Upstream: "b"}},
		{"any: the first", func() Input {
			in := waiting(Upstream{Name: "a", State: sekisho.JobPending, Stats: UpstreamStats{N: 5, Finish: 3 * time.Hour}},
				Upstream{Name: "b", State: sekisho.JobPending, Stats: usual})
			in.Cond = cond("a || b", "a", "b")
			return in
		}(), at(2, 0), at(4, 0), Cause{Upstream: "b"}},
		{"a failed upstream: none", waiting(Upstream{Name: "glue", State: sekisho.JobFailed}), at(2, 30), time.Time{}, Cause{}},
		{"a failed upstream the condition does without", func() Input {
			in := waiting(Upstream{Name: "a", State: sekisho.JobFailed}, Upstream{Name: "b", State: sekisho.JobPending, Stats: usual})
			in.Cond = cond("!a && b", "a", "b")
			return in
		}(), at(2, 30), at(4, 0), Cause{Upstream: "b"}},
		{"triggered: the trigger plus the usual downstream run", func() Input {
			in := waiting()
			in.Run.State, in.Run.TriggeredAt = sekisho.StateRunning, at(3, 5)
			return in
		}(), at(3, 30), at(4, 5), Cause{}},
		{"a downstream past its usual run: now", func() Input {
			in := waiting()
			in.Run.State, in.Run.TriggeredAt = sekisho.StateRunning, at(3, 5)
			return in
		}(), at(4, 30), at(4, 30), Cause{}},
		{"gate-only: when the condition holds", func() Input {
			in := waiting(Upstream{Name: "glue", State: sekisho.JobPending, Stats: usual})
			in.Triggered = false
			return in
		}(), at(2, 10), at(3, 0), Cause{Upstream: "glue"}},
		{"a clock gate", func() Input { in := waiting(); in.Triggered = false; return in }(), at(2, 0), at(2, 0), Cause{}},
		{"an acknowledged time overrides", func() Input {
			in := waiting(Upstream{Name: "glue", State: sekisho.JobPending, Stats: usual})
			in.Acknowledged = at(7, 0)
			return in
		}(), at(2, 10), at(7, 0), Cause{}},
		{"a run that ended has none", func() Input { in := waiting(); in.Run.State = sekisho.StateSucceeded; return in }(),
			at(5, 0), time.Time{}, Cause{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := Project(tt.in, tt.now)
			if !p.At.Equal(tt.want) || p.Cause.Upstream != tt.cause.Upstream || !slices.Equal(p.Cause.Via, tt.cause.Via) {
				t.Errorf("Project = %s %+v, want %s %+v", p.At.Format("15:04"), p.Cause, tt.want.Format("15:04"), tt.cause)
			}
		})
	}
}

// line is three stations: ingest waits on a Glue export, transform on
// ingest, mart on transform; each runs its downstream for half an hour.
func line(glue Upstream, ingestRun sekisho.Run) (Input, func(string) (Input, bool)) {
	station := func(name string, r sekisho.Run, up Upstream) Input {
		return Input{Pipeline: name, Run: r, Triggered: true, Upstreams: []Upstream{up},
			Stats: Stats{N: 20, Total: time.Hour, Down: 30 * time.Minute}}
	}
	open := sekisho.Run{State: sekisho.StateWaiting, GateAt: at(2, 0)}
	ins := map[string]Input{
		"ingest":    station("ingest", ingestRun, glue),
		"transform": station("transform", open, Upstream{Name: "ingest", Pipeline: "ingest", State: sekisho.JobPending}),
	}
	mart := station("mart", open, Upstream{Name: "transform", Pipeline: "transform", State: sekisho.JobPending})
	return mart, func(name string) (Input, bool) { in, ok := ins[name]; return in, ok }
}

func TestAlongTheLine(t *testing.T) {
	open := sekisho.Run{State: sekisho.StateWaiting, GateAt: at(2, 0)}
	glue := Upstream{Name: "orders_export", State: sekisho.JobPending, Stats: usual}
	tests := []struct {
		name  string
		glue  Upstream
		run   sekisho.Run
		now   time.Time
		want  time.Time
		cause Cause
	}{
		{"a normal night: 03:00 + three half hours", glue, open, at(2, 10), at(4, 30),
			Cause{Upstream: "orders_export", Via: []string{"ingest", "transform"}}},
		{"the first station's upstream runs late: the mart moves", glue, open, at(4, 0), at(5, 30),
			Cause{Upstream: "orders_export", Via: []string{"ingest", "transform"}}},
		{"the first station's own run is slow", glue, sekisho.Run{State: sekisho.StateRunning, GateAt: at(2, 0), TriggeredAt: at(3, 0)},
			at(4, 0), at(5, 0), Cause{Via: []string{"ingest", "transform"}}},
		{"the first station failed: none", glue, sekisho.Run{State: sekisho.StateFailed, GateAt: at(2, 0)}, at(3, 0), time.Time{}, Cause{}},
		{"the first station succeeded: the rest of the line", glue,
			sekisho.Run{State: sekisho.StateSucceeded, GateAt: at(2, 0), FinishedAt: at(3, 20), FirstSuccessAt: at(3, 20)},
			at(3, 25), at(4, 20), Cause{Upstream: "ingest", Via: []string{"transform"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mart, lookup := line(tt.glue, tt.run)
			p := Along(mart, lookup, tt.now)
			if !p.At.Equal(tt.want) || p.Cause.Upstream != tt.cause.Upstream || !slices.Equal(p.Cause.Via, tt.cause.Via) {
				t.Errorf("Along = %s %+v, want %s %+v", p.At.Format("15:04"), p.Cause, tt.want.Format("15:04"), tt.cause)
			}
		})
	}
	// A pipeline whose run is not there yet counts as pending with no history.
	mart, _ := line(glue, open)
	if p := Along(mart, func(string) (Input, bool) { return Input{}, false }, at(2, 10)); !p.At.Equal(at(2, 40)) {
		t.Errorf("without the line: %s, want now plus the mart's own run", p.At.Format("15:04"))
	}
}

func TestStats(t *testing.T) {
	if m := Median([]time.Duration{3, 1, 2, 10}); m != 2 {
		t.Errorf("Median = %v", m)
	}
	st := UpstreamStatsOf([]Span{{Gate: at(2, 0), Start: at(2, 10), Finish: at(3, 0)}, {Gate: at(2, 0), Start: at(2, 30), Finish: at(3, 10)},
		{Gate: at(2, 0), Finish: at(2, 50)}, {Gate: at(2, 0)}})
	if st.N != 3 || st.Finish != time.Hour || st.Run != 40*time.Minute {
		t.Errorf("UpstreamStatsOf = %+v", st)
	}
}

// times is a Reader over fixed histories, counting its queries.
type times struct {
	runs    map[string][][3]time.Time
	ups     map[string]map[string][][3]time.Time
	queries int
}

func (r *times) EachLineTimes(_ context.Context, ps []string, _ string, _ int,
	fn func(string, [][3]time.Time, []string, [][][3]time.Time)) error {
	r.queries++
	for _, p := range ps {
		var names []string
		var times [][][3]time.Time
		for u, ts := range r.ups[p] {
			names, times = append(names, u), append(times, ts)
		}
		if r.runs[p] != nil || names != nil {
			fn(p, r.runs[p], names, times)
		}
	}
	return nil
}

func (r *times) RunTimes(_ context.Context, p, _ string, _ int) ([][3]time.Time, error) {
	r.queries++
	return r.runs[p], nil
}

func (r *times) UpstreamTimes(_ context.Context, p, _ string, _ int) (map[string][][3]time.Time, error) {
	r.queries++
	return r.ups[p], nil
}

// TestReadManyIsReadOfEach: the histories of many pipelines come from one
// query and are each what Read gives for the pipeline alone; a pipeline
// without a history gets an empty one.
func TestReadManyIsReadOfEach(t *testing.T) {
	r := &times{
		runs: map[string][][3]time.Time{"p": {{at(2, 0), at(2, 30), at(4, 0)}, {at(2, 0), at(3, 0), at(5, 0)}, {at(2, 0), at(2, 10), at(3, 0)}}},
		ups: map[string]map[string][][3]time.Time{"p": {"glue": {{at(2, 0), at(2, 5), at(2, 40)}}},
			"q": {"x": {{at(1, 0), at(1, 5), at(1, 20)}, {at(1, 0), at(1, 10), at(1, 50)}}}},
	}
	ctx := context.Background()
	many, err := ReadMany(ctx, r, []string{"p", "q", "none"}, "2026-12-07")
	if err != nil || r.queries != 1 || len(many) != 3 {
		t.Fatalf("ReadMany: %d histories in %d queries (%v), want 3 in 1", len(many), r.queries, err)
	}
	for _, p := range []string{"p", "q", "none"} {
		one, err := Read(ctx, r, p, "2026-12-07") // two queries more each
		if err != nil || !reflect.DeepEqual(one, many[p]) {
			t.Errorf("%s: Read %+v (%v), ReadMany %+v", p, one, err, many[p])
		}
	}
	if p := many["p"]; p.Stats.N != 3 || p.Stats.Total != 2*time.Hour || p.Stats.Down != 90*time.Minute || p.Upstreams["glue"].N != 1 {
		t.Errorf("p: %+v", p)
	}
	if none := many["none"]; none.Stats.N != 0 || none.Upstreams == nil || len(none.Upstreams) != 0 {
		t.Errorf("none: %+v", none)
	}
}

package e2e

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	gluetypes "github.com/aws/aws-sdk-go-v2/service/glue/types"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/sim/airflowsim"
	"github.com/sekisho-dev/sekisho/sim/gluesim"
	"github.com/sekisho-dev/sekisho/sim/troccosim"
	"github.com/sekisho-dev/sekisho/sim/world"
)

// Day is what the world does on one simulated day for one group of
// pipelines; the script gives every group one per day.
type Day string

// The scripted days. Times are of the logical date, UTC; every group's
// gates open at 02:00 and its SLO deadline is 06:00.
const (
	// DayNormal: both upstreams succeed at 01:30, before the gate.
	DayNormal Day = "normal"
	// DayRerun: both upstreams fail at 01:30 and are rerun at 03:00,
	// succeeding by 03:30: blocked, then waiting, then on as usual.
	DayRerun Day = "upstream_rerun"
	// DayLate: both upstreams start at 05:30 and end at 07:00, an hour
	// after the deadline: a delay notice and a missed SLO day.
	DayLate Day = "late_upstream"
	// DayDAGFails: upstreams as normal, but both Airflow DAG runs fail.
	DayDAGFails Day = "dag_fails"
	// DayDown: both upstreams fail and nobody reruns them: timed_out.
	DayDown Day = "upstream_down"
)

// Days is every scripted day, in the order the script rotates them.
var Days = []Day{DayNormal, DayRerun, DayLate, DayDAGFails, DayDown}

// Group is five pipelines on two upstream resources of their own: a Glue
// job and a TROCCO job definition.
type Group struct {
	N int
}

// Names of the group's pipelines and resources.
func (g Group) GlueV1() string     { return fmt.Sprintf("g%d_glue_v1", g.N) }   // Glue job -> Airflow v1 DAG
func (g Group) TroccoV2() string   { return fmt.Sprintf("g%d_trocco_v2", g.N) } // TROCCO job -> Airflow v2 DAG
func (g Group) Workflow() string   { return fmt.Sprintf("g%d_workflow", g.N) }  // TROCCO job -> TROCCO workflow
func (g Group) Chain() string      { return fmt.Sprintf("g%d_chain", g.N) }     // gate-only on GlueV1
func (g Group) Watch() string      { return fmt.Sprintf("g%d_watch", g.N) }     // gate-only on the Glue job
func (g Group) GlueJob() string    { return fmt.Sprintf("g%d-export", g.N) }    // the Glue job
func (g Group) DAGA() string       { return fmt.Sprintf("g%d_dag_a", g.N) }     // GlueV1's DAG
func (g Group) DAGB() string       { return fmt.Sprintf("g%d_dag_b", g.N) }     // TroccoV2's DAG
func (g Group) TroccoJob() int64   { return int64(100 + g.N) }                  // job definition
func (g Group) WorkflowDef() int64 { return int64(900 + g.N) }                  // pipeline definition
func (g Group) Names() []string {
	return []string{g.GlueV1(), g.TroccoV2(), g.Workflow(), g.Chain(), g.Watch()}
}

// gateHour and deadlineHour place every group's gate and SLO deadline.
const (
	gateHour     = 2
	deadlineHour = 6
	dagDuration  = 30 * time.Minute
)

// Pipelines is the group's part of pipelines.yaml.
func (g Group) Pipelines() []Pipeline {
	slo := fmt.Sprintf("    slo: {deadline: \"%02d:00\", objective: 95%%}\n", deadlineHour)
	sched := fmt.Sprintf("0 %d * * *", gateHour)
	return []Pipeline{
		{Name: g.GlueV1(), Schedule: sched, Upstreams: []string{GlueUpstream("export", g.GlueJob())},
			Trigger: AirflowTrigger("v1", g.DAGA()), Extra: slo},
		{Name: g.TroccoV2(), Schedule: sched, Upstreams: []string{TroccoJobUpstream("master", g.TroccoJob())},
			Trigger: AirflowTrigger("v2", g.DAGB()), Extra: slo},
		// No SLO: an attempt killed between intent and answer cannot know
		// whether TROCCO started a job, and the simulators' first success
		// would then be one sekisho never saw.
		{Name: g.Workflow(), Schedule: sched, Upstreams: []string{TroccoJobUpstream("master", g.TroccoJob())},
			Trigger: TroccoTrigger(g.WorkflowDef())},
		{Name: g.Chain(), Schedule: sched, Upstreams: []string{fmt.Sprintf("{name: up, type: pipeline, pipeline: %s}", g.GlueV1())},
			Extra: slo},
		{Name: g.Watch(), Schedule: sched, Upstreams: []string{GlueUpstream("export", g.GlueJob())}, Extra: slo},
	}
}

// Define registers the group's DAGs and workflow in the world.
func (g Group) Define(w *World) {
	w.Airflow.AddDAG(g.DAGA(), airflowsim.DAG{Duration: dagDuration})
	w.Airflow.AddDAG(g.DAGB(), airflowsim.DAG{Duration: dagDuration})
	w.Trocco.DefineWorkflow(g.WorkflowDef(), troccosim.Outcome{RunFor: dagDuration, Status: "succeeded"})
}

// Plan scripts day d (midnight UTC of the logical date) in the world.
func (g Group) Plan(w *World, d time.Time, kind Day) {
	at := func(h, m int) time.Time { return d.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute) }
	ok := func(start time.Time, dur time.Duration) {
		w.Glue.PlanRun(g.GlueJob(), gluesim.Run{Start: start, Duration: dur})
		w.Trocco.AddJob(g.TroccoJob(), start, troccosim.Outcome{RunFor: dur, Status: "succeeded"})
	}
	fail := func(start time.Time, dur time.Duration) {
		w.Glue.PlanRun(g.GlueJob(), gluesim.Run{Start: start, Duration: dur, Outcome: "FAILED", Message: "disk full"})
		w.Trocco.AddJob(g.TroccoJob(), start, troccosim.Outcome{RunFor: dur, Status: "error"})
	}
	switch kind {
	case DayNormal:
		ok(at(0, 30), time.Hour)
	case DayRerun:
		fail(at(0, 30), time.Hour)
		ok(at(3, 0), 30*time.Minute)
	case DayLate:
		ok(at(5, 30), 90*time.Minute)
	case DayDAGFails:
		ok(at(0, 30), time.Hour)
		date := d.Format(sekisho.DateLayout)
		w.Airflow.PlanRun(g.DAGA(), sekisho.DagRunID(g.GlueV1(), date, 1), airflowsim.Plan{Outcome: "failed", Duration: dagDuration})
		w.Airflow.PlanRun(g.DAGB(), sekisho.DagRunID(g.TroccoV2(), date, 1), airflowsim.Plan{Outcome: "failed", Duration: dagDuration})
	case DayDown:
		fail(at(0, 30), time.Hour)
	}
}

// Expect is the terminal state each of the group's pipelines must reach
// on a day of this kind.
func (g Group) Expect(kind Day) map[string]sekisho.State {
	all := func(s sekisho.State) map[string]sekisho.State {
		m := map[string]sekisho.State{}
		for _, n := range g.Names() {
			m[n] = s
		}
		return m
	}
	switch kind {
	case DayDAGFails:
		m := all(sekisho.StateSucceeded)
		m[g.GlueV1()], m[g.TroccoV2()] = sekisho.StateFailed, sekisho.StateFailed
		m[g.Chain()] = sekisho.StateTimedOut // its upstream failed and stays failed
		return m
	case DayDown:
		return all(sekisho.StateTimedOut)
	}
	return all(sekisho.StateSucceeded)
}

// GlueRuns reads every run of a job from the Glue simulator through the
// real AWS SDK: the simulator's own record, not the script.
func (w *World) GlueRuns(ctx context.Context, job string) ([]gluetypes.JobRun, error) {
	c := glue.New(glue.Options{Region: world.AWSRegion, BaseEndpoint: aws.String(w.URLs.Glue),
		Credentials: credentials.NewStaticCredentialsProvider(world.AWSAccessKey, world.AWSSecretKey, "")})
	var out []gluetypes.JobRun
	p := glue.NewGetJobRunsPaginator(c, &glue.GetJobRunsInput{JobName: aws.String(job)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("glue runs of %s: %w", job, err)
		}
		out = append(out, page.JobRuns...)
	}
	return out, nil
}

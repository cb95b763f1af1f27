package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/sim/airflowsim"
	"github.com/sekisho-dev/sekisho/sim/gluesim"
	"github.com/sekisho-dev/sekisho/sim/slacksim"
	"github.com/sekisho-dev/sekisho/sim/troccosim"
	"github.com/sekisho-dev/sekisho/sim/world"
)

// The upstream and downstream resources of the example pipelines.
const (
	GlueJob          = "hegel-rds-export"
	GlueWorkflow     = "hegel"
	TroccoJob        = 55   // master_sync
	TroccoAdsSources = 1234 // ads_sources: learned from pushed events
	TroccoAdsLoad    = 5678 // ads_daily's downstream
	DagSocrates      = "socrates_main"
	DagQuality       = "quality_checks"
	DagReverseETL    = "reverse_etl"
	DagExportDone    = "export_done" // on composer-legacy
)

// Incident is what goes wrong on a day of the script.
type Incident string

// The days of the script. Every day the ads sources workflow is learned from
// a pushed TROCCO event, since TROCCO cannot list workflow jobs.
const (
	// Normal: every upstream finishes in the small hours, every SLO is met.
	Normal Incident = "normal"
	// GlueFailure: the RDS export fails, someone reruns it, and the gates
	// that were blocked on it recover on their own (recovery notices); the
	// export watch misses its 03:00 deadline (delay).
	GlueFailure Incident = "glue_failure"
	// LateUpstream: the hegel Glue workflow ends after 05:00, so
	// socrates_daily finishes after its 06:00 deadline (delay notice).
	LateUpstream Incident = "late_upstream"
	// LongRunning: socrates_main runs past max_duration (long_running notice).
	LongRunning Incident = "long_running"
	// DownstreamFailure: ads_daily's TROCCO workflow fails; kant_daily is
	// blocked and reverse_etl_daily waits, both showing affected_by on the
	// board, until an operator reruns ads_daily at 07:30.
	DownstreamFailure Incident = "downstream_failure"
)

// cycle is the order of days; the seed shifts where a calendar date falls in it.
var cycle = []Incident{Normal, GlueFailure, Normal, LateUpstream, Normal, LongRunning, Normal, DownstreamFailure}

// Incidents lists every incident of the script, Normal first.
func Incidents() []Incident {
	return []Incident{Normal, GlueFailure, LateUpstream, LongRunning, DownstreamFailure}
}

// IncidentOn returns what happens on a logical date (YYYY-MM-DD) with seed.
func IncidentOn(date string, seed uint64) Incident {
	return cycle[(dayNumber(date)+seed)%uint64(len(cycle))]
}

// FirstDateWith returns the first date on or after from (YYYY-MM-DD) that
// has incident i with seed. (sekisho.DateOf is a time's logical date.)
func FirstDateWith(i Incident, from string, seed uint64) string {
	d, err := time.Parse(sekisho.DateLayout, from)
	if err != nil {
		return ""
	}
	for range len(cycle) {
		date := d.Format(sekisho.DateLayout)
		if IncidentOn(date, seed) == i {
			return date
		}
		d = d.AddDate(0, 0, 1)
	}
	return ""
}

func dayNumber(date string) uint64 {
	d, err := time.Parse(sekisho.DateLayout, date)
	if err != nil {
		return 0
	}
	return uint64(d.Unix() / 86400)
}

// planThrough scripts every day up to and including the date of until.
// Days are planned once, a day ahead of need, so jobs that start before the
// gate (the export at 00:30) are already there when it opens.
func (w *World) planThrough(until time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	now := w.Clock.Now().In(w.Loc)
	day := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, w.Loc)
	if len(w.planned) == 0 {
		w.planHourBefore(day)
	}
	for !day.After(until) {
		date := day.Format(sekisho.DateLayout)
		if !w.planned[date] {
			w.planned[date] = true
			w.planDay(date)
		}
		day = day.AddDate(0, 0, 1)
	}
}

// planDay puts one day's jobs into the simulators; callers hold w.mu.
func (w *World) planDay(date string) {
	mid, _ := time.ParseInLocation(sekisho.DateLayout, date, w.Loc)
	at := func(h, m int) time.Time { return mid.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute) }
	rng := rand.New(rand.NewPCG(w.seed, dayNumber(date)))
	jit := func(maxMin int) time.Duration { return time.Duration(rng.IntN(maxMin+1)) * time.Minute }
	inc := IncidentOn(date, w.seed)
	w.planWarehouse(date)

	// Glue: the nightly RDS export and the hegel workflow.
	if inc == GlueFailure {
		w.Glue.PlanRun(GlueJob, gluesim.Run{Start: at(0, 30), Duration: 45*time.Minute + jit(5), Outcome: gluesim.Failed,
			Message: "An error occurred while calling o187.pyWriteDynamicFrame. Communications link failure (RDS failover)"})
		w.Glue.PlanRun(GlueJob, gluesim.Run{Start: at(2, 40), Duration: 65*time.Minute + jit(5), Trigger: "manual-rerun"})
	} else {
		w.Glue.PlanRun(GlueJob, gluesim.Run{Start: at(0, 30).Add(jit(10)), Duration: 60*time.Minute + jit(15)})
	}
	wfStart := at(0, 40).Add(jit(10))
	if inc == LateUpstream {
		wfStart = at(4, 10).Add(jit(5))
	}
	w.Glue.PlanWorkflowRun(GlueWorkflow, gluesim.WorkflowRun{Start: wfStart, Duration: 50*time.Minute + jit(10),
		Status: gluesim.WorkflowCompleted, Actions: 4})

	// TROCCO: the master sync transfer, and the ads sources workflow that a
	// TROCCO schedule starts; its notification is the only way sekisho
	// hears of the job.
	w.Trocco.AddJob(TroccoJob, at(1, 0).Add(jit(10)), troccosim.Outcome{RunFor: 20*time.Minute + jit(10), Status: "succeeded"})
	srcStart, srcRun := at(2, 40).Add(jit(10)), 25*time.Minute+jit(10)
	srcJob := w.Trocco.StartWorkflowJob(TroccoAdsSources, srcStart, troccosim.Outcome{RunFor: srcRun, Status: "succeeded"})
	w.at(srcStart.Add(srcRun), "trocco", fmt.Sprintf("POST /api/v1/events/trocco (workflow %d, job %d succeeded)", TroccoAdsSources, srcJob), func(ctx context.Context) error {
		return w.post(ctx, "/api/v1/events/trocco", map[string]any{
			"pipeline_definition_id": TroccoAdsSources, "job_id": srcJob, "status": "succeeded"})
	})

	// What ads_daily's own workflow does when sekisho starts it today.
	loadOut := troccosim.Outcome{RunFor: 35*time.Minute + jit(10), Status: "succeeded"}
	if inc == DownstreamFailure {
		loadOut = troccosim.Outcome{RunFor: 15 * time.Minute, Status: "error"}
	}
	w.at(at(0, 5), "", "ads load outcome for "+date, func(context.Context) error {
		w.Trocco.DefineWorkflow(TroccoAdsLoad, loadOut)
		return nil
	})
	if inc == DownstreamFailure {
		w.at(at(7, 25), "", "ads load fixed for "+date, func(context.Context) error {
			w.Trocco.DefineWorkflow(TroccoAdsLoad, troccosim.Outcome{RunFor: 20 * time.Minute, Status: "succeeded"})
			return nil
		})
		// The on-call engineer takes the incident from Slack: 対応中, back
		// in an hour; the board shows the ETA until the rerun fixes it.
		ack := "ads_daily/" + date + "|1h0m0s"
		w.at(at(7, 5), "operator (Slack)", "対応中（1 時間後）on ads_daily's notice", func(ctx context.Context) error {
			return w.press(ctx, slacksim.Press{User: world.SlackOperator, UserName: "oncall", ActionID: "sekisho_ack", Value: ack})
		})
		w.at(at(7, 30), "operator", "POST /api/v1/runs/ads_daily/"+date+"/rerun (the workflow was fixed)", func(ctx context.Context) error {
			return w.post(ctx, "/api/v1/runs/ads_daily/"+date+"/rerun", nil)
		})
	}

	// Airflow: the legacy environment's export_done DAG runs on its own
	// schedule; the production DAGs run when sekisho triggers them.
	exportAt := at(1, 20).Add(jit(10))
	w.Legacy.AddRun(DagExportDone, "scheduled__"+exportAt.UTC().Format("2006-01-02T15:04:05+00:00"), exportAt,
		airflowsim.Plan{Outcome: "success", Duration: 15 * time.Minute})
	socrates := 55*time.Minute + jit(15)
	switch inc {
	case LateUpstream:
		socrates = 65*time.Minute + jit(5)
	case LongRunning:
		socrates = 2*time.Hour + 40*time.Minute + jit(10)
	}
	w.Composer.PlanRun(DagSocrates, sekisho.DagRunID("socrates_daily", date, 1), airflowsim.Plan{Outcome: "success", Duration: socrates})
	w.Composer.PlanRun(DagQuality, sekisho.DagRunID("kant_daily", date, 1), airflowsim.Plan{Outcome: "success", Duration: 25*time.Minute + jit(10)})
	w.Composer.PlanRun(DagReverseETL, sekisho.DagRunID("reverse_etl_daily", date, 1), airflowsim.Plan{Outcome: "success", Duration: 20*time.Minute + jit(10)})
	w.planHourly(date, inc, rng)
}

// press clicks an element of a Slack message as the on-call engineer:
// the Slack simulator posts the signed interaction to sekisho.
func (w *World) press(ctx context.Context, p slacksim.Press) error {
	w.mu.Lock()
	target := w.target
	w.mu.Unlock()
	p.Base = w.sims.URLs.Slack
	code, err := w.Slack.Press(ctx, w.client, target+"/slack/interactions", world.SlackSigningSecret, p)
	if err != nil {
		return err
	}
	if code != http.StatusOK {
		return fmt.Errorf("slack click: sekisho answered %d", code)
	}
	if rs := w.Slack.Responses(); len(rs) > 0 {
		return fmt.Errorf("slack click refused: %s", rs[len(rs)-1].Text)
	}
	return nil
}

// post sends a JSON request to sekisho with the bearer token, as TROCCO's
// notification or an operator's curl would.
func (w *World) post(ctx context.Context, path string, body any) error {
	w.mu.Lock()
	target, token := w.target, w.token
	w.mu.Unlock()
	if target == "" {
		return fmt.Errorf("post %s: the world is not connected to sekisho", path)
	}
	var rd io.Reader = http.NoBody
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := w.client.Do(req)
	if err != nil {
		return fmt.Errorf("post %s: %w", path, err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
	if resp.StatusCode >= 300 {
		return fmt.Errorf("post %s: %s: %s", path, resp.Status, bytes.TrimSpace(msg))
	}
	return nil
}

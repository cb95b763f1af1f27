package demo

import (
	"context"
	"math/rand/v2"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/sim/airflowsim"
	"github.com/sekisho-dev/sekisho/sim/gluesim"
)

// The hourly part of the world (SPEC §19): a Glue job loads the
// clickstream at about 40 past every hour; clickstream_hourly gates each
// hour's aggregate DAG on it, and clickstream_daily rolls the day's 24
// hours up into a mart from 22:00.
const (
	GlueClickstream  = "clickstream-hourly-load" // the hourly load, clickstream_hourly's upstream
	DagClickHourly   = "clickstream_hourly"      // the hour's aggregate, its downstream
	DagClickDaily    = "clickstream_daily"       // the daily mart, clickstream_daily's downstream
	HourlyPipeline   = "clickstream_hourly"      // the hourly pipeline
	RollUpPipeline   = "clickstream_daily"       // the daily pipeline that rolls it up
	HourlyFailedLoad = 12                        // on long-running days the 12:40 load fails: 13:00's run blocks
	HourlyFailedDAG  = 15                        // on downstream-failure days 15:00's aggregate fails
	HourlyRerunAt    = 22                        // and the operator reruns that hour at 22:15, after the mart opened blocked
)

// addHourly defines the hourly jobs and DAGs; NewWorld calls it.
func (w *World) addHourly() {
	w.Glue.AddJob(GlueClickstream)
	w.Composer.AddDAG(DagClickHourly, airflowsim.DAG{Duration: 4 * time.Minute})
	w.Composer.AddDAG(DagClickDaily, airflowsim.DAG{Duration: 20 * time.Minute})
}

// HourlyKey is the run key of clickstream_hourly's run at hour h of date.
func (w *World) HourlyKey(date string, h int) string {
	mid, _ := time.ParseInLocation(sekisho.DateLayout, date, w.Loc)
	return sekisho.RunKey(mid.Add(time.Duration(h)*time.Hour), w.Loc, true)
}

// planHourly scripts a day of the hourly pipeline: 24 loads, 24 aggregate
// runs and the mart. On long-running days the 12:40 load fails and the
// 13:00 run is blocked until someone reruns the load at 13:15; it then
// succeeds late (its interval misses the 45 minutes). On downstream-failure
// days the 15:00 aggregate fails, the mart opens at 22:00 blocked on that
// hour, and the operator reruns the hour at 22:15. Callers hold w.mu.
func (w *World) planHourly(date string, inc Incident, rng *rand.Rand) {
	mid, _ := time.ParseInLocation(sekisho.DateLayout, date, w.Loc)
	jit := func(maxMin int) time.Duration { return time.Duration(rng.IntN(maxMin+1)) * time.Minute }
	hour := func(h, m int) time.Time { return mid.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute) }
	for h := range 24 {
		load := gluesim.Run{Start: hour(h, 40).Add(jit(5)), Duration: 8*time.Minute + jit(6)}
		agg := airflowsim.Plan{Outcome: "success", Duration: 2*time.Minute + jit(3)}
		switch {
		case inc == LongRunning && h == HourlyFailedLoad:
			load = gluesim.Run{Start: hour(h, 40), Duration: 6 * time.Minute, Outcome: gluesim.Failed,
				Message: "An error occurred while calling o92.getDynamicFrame. Status Code: 503; Error Code: SlowDown (S3)"}
			w.Glue.PlanRun(GlueClickstream, gluesim.Run{Start: hour(h+1, 15), Duration: 20 * time.Minute, Trigger: "manual-rerun"})
		case inc == LongRunning && h == HourlyFailedLoad+1:
			agg.Duration = 15 * time.Minute // the late hour's aggregate ends past its 45 minutes
		case inc == DownstreamFailure && h == HourlyFailedDAG:
			agg = airflowsim.Plan{Outcome: "failed", Duration: 4 * time.Minute}
		}
		w.Glue.PlanRun(GlueClickstream, load)
		w.Composer.PlanRun(DagClickHourly, sekisho.DagRunID(HourlyPipeline, w.HourlyKey(date, h), 1), agg)
	}
	w.Composer.PlanRun(DagClickDaily, sekisho.DagRunID(RollUpPipeline, date, 1), airflowsim.Plan{Outcome: "success", Duration: 15*time.Minute + jit(10)})
	if inc == DownstreamFailure {
		key := w.HourlyKey(date, HourlyFailedDAG)
		w.at(hour(HourlyRerunAt, 15), "operator", "POST /api/v1/runs/"+HourlyPipeline+"/"+key+"/rerun (the aggregate was fixed)", func(ctx context.Context) error {
			return w.post(ctx, "/api/v1/runs/"+HourlyPipeline+"/"+key+"/rerun", nil)
		})
	}
}

// planHourBefore puts in the load of the hour before the script's first
// day, which that day's 00:00 run waits for. Callers hold w.mu.
func (w *World) planHourBefore(firstDay time.Time) {
	w.Glue.PlanRun(GlueClickstream, gluesim.Run{Start: firstDay.Add(-20 * time.Minute), Duration: 10 * time.Minute})
}

package storebench

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/store"
)

// HourlyConfig is n hourly pipelines (SPEC §19) in UTC, each on one Glue
// job and triggering one Airflow DAG, with slo.within 45m: the pipelines
// HourlyMonth writes the runs of.
func HourlyConfig(n int) *config.Config {
	cfg := &config.Config{Location: time.UTC, Timezone: "UTC"}
	for i := range n {
		cfg.Pipelines = append(cfg.Pipelines, &config.Pipeline{Name: fmt.Sprintf("h%04d", i), Schedule: "@hourly",
			Timezone: "UTC", Location: time.UTC, Timeout: 50 * time.Minute, Condition: "all",
			Upstreams: []config.Upstream{{Name: "load", Type: config.TypeGlueJob, JobName: fmt.Sprintf("load-%04d", i)}},
			Trigger:   &sekisho.TriggerSpec{Type: "airflow_dag", Connection: "composer", DagID: fmt.Sprintf("agg_%04d", i)},
			SLO:       &config.SLO{Within: 45 * time.Minute, Objective: 0.95}})
	}
	return config.Fill(cfg)
}

// Month is what HourlyMonth wrote.
type Month struct {
	From, To     string // the logical dates written, inclusive
	Runs         int
	Transitions  int
	Observations int
	Write        time.Duration // wall time of the writes
}

// Rows is every row written: runs, transitions and observations.
func (m Month) Rows() int { return m.Runs + m.Transitions + m.Observations }

// HourlyMonth writes days of cfg's hourly pipelines into st, from the
// midnight (UTC) of from, as the engine writes a usual hour: each hour's
// gates opened together (OpenGates, in the engine's batches of 128), the
// upstream's finished load recorded (RecordObservation), then triggered,
// running and succeeded (Apply), each row with the detail and the spec the
// engine stores. One run in 40 succeeds past its 45 minutes, so the report
// has late intervals to count.
func HourlyMonth(ctx context.Context, st *store.Store, cfg *config.Config, from time.Time, days int) (Month, error) {
	const batch = 128 // engine.gateBatch
	day0 := time.Date(from.Year(), from.Month(), from.Day(), 0, 0, 0, 0, time.UTC)
	m := Month{From: day0.Format(sekisho.DateLayout), To: day0.AddDate(0, 0, days-1).Format(sekisho.DateLayout)}
	start := time.Now()
	for h := range days * 24 {
		gate := day0.Add(time.Duration(h) * time.Hour)
		date := gate.Format(sekisho.DateLayout)
		var opened []sekisho.Run
		for i := 0; i < len(cfg.Pipelines); i += batch {
			var gates []store.Gate
			for _, p := range cfg.Pipelines[i:min(i+batch, len(cfg.Pipelines))] {
				gates = append(gates, store.Gate{Run: sekisho.Run{Pipeline: p.Name, LogicalDate: date, Key: p.RunKey(gate), GateAt: gate,
					TimeoutAt: gate.Add(p.Timeout), Deadline: p.Deadline(date, gate), RecoverBy: p.RecoverBy(date, gate),
					Spec: p.SpecFor(date, gate)}, Detail: map[string]any{"schedule": p.Schedule, "timezone": p.Timezone}})
			}
			runs, err := st.OpenGates(ctx, gates)
			if err != nil {
				return m, err
			}
			opened = append(opened, runs...)
		}
		m.Runs += len(opened)
		m.Transitions += len(opened)
		for i, r := range opened {
			p := cfg.Pipelines[i]
			sum := sha256.Sum256([]byte(r.Pipeline + r.Key))
			load := sekisho.Observation{Upstream: "load", Type: config.TypeGlueJob, State: sekisho.JobSucceeded,
				ExternalID: "jr_" + hex.EncodeToString(sum[:]), StartedAt: gate.Add(-20 * time.Minute),
				FinishedAt: gate.Add(-8 * time.Minute), ObservedAt: gate}
			wrote, err := st.RecordObservation(ctx, r.ID, 1, load)
			if err != nil {
				return m, err
			}
			if wrote {
				m.Observations++
			}
			id := sekisho.DagRunID(r.Pipeline, r.Key, 1)
			done := gate.Add(12 * time.Minute)
			if (h*len(opened)+i)%40 == 0 {
				done = gate.Add(55 * time.Minute)
			}
			steps := []struct {
				state  sekisho.State
				at     time.Time
				reason string
				detail map[string]any
			}{
				{sekisho.StateTriggered, gate.Add(time.Minute), sekisho.ReasonConditionMet, map[string]any{"external_id": id, "trigger": p.Trigger.Type}},
				{sekisho.StateRunning, gate.Add(2 * time.Minute), sekisho.ReasonDownstreamRunning, map[string]any{"external_id": id}},
				{sekisho.StateSucceeded, done, sekisho.ReasonDownstreamSuccess, map[string]any{"external_id": id}},
			}
			for _, s := range steps {
				next := r
				next.State, next.ExternalID, next.UpdatedAt = s.state, id, s.at
				switch s.state {
				case sekisho.StateTriggered:
					next.IntentAt, next.TriggeredAt = s.at, s.at
				case sekisho.StateRunning:
					next.StartedAt = s.at
				case sekisho.StateSucceeded:
					next.FinishedAt, next.FirstSuccessAt = s.at, s.at
				}
				if r, err = st.Apply(ctx, r, next, s.at, store.Step{Reason: s.reason, Detail: s.detail}); err != nil {
					return m, fmt.Errorf("storebench: %s %s → %s: %w", r.Pipeline, r.Key, s.state, err)
				}
				m.Transitions++
			}
		}
	}
	m.Write = time.Since(start)
	return m, nil
}

package engine

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/condition"
	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/policy/eta"
)

// summary renders a step as "event reason | patch | notice keys | effects".
func summary(st step) string {
	var p []string
	if !st.Patch.IntentAt.IsZero() {
		p = append(p, "intent="+st.Patch.IntentAt.In(tokyo).Format("15:04"))
	}
	if !st.Patch.TriggeredAt.IsZero() {
		p = append(p, "triggered="+st.Patch.TriggeredAt.In(tokyo).Format("15:04"))
	}
	if !st.Patch.StartedAt.IsZero() {
		p = append(p, "started="+st.Patch.StartedAt.In(tokyo).Format("15:04"))
	}
	if !st.Patch.EndedAt.IsZero() {
		p = append(p, "ended="+st.Patch.EndedAt.In(tokyo).Format("15:04"))
	}
	if st.Patch.ExternalID != nil {
		p = append(p, "ext="+*st.Patch.ExternalID)
	}
	if st.Patch.Message != nil {
		p = append(p, fmt.Sprintf("msg=%q", *st.Patch.Message))
	}
	var ns []string
	for _, n := range st.Notices {
		ns = append(ns, n.DedupeKey)
	}
	names := map[effectKind]string{effRecord: "record", effTrigger: "trigger", effFollow: "follow",
		effRetryLater: "retry_later", effFollowLater: "follow_later", effTriggered: "triggered", effAwaitLanding: "await_landing"}
	var es []string
	for _, e := range st.Effects {
		s := names[e.kind]
		if e.kind == effRecord {
			s += ":" + e.obs.Upstream
		}
		if e.kind == effAwaitLanding {
			s += "@" + e.at.In(tokyo).Format("15:04:05")
		}
		es = append(es, s)
	}
	ev := string(st.Event)
	if st.Recovery {
		ev += "+recovery"
	}
	return strings.Join([]string{strings.TrimSpace(ev + " " + st.Reason), strings.Join(p, " "),
		strings.Join(ns, " "), strings.Join(es, " ")}, " | ")
}

func TestDecide(t *testing.T) {
	gate := jst(1, 2, 0)
	base := sekisho.Run{ID: 7, Pipeline: "a", LogicalDate: "2026-11-01", Attempt: 1, State: sekisho.StateWaiting,
		GateAt: gate, TimeoutAt: gate.Add(6 * time.Hour), Deadline: jst(1, 6, 0)}
	up := func(state sekisho.JobState, ext string, start time.Time) obsView {
		return obsView{Observation: sekisho.Observation{Upstream: "x", Type: config.TypeGlueJob, State: state,
			ExternalID: ext, StartedAt: start, Message: "boom"}}
	}
	ups := func(v obsView) map[string]obsView { return map[string]obsView{"x": v} }
	ok := triggerInfo{configured: true, idempotent: true}
	late := &eta.Projection{At: jst(1, 6, 25), Cause: eta.Cause{Upstream: "export", Via: []string{"ingest"}}}
	onTime := &eta.Projection{At: jst(1, 5, 50)}
	anomaly := up(sekisho.JobSucceeded, "check@1", gate)
	anomaly.Reason, anomaly.Message = sekisho.ReasonDataAnomaly, "value 30 is outside the expected band 700–1,300"
	tests := []struct {
		name  string
		state sekisho.State
		edit  func(*sekisho.Run, *config.Pipeline)
		f     facts
		now   time.Time
		want  string
	}{
		{"gate only: condition met", "", func(_ *sekisho.Run, p *config.Pipeline) { p.Trigger = nil },
			facts{ups: ups(up(sekisho.JobSucceeded, "x1", gate))}, jst(1, 2, 30),
			"gate_only_met+recovery condition_met |  |  | record:x"},
		{"condition met: intent with the request", "", nil,
			facts{ups: ups(up(sekisho.JobSucceeded, "x1", gate)), trigger: ok}, jst(1, 2, 30),
			" | intent=02:30 |  | record:x trigger"},
		{"unchanged observation is not recorded again", "", nil,
			facts{ups: ups(up(sekisho.JobRunning, "x1", gate)), recorded: observations{up(sekisho.JobRunning, "x1", gate).Observation}}, jst(1, 2, 30),
			" |  |  | "},
		{"request under way", "", func(r *sekisho.Run, _ *config.Pipeline) { r.IntentAt = gate },
			facts{ups: ups(up(sekisho.JobSucceeded, "x1", gate)), trigger: ok, inflight: true}, jst(1, 2, 30),
			" |  |  | record:x"},
		{"retry not due", "", func(r *sekisho.Run, _ *config.Pipeline) { r.IntentAt = gate },
			facts{ups: ups(up(sekisho.JobSucceeded, "x1", gate)), trigger: ok, retry: retryState{at: jst(1, 2, 31), ours: true}}, jst(1, 2, 30),
			" |  |  | record:x"},
		{"intent from before a restart, not idempotent", "", func(r *sekisho.Run, _ *config.Pipeline) { r.IntentAt = gate },
			facts{ups: ups(up(sekisho.JobSucceeded, "x1", gate)), trigger: triggerInfo{configured: true}}, jst(1, 2, 30),
			"trigger_rejected trigger_outcome_unknown | msg=\"the daemon stopped while the trigger request was under way; check in airflow_dag whether the job started, then rerun or skip (or set trigger.retry_unknown: true)\" | trigger_unknown:7:1 | record:x"},
		{"intent from before a restart, not idempotent, its request may still land: wait", "", func(r *sekisho.Run, _ *config.Pipeline) { r.IntentAt = jst(1, 2, 30).Add(-10 * time.Second) },
			facts{ups: ups(up(sekisho.JobSucceeded, "x1", gate)), trigger: triggerInfo{configured: true, landsWithin: 30 * time.Second}}, jst(1, 2, 30),
			" | msg=\"the daemon stopped while the trigger request was under way; until 2026-10-31T17:30:20Z it may still reach airflow_dag, then its outcome is called unknown\" |  | record:x await_landing@02:30:20"},
		{"waiting for a request to land, message written already", "", func(r *sekisho.Run, _ *config.Pipeline) {
			r.IntentAt = jst(1, 2, 30).Add(-10 * time.Second)
			r.Message = "the daemon stopped while the trigger request was under way; until 2026-10-31T17:30:20Z it may still reach airflow_dag, then its outcome is called unknown"
		},
			facts{ups: ups(up(sekisho.JobSucceeded, "x1", gate)), trigger: triggerInfo{configured: true, landsWithin: 30 * time.Second}}, jst(1, 2, 30),
			" |  |  | record:x await_landing@02:30:20"},
		{"intent from before a restart, not idempotent, its request had time to land", "", func(r *sekisho.Run, _ *config.Pipeline) { r.IntentAt = jst(1, 2, 30).Add(-30 * time.Second) },
			facts{ups: ups(up(sekisho.JobSucceeded, "x1", gate)), trigger: triggerInfo{configured: true, landsWithin: 30 * time.Second}}, jst(1, 2, 30),
			"trigger_rejected trigger_outcome_unknown | msg=\"the daemon stopped while the trigger request was under way; check in airflow_dag whether the job started, then rerun or skip (or set trigger.retry_unknown: true)\" | trigger_unknown:7:1 | record:x"},
		{"intent from before a restart, idempotent: send again", "", func(r *sekisho.Run, _ *config.Pipeline) { r.IntentAt = gate },
			facts{ups: ups(up(sekisho.JobSucceeded, "x1", gate)), trigger: ok}, jst(1, 2, 30),
			" |  |  | record:x trigger"},
		{"no trigger connection", "", nil,
			facts{ups: ups(up(sekisho.JobSucceeded, "x1", gate))}, jst(1, 2, 30),
			"trigger_rejected trigger_rejected | msg=\"no airflow_dag trigger is configured (check connections)\" | trigger_failed:7:1 | record:x"},
		{"upstream failed: blocked", "", nil,
			facts{ups: ups(up(sekisho.JobFailed, "x1", gate))}, jst(1, 2, 30),
			"upstream_failed upstream_failed | msg=\"upstream x failed (x1): boom\" | upstream_failed:7:x:x1 | record:x"},
		{"upstream failed, notice queued already", "", nil,
			facts{ups: ups(up(sekisho.JobFailed, "x1", gate)), queued: map[string]bool{"upstream_failed:7:x:x1": true}}, jst(1, 2, 30),
			"upstream_failed upstream_failed | msg=\"upstream x failed (x1): boom\" |  | record:x"},
		{"blocked, a second failed run", sekisho.StateBlocked, nil,
			facts{ups: ups(up(sekisho.JobFailed, "x2", gate))}, jst(1, 2, 30),
			" |  | upstream_failed:7:x:x2 | record:x"},
		{"blocked, upstream rerun", sekisho.StateBlocked, nil,
			facts{ups: ups(up(sekisho.JobRunning, "x2", gate))}, jst(1, 2, 30),
			"upstream_recovered upstream_recovered | msg=\"\" |  | record:x"},
		{"blocked, upstream succeeded", sekisho.StateBlocked, nil,
			facts{ups: ups(up(sekisho.JobSucceeded, "x2", gate)), trigger: ok}, jst(1, 2, 30),
			"upstream_recovered upstream_recovered |  |  | record:x"},
		{"timeout after the deadline", "", nil,
			facts{ups: ups(up(sekisho.JobPending, "", time.Time{})), queued: map[string]bool{"delay:7": true}}, jst(1, 8, 0),
			"timeout timeout | msg=\"the condition did not hold before the timeout\" | timed_out:7 | record:x"},
		{"deadline passes", "", nil,
			facts{ups: ups(up(sekisho.JobPending, "", time.Time{}))}, jst(1, 6, 0),
			" |  | delay:7 | record:x"},
		{"at risk: the projection passes the deadline", "", nil,
			facts{ups: ups(up(sekisho.JobRunning, "x1", gate)), eta: late}, jst(1, 4, 1),
			" |  | at_risk:7 | record:x"},
		{"not at risk: the projection fits", "", nil,
			facts{ups: ups(up(sekisho.JobRunning, "x1", gate)), eta: onTime}, jst(1, 4, 1),
			" |  |  | record:x"},
		{"at risk sent already", "", nil,
			facts{ups: ups(up(sekisho.JobRunning, "x1", gate)), eta: late, queued: map[string]bool{"at_risk:7": true}}, jst(1, 4, 1),
			" |  |  | record:x"},
		{"past the deadline it is a delay, not a risk", "", nil,
			facts{ups: ups(up(sekisho.JobRunning, "x1", gate)), eta: late}, jst(1, 6, 1),
			" |  | delay:7 | record:x"},
		{"warn: a data anomaly opens the gate with its notice", "", func(_ *sekisho.Run, p *config.Pipeline) { p.Trigger = nil },
			facts{ups: ups(anomaly)}, jst(1, 2, 30),
			"gate_only_met+recovery condition_met |  | data_anomaly:7:x | record:x"},
		{"warn: the anomaly is noticed once", "", func(_ *sekisho.Run, p *config.Pipeline) { p.Trigger = nil },
			facts{ups: ups(anomaly), queued: map[string]bool{"data_anomaly:7:x": true}}, jst(1, 2, 30),
			"gate_only_met+recovery condition_met |  |  | record:x"},
		{"upstream runs too long", "", func(_ *sekisho.Run, p *config.Pipeline) { p.MaxDuration = time.Hour },
			facts{ups: ups(up(sekisho.JobRunning, "x1", jst(1, 1, 0)))}, jst(1, 2, 30),
			" |  | long_running:7:1:x:x1 | record:x"},
		{"follow-up due", sekisho.StateTriggered, nil, facts{trigger: ok}, jst(1, 2, 30), " |  |  | follow"},
		{"follow-up not due", sekisho.StateRunning, nil, facts{trigger: ok, followAt: jst(1, 2, 31)}, jst(1, 2, 30), " |  |  | "},
		{"trigger accepted", "", nil,
			facts{answer: &answer{run: sekisho.JobRun{ExternalID: "dr1"}}, trigger: ok}, jst(1, 2, 30),
			"trigger_accepted condition_met | triggered=02:30 ext=dr1 msg=\"\" |  | triggered"},
		// The downstream accepted at 02:28; the loop took the answer up
		// at 02:30: the run was triggered when it was accepted.
		{"trigger accepted, answer taken up later", "", nil,
			facts{answer: &answer{run: sekisho.JobRun{ExternalID: "dr1"}, at: jst(1, 2, 28)}, trigger: ok}, jst(1, 2, 30),
			"trigger_accepted condition_met | triggered=02:28 ext=dr1 msg=\"\" |  | triggered"},
		{"trigger accepted, an answer time after now is not believed", "", nil,
			facts{answer: &answer{run: sekisho.JobRun{ExternalID: "dr1"}, at: jst(1, 2, 31)}, trigger: ok}, jst(1, 2, 30),
			"trigger_accepted condition_met | triggered=02:30 ext=dr1 msg=\"\" |  | triggered"},
		{"trigger paused", "", nil,
			facts{answer: &answer{err: fmt.Errorf("paused: %w", sekisho.ErrPaused)}, trigger: ok}, jst(1, 2, 30),
			"trigger_rejected dag_paused | msg=\"paused: dag is paused\" | trigger_failed:7:1 | "},
		{"trigger answered: another run holds the logical date", "", func(r *sekisho.Run, _ *config.Pipeline) { r.IntentAt = gate },
			facts{answer: &answer{err: fmt.Errorf("held by DAG run manual__x: %w", sekisho.ErrLogicalDateTaken)}, trigger: ok}, jst(1, 2, 30),
			"trigger_rejected logical_date_taken | msg=\"held by DAG run manual__x: logical date taken\" | trigger_failed:7:1 | "},
		{"trigger failed transiently", "", nil,
			facts{answer: &answer{err: errors.New("503")}, trigger: ok}, jst(1, 2, 30),
			" | msg=\"trigger retrying: 503\" |  | retry_later"},
		{"trigger failed, outcome unknown", "", nil,
			facts{answer: &answer{err: errors.New("reset")}, trigger: triggerInfo{configured: true}}, jst(1, 2, 30),
			"trigger_rejected trigger_outcome_unknown | msg=\"the trigger request failed and its outcome is unknown: reset; check whether the job started, then rerun or skip\" | trigger_unknown:7:1 | "},
		{"trigger answer after an operator skip", sekisho.StateSkipped, nil,
			facts{answer: &answer{run: sekisho.JobRun{ExternalID: "dr1"}}, trigger: ok}, jst(1, 2, 30), " |  |  | "},
		{"downstream started", sekisho.StateTriggered, nil,
			facts{answer: &answer{status: true, run: sekisho.JobRun{State: sekisho.JobRunning, StartedAt: jst(1, 2, 31)}}}, jst(1, 2, 30),
			"downstream_running dag_run_running | started=02:30 |  | follow_later"},
		{"downstream succeeded", sekisho.StateRunning, nil,
			facts{answer: &answer{status: true, run: sekisho.JobRun{State: sekisho.JobSucceeded, FinishedAt: jst(1, 3, 10)}}}, jst(1, 3, 15),
			"downstream_success+recovery dag_run_success | ended=03:10 msg=\"\" |  | follow_later"},
		{"downstream failed", sekisho.StateRunning, func(r *sekisho.Run, _ *config.Pipeline) { r.ExternalID = "dr1" },
			facts{answer: &answer{status: true, run: sekisho.JobRun{State: sekisho.JobFailed}}}, jst(1, 3, 15),
			"downstream_failed dag_run_failed | ended=03:15 msg=\"the downstream run dr1 failed\" | run_failed:7:1 | follow_later"},
		{"downstream runs too long", sekisho.StateRunning, func(r *sekisho.Run, p *config.Pipeline) { r.StartedAt = gate; p.MaxDuration = time.Hour },
			facts{answer: &answer{status: true, run: sekisho.JobRun{State: sekisho.JobRunning}}}, jst(1, 3, 15),
			" |  | long_running:7:1 | follow_later"},
		{"status check failed", sekisho.StateRunning, nil,
			facts{answer: &answer{status: true, err: errors.New("timeout")}}, jst(1, 3, 15), " |  |  | follow_later"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := base
			if tt.state != "" {
				r.State = tt.state
			}
			p := pipeline("a", "0 2 * * *", []config.Upstream{glueUp("x", "x")}, dagTrigger)
			if tt.edit != nil {
				tt.edit(&r, p)
			}
			cond, err := condition.Parse(p.Condition, p.UpstreamNames())
			if err != nil {
				t.Fatal(err)
			}
			if got := summary(decide(r, p, cond, tt.f, tt.now)); got != tt.want {
				t.Errorf("decide =\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

// TestNextRunOwnsTheTimes: FinishedAt is set when a run reaches a final
// state, from the reported end when there is one; FirstSuccessAt once.
func TestNextRunOwnsTheTimes(t *testing.T) {
	now, ended, first := jst(1, 3, 0), jst(1, 2, 50), jst(1, 1, 0)
	tests := []struct {
		name               string
		from, to           sekisho.State
		p                  patch
		firstBefore        time.Time
		finished, firstSuc time.Time
	}{
		{"stays open", sekisho.StateWaiting, sekisho.StateBlocked, patch{}, time.Time{}, time.Time{}, time.Time{}},
		{"fails now", sekisho.StateWaiting, sekisho.StateFailed, patch{}, time.Time{}, now, time.Time{}},
		{"succeeds at the reported end", sekisho.StateRunning, sekisho.StateSucceeded, patch{EndedAt: ended}, time.Time{}, ended, ended},
		{"a second success keeps the first", sekisho.StateRunning, sekisho.StateSucceeded, patch{}, first, now, first},
		{"skipped after a failure", sekisho.StateFailed, sekisho.StateSkipped, patch{}, time.Time{}, now, time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := nextRun(sekisho.Run{State: tt.from, FirstSuccessAt: tt.firstBefore}, tt.p, tt.to, now)
			if got.State != tt.to || !got.FinishedAt.Equal(tt.finished) || !got.FirstSuccessAt.Equal(tt.firstSuc) {
				t.Errorf("nextRun = %s finished %v first success %v, want %s %v %v", got.State, got.FinishedAt, got.FirstSuccessAt,
					tt.to, tt.finished, tt.firstSuc)
			}
		})
	}
}

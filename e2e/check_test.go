package e2e

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/sim/airflowsim"
	"github.com/sekisho-dev/sekisho/sim/slacksim"
	"github.com/sekisho-dev/sekisho/sim/troccosim"
	"github.com/sekisho-dev/sekisho/tracing"
)

var t0 = time.Date(2026, 3, 1, 2, 0, 0, 0, time.UTC)

func tr(attempt int, from, to sekisho.State, sec int, reason string, ext string) sekisho.Transition {
	t := sekisho.Transition{Attempt: attempt, From: from, To: to, At: t0.Add(time.Duration(sec) * time.Second), Reason: reason}
	if ext != "" {
		t.Detail = map[string]any{"external_id": ext}
	}
	return t
}

// history of pipeline p: attempt 1 triggered and succeeded, attempt 2 too.
func twoAttempts(p, ext1, ext2 string) History {
	return History{Run: sekisho.Run{Pipeline: p, LogicalDate: "2026-03-01", Key: "2026-03-01", Attempt: 2, State: sekisho.StateSucceeded},
		Transitions: []sekisho.Transition{
			tr(1, "", sekisho.StateWaiting, 0, "gate_opened", ""),
			tr(1, sekisho.StateWaiting, sekisho.StateTriggered, 1, "condition_met", ext1),
			tr(1, sekisho.StateTriggered, sekisho.StateRunning, 2, "dag_run_running", ""),
			tr(1, sekisho.StateRunning, sekisho.StateSucceeded, 3, "dag_run_success", ""),
			tr(2, sekisho.StateSucceeded, sekisho.StateWaiting, 10, "operator_rerun", ""),
			tr(2, sekisho.StateWaiting, sekisho.StateTriggered, 11, "condition_met", ext2),
			tr(2, sekisho.StateTriggered, sekisho.StateRunning, 12, "dag_run_running", ""),
			tr(2, sekisho.StateRunning, sekisho.StateSucceeded, 13, "dag_run_success", ""),
		}}
}

func TestCheckersCatchViolations(t *testing.T) {
	id1, id2 := sekisho.DagRunID("p", "2026-03-01", 1), sekisho.DagRunID("p", "2026-03-01", 2)
	dagOf := map[string]string{"p": "d"}
	ok := []airflowsim.TriggerRecord{{DagRunID: id1, Status: 200}, {DagRunID: id1, Status: 409}, {DagRunID: id2, Status: 200}}
	jobs := func(js ...troccosim.PipelineJob) func(int64) []troccosim.PipelineJob {
		return func(int64) []troccosim.PipelineJob { return js }
	}
	job := func(id int64, sec int) troccosim.PipelineJob {
		return troccosim.PipelineJob{ID: id, Start: t0.Add(time.Duration(sec) * time.Second)}
	}
	// clears is n clears of attempt 1's run in attempt 2's window (from 10 s).
	clears := func(n int) []airflowsim.ClearRecord {
		out := []airflowsim.ClearRecord{{DagRunID: id1, At: t0.Add(5 * time.Second), Status: 200}} // a dry run
		for i := range n {
			out = append(out, airflowsim.ClearRecord{DagRunID: id1, At: t0.Add(time.Duration(10+i) * time.Second), Status: 200, Cleared: true})
		}
		return out
	}
	// sent is a job posted by attempt n of p at sec, as sekisho posts it:
	// with the attempt's traceparent.
	sent := func(id int64, sec, n int) troccosim.PipelineJob {
		j := job(id, sec)
		j.Sender.Traceparent = tracing.Traceparent("p", "2026-03-01", n)
		return j
	}
	// unknownFirst: attempt 1 died between intent and answer (unknown),
	// attempt 2 was rerun at second 10 and recorded job 8.
	unknownFirst := History{Run: sekisho.Run{Pipeline: "p", LogicalDate: "2026-03-01", Key: "2026-03-01", Attempt: 2, State: sekisho.StateSucceeded},
		Transitions: []sekisho.Transition{
			tr(1, "", sekisho.StateWaiting, 0, "gate_opened", ""),
			tr(1, sekisho.StateWaiting, sekisho.StateFailed, 2, sekisho.ReasonTriggerUnknown, ""),
			tr(2, sekisho.StateFailed, sekisho.StateWaiting, 10, "operator_rerun", ""),
			tr(2, sekisho.StateWaiting, sekisho.StateTriggered, 11, "condition_met", "8"),
			tr(2, sekisho.StateTriggered, sekisho.StateRunning, 12, "dag_run_running", ""),
			tr(2, sekisho.StateRunning, sekisho.StateSucceeded, 13, "dag_run_success", ""),
		}}
	skipped := twoAttempts("p", id1, id2)
	// triggered -> running lost: the history jumps from triggered to succeeded.
	skipped.Transitions = append(skipped.Transitions[:2:2], skipped.Transitions[3:]...)
	tests := []struct {
		name string
		bad  []string
		want int
	}{
		{"airflow clean", CheckAirflowOnce([]History{twoAttempts("p", id1, id2)}, ok, nil, dagOf), 0},
		{"airflow created twice", CheckAirflowOnce([]History{twoAttempts("p", id1, id2)}, append(ok, airflowsim.TriggerRecord{DagRunID: id2, Status: 200}), nil, dagOf), 1},
		{"airflow run nobody asked for", CheckAirflowOnce([]History{twoAttempts("p", id1, id2)}, append(ok, airflowsim.TriggerRecord{DagRunID: "sekisho__p__2026-03-01__3", Status: 200}), nil, dagOf), 1},
		{"airflow triggered but never created", CheckAirflowOnce([]History{twoAttempts("p", id1, id2)}, ok[:2], nil, dagOf), 1},
		{"airflow rerun clears once", CheckAirflowOnce([]History{twoAttempts("p", id1, id1)}, ok[:2], clears(1), dagOf), 0},
		{"airflow rerun cleared twice", CheckAirflowOnce([]History{twoAttempts("p", id1, id1)}, ok[:2], clears(2), dagOf), 1},
		{"airflow rerun follows without clearing", CheckAirflowOnce([]History{twoAttempts("p", id1, id1)}, ok[:2], clears(0), dagOf), 1},
		{"trocco clean", CheckTroccoOnce([]History{twoAttempts("p", "7", "8")}, jobs(job(7, 1), job(8, 11)), map[string]int64{"p": 1}), 0},
		{"trocco two jobs in one attempt", CheckTroccoOnce([]History{twoAttempts("p", "7", "8")}, jobs(job(7, 1), job(9, 2), job(8, 11)), map[string]int64{"p": 1}), 1},
		{"trocco job of no attempt", CheckTroccoOnce([]History{twoAttempts("p", "7", "8")}, jobs(job(6, -5), job(7, 1), job(8, 11)), map[string]int64{"p": 1}), 1},
		{"trocco by sender clean", CheckTroccoOnce([]History{twoAttempts("p", "7", "8")}, jobs(sent(7, 1, 1), sent(8, 11, 2)), map[string]int64{"p": 1}), 0},
		{"trocco two posts of one attempt, by sender", CheckTroccoOnce([]History{twoAttempts("p", "7", "8")}, jobs(sent(7, 1, 1), sent(8, 11, 2), sent(9, 12, 2)), map[string]int64{"p": 1}), 1},
		{"trocco second post of an attempt after the rerun", CheckTroccoOnce([]History{twoAttempts("p", "7", "8")}, jobs(sent(7, 1, 1), sent(9, 10, 1), sent(8, 11, 2)), map[string]int64{"p": 1}), 2},
		{"trocco unknown attempt's job landed before the rerun", CheckTroccoOnce([]History{unknownFirst}, jobs(sent(5, 1, 1), sent(8, 11, 2)), map[string]int64{"p": 1}), 0},
		{"trocco unknown attempt's job landed after the rerun began", CheckTroccoOnce([]History{unknownFirst}, jobs(sent(8, 11, 2), sent(9, 12, 1)), map[string]int64{"p": 1}), 1},
		{"path clean", CheckPaths([]History{twoAttempts("p", id1, id2)}), 0},
		{"path with a lost transition", CheckPaths([]History{skipped}), 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if len(tc.bad) != tc.want {
				t.Errorf("got %d problems, want %d: %q", len(tc.bad), tc.want, tc.bad)
			}
		})
	}
}

// TestCheckersOnSubDailyRuns: two hours of one date are two runs, each
// with its own DAG runs, clears and TROCCO jobs; the checkers tell them
// apart by key (SPEC §19) and still catch a DAG run created twice.
func TestCheckersOnSubDailyRuns(t *testing.T) {
	hour := func(key string, attempts int, ext ...string) History {
		h := twoAttempts("h", ext[0], ext[len(ext)-1])
		h.Run.Key, h.Run.Attempt = key, attempts
		if attempts == 1 {
			h.Transitions = h.Transitions[:4]
		}
		return h
	}
	const k13, k14 = "2026-03-01T13:00", "2026-03-01T14:00"
	a13, a14 := sekisho.DagRunID("h", k13, 1), sekisho.DagRunID("h", k14, 1)
	// 13:00 was rerun: attempt 2 cleared attempt 1's DAG run (it holds the
	// logical date) and follows it; 14:00 ran once.
	airflow := []History{hour(k13, 2, a13, a13), hour(k14, 1, a14)}
	created := []airflowsim.TriggerRecord{{DagRunID: a13, Status: 200}, {DagRunID: a14, Status: 200}}
	cleared := []airflowsim.ClearRecord{{DagRunID: a13, At: t0.Add(10 * time.Second), Status: 200, Cleared: true}}
	dagOf := map[string]string{"h": "d"}
	sent := func(id int64, key string, sec, n int) troccosim.PipelineJob {
		j := troccosim.PipelineJob{ID: id, Start: t0.Add(time.Duration(sec) * time.Second)}
		j.Sender.Traceparent = tracing.Traceparent("h", key, n)
		return j
	}
	trocco := []History{hour(k13, 1, "7"), hour(k14, 1, "8")}
	jobs := func(js ...troccosim.PipelineJob) func(int64) []troccosim.PipelineJob {
		return func(int64) []troccosim.PipelineJob { return js }
	}
	tests := []struct {
		name string
		bad  []string
		want int
	}{
		{"airflow clean", CheckAirflowOnce(airflow, created, cleared, dagOf), 0},
		{"airflow hour created twice", CheckAirflowOnce(airflow, append(created, airflowsim.TriggerRecord{DagRunID: a14, Status: 200}), cleared, dagOf), 1},
		{"trocco clean", CheckTroccoOnce(trocco, jobs(sent(7, k13, 1, 1), sent(8, k14, 1, 1)), map[string]int64{"h": 1}), 0},
		{"trocco hour posted twice", CheckTroccoOnce(trocco, jobs(sent(7, k13, 1, 1), sent(8, k14, 1, 1), sent(9, k14, 2, 1)), map[string]int64{"h": 1}), 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if len(tc.bad) != tc.want {
				t.Errorf("got %d problems, want %d: %q", len(tc.bad), tc.want, tc.bad)
			}
		})
	}
}

func TestCheckNoticesOnce(t *testing.T) {
	msg := func(key string) slacksim.Message {
		b, _ := json.Marshal([]map[string]any{{"type": "section", "block_id": markerPrefix + key}})
		return slacksim.Message{Blocks: b}
	}
	sent := []sekisho.Notice{{DedupeKey: "a", SentAt: t0}, {DedupeKey: "b", SentAt: t0}}
	tests := []struct {
		name string
		ns   []sekisho.Notice
		msgs []slacksim.Message
		want int
	}{
		{"once each", sent, []slacksim.Message{msg("a"), msg("b")}, 0},
		{"posted twice", sent, []slacksim.Message{msg("a"), msg("b"), msg("b")}, 1},
		{"lost", sent, []slacksim.Message{msg("a")}, 1},
		{"never sent", []sekisho.Notice{{DedupeKey: "a", SentAt: t0}, {DedupeKey: "c"}}, []slacksim.Message{msg("a")}, 1},
		{"unknown message", sent, []slacksim.Message{msg("a"), msg("b"), msg("z")}, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if bad := CheckNoticesOnce(tc.ns, tc.msgs); len(bad) != tc.want {
				t.Errorf("got %d problems, want %d: %q", len(bad), tc.want, bad)
			}
		})
	}
}

func TestCheckNoticeKeys(t *testing.T) {
	ok := []sekisho.Notice{
		{Kind: sekisho.NoticeDelay, DedupeKey: "delay:7"},
		{Kind: sekisho.NoticeUpstreamFailed, DedupeKey: "upstream_failed:7:export:scheduled__2026-03-01T00:00:00+00:00"},
		{Kind: sekisho.NoticeIncidentUpdated, DedupeKey: "incident_joined:job:glue_job:x#jr_1:mart_a:2026-03-01"},
		{Kind: sekisho.NoticeIncidentResolved, DedupeKey: "incident_resolved:run:p#2026-03-01:2026-03-01T04:10:00.000Z"},
	}
	tests := []struct {
		name string
		ns   []sekisho.Notice
		want int
	}{
		{"built by NoticeKey", ok, 0},
		{"built by hand", append(ok, sekisho.Notice{Kind: sekisho.NoticeDelay, DedupeKey: "delay:p:2026-03-01"}), 1},
		{"a resolution keyed by a local time", append(ok, sekisho.Notice{Kind: sekisho.NoticeIncidentResolved,
			DedupeKey: "incident_resolved:run:p#2026-03-01:2026-03-01T13:10:00+09:00"}), 1},
		{"another kind's key", append(ok, sekisho.Notice{Kind: sekisho.NoticeAtRisk, DedupeKey: "delay:8"}), 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if bad := CheckNoticeKeys(tc.ns); len(bad) != tc.want {
				t.Errorf("got %d problems, want %d: %q", len(bad), tc.want, bad)
			}
		})
	}
}

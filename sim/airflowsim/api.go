package airflowsim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// timeLayout is how Airflow writes times: microseconds and a +00:00 offset.
const timeLayout = "2006-01-02T15:04:05.000000+00:00"

func ts(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format(timeLayout)
}

func (s *Server) getDag(version, dagID string) answer {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.dags[dagID]
	if !ok {
		return dagNotFound(version, dagID)
	}
	return jsonAnswer(http.StatusOK, dagJSON(version, d))
}

func (s *Server) patchDag(version, dagID string, body []byte) answer {
	var in struct {
		IsPaused *bool `json:"is_paused"`
	}
	if err := json.Unmarshal(body, &in); err != nil || in.IsPaused == nil {
		return problem(version, http.StatusBadRequest, "Bad Request", "is_paused is required")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.dags[dagID]
	if !ok {
		return dagNotFound(version, dagID)
	}
	s.setPaused(d, *in.IsPaused)
	return jsonAnswer(http.StatusOK, dagJSON(version, d))
}

func dagJSON(version string, d *dag) map[string]any {
	m := map[string]any{"dag_id": d.id, "dag_display_name": d.id, "is_paused": d.paused,
		"fileloc": "/home/airflow/gcs/dags/" + d.id + ".py", "file_token": "Ii9ob21lL2FpcmZsb3cvZ2NzL2RhZ3Mi",
		"owners": []string{"airflow"}, "description": nil, "has_import_errors": false,
		"has_task_concurrency_limits": false, "max_active_tasks": 16}
	if version == "v1" {
		m["is_active"] = true
		m["is_subdag"] = false
		return m
	}
	m["is_stale"] = false
	m["timetable_partitioned"] = false
	m["tags"] = []any{}
	m["max_consecutive_failed_dag_runs"] = 0
	return m
}

func dagNotFound(version, dagID string) answer {
	if version == "v2" {
		return problem(version, http.StatusNotFound, "", fmt.Sprintf("The Dag with ID: `%s` was not found", dagID))
	}
	return problem(version, http.StatusNotFound, "DAG not found", fmt.Sprintf("DAG with dag_id: '%s' not found", dagID))
}

func (s *Server) triggerDagRun(version, dagID string, body []byte) answer {
	var in struct {
		DagRunID    *string        `json:"dag_run_id"`
		Conf        map[string]any `json:"conf"`
		Note        *string        `json:"note"`
		LogicalDate *string        `json:"logical_date"`
		Execution   *string        `json:"execution_date"`
		Start       *string        `json:"data_interval_start"`
		End         *string        `json:"data_interval_end"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		return problem(version, http.StatusBadRequest, "Bad Request", err.Error())
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	rec := TriggerRecord{Version: version, DagID: dagID, At: now, Conf: in.Conf}
	if in.Note != nil {
		rec.Note = *in.Note
	}
	if in.DagRunID != nil {
		rec.DagRunID = *in.DagRunID
	}
	result := func(a answer) answer {
		rec.Status = a.status
		s.triggers = append(s.triggers, rec)
		return a
	}
	d, ok := s.dags[dagID]
	if !ok {
		return result(dagNotFound(version, dagID))
	}
	s.advance(d)
	var times [3]time.Time // logical date, interval start, interval end
	for i, v := range []*string{in.LogicalDate, in.Execution, in.Start, in.End} {
		if v != nil {
			t, err := time.Parse(time.RFC3339Nano, *v)
			if err != nil {
				return result(problem(version, http.StatusBadRequest, "Bad Request", "logical_date: "+err.Error()))
			}
			times[max(i-1, 0)] = t.UTC()
		}
	}
	logical, start, end := times[0], times[1], times[2]
	if start.IsZero() != end.IsZero() {
		if version == "v2" {
			// TriggerDAGRunPostBody.check_data_intervals
			return result(jsonAnswer(http.StatusUnprocessableEntity, map[string]any{"detail": []map[string]any{{
				"type": "value_error", "loc": []any{"body"},
				"msg": "Value error, Either both data_interval_start and data_interval_end must be provided or both must be None"}}}))
		}
		start, end = time.Time{}, time.Time{} // Airflow 2 uses them only together
	}
	if logical.IsZero() && version == "v1" {
		logical = now // Airflow 2 takes the trigger time as the logical date
	}
	if logical.IsZero() {
		start, end = time.Time{}, time.Time{} // Airflow 3: no logical date, no interval
	} else if start.IsZero() {
		start, end = logical, logical // an unscheduled DAG's manual interval: exactly the logical date
	}
	runID := rec.DagRunID
	if runID == "" {
		runID = "manual__" + now.Format(timeLayout)
		rec.DagRunID = runID
	}
	// One run per dag_run_id, and one per (dag_id, logical_date): Airflow 2
	// checks both before creating, Airflow 3 has the unique constraint
	// again (apache/airflow#46295).
	for _, r := range d.runs {
		sameDate := !logical.IsZero() && r.LogicalDate.Equal(logical)
		if r.DagRunID != runID && !sameDate {
			continue
		}
		var msg string
		switch {
		case version == "v1" && sameDate:
			msg = fmt.Sprintf("DAGRun with DAG ID: '%s' and DAGRun logical date: '%s' already exists",
				dagID, logical.Format("2006-01-02 15:04:05+00:00"))
		case version == "v1":
			msg = fmt.Sprintf("DAGRun with DAG ID: '%s' and DAGRun ID: '%s' already exists", dagID, runID)
		case sameDate:
			msg = fmt.Sprintf("A DAG Run already exists for DAG %s with logical date %s", dagID, logical.Format(time.RFC3339))
		default:
			msg = fmt.Sprintf("A DAG Run already exists for DAG %s with run id %s", dagID, runID)
		}
		return result(problem(version, http.StatusConflict, "Conflict", msg))
	}
	r := s.newRun(d, runID, now, Plan{})
	r.Version = version
	r.LogicalDate = logical
	if in.Conf != nil {
		r.Conf = in.Conf
	}
	r.Note = rec.Note
	r.DataIntervalStart, r.DataIntervalEnd = start, end
	if d.spec.NeedsDS && logical.IsZero() {
		r.outcome, r.Failure = "failed", "KeyError: 'ds' (the run has no logical date)"
	}
	// Airflow answers before its scheduler sees the run: always queued.
	return result(jsonAnswer(http.StatusOK, runJSON(version, d, r)))
}

// clearDagRun clears every task of a run, as POST …/clear with dry_run
// false does: a finished run is queued again (start and end dates null,
// queued_at now, clear_number + 1) and runs as PlanClear says; a run not
// finished is left as it is. dry_run defaults to true, as in both
// documents (Airflow 2's handler defaults it to false; a careful client
// sends it).
func (s *Server) clearDagRun(version, dagID, runID string, body []byte) answer {
	var in struct {
		DryRun *bool `json:"dry_run"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		return problem(version, http.StatusBadRequest, "Bad Request", err.Error())
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	rec := ClearRecord{Version: version, DagID: dagID, DagRunID: runID, At: now}
	done := func(a answer) answer {
		rec.Status = a.status
		s.clears = append(s.clears, rec)
		return a
	}
	d, ok := s.dags[dagID]
	if !ok {
		return done(dagNotFound(version, dagID))
	}
	s.advance(d)
	r := s.visibleRun(d, runID)
	if r == nil {
		return done(s.runNotFound(version, dagID, runID))
	}
	if in.DryRun == nil || *in.DryRun {
		return done(jsonAnswer(http.StatusOK, map[string]any{"task_instances": []any{}, "total_entries": 0}))
	}
	if r.State == "success" || r.State == "failed" {
		p := s.clearPlan[dagID+"\x00"+runID]
		if p.Outcome == "" {
			p.Outcome = d.spec.Outcome
		}
		if p.Outcome == "" {
			p.Outcome = "success"
		}
		if p.Duration == 0 {
			p.Duration = r.duration
		}
		r.Tries = append(r.Tries, Try{State: r.State, StartDate: r.StartDate, EndDate: r.EndDate})
		r.State, r.StartDate, r.EndDate, r.QueuedAt = "queued", time.Time{}, time.Time{}, now
		r.readyAt, r.duration, r.outcome, r.Failure = now.Add(p.QueueDelay), p.Duration, p.Outcome, ""
		if d.spec.NeedsDS && r.LogicalDate.IsZero() {
			r.outcome, r.Failure = "failed", "KeyError: 'ds' (the run has no logical date)"
		}
		r.ClearNumber++
		rec.Cleared = true
	}
	return done(jsonAnswer(http.StatusOK, runJSON(version, d, r)))
}

func (s *Server) getDagRun(version, dagID, runID string) answer {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.dags[dagID]
	if !ok {
		return dagNotFound(version, dagID)
	}
	s.advance(d)
	if r := s.visibleRun(d, runID); r != nil {
		return jsonAnswer(http.StatusOK, runJSON(version, d, r))
	}
	return s.runNotFound(version, dagID, runID)
}

// visibleRun is the run of that id the API can see, or nil.
func (s *Server) visibleRun(d *dag, runID string) *simRun {
	for _, r := range s.visible(d) {
		if r.DagRunID == runID {
			return r
		}
	}
	return nil
}

func (s *Server) runNotFound(version, dagID, runID string) answer {
	if version == "v2" {
		return problem(version, http.StatusNotFound, "", fmt.Sprintf("The DagRun with dag_id: `%s` and run_id: `%s` was not found", dagID, runID))
	}
	return problem(version, http.StatusNotFound, "DAGRun not found",
		fmt.Sprintf("DAGRun with DAG ID: '%s' and DagRun ID: '%s' not found", dagID, runID))
}

func runJSON(version string, d *dag, r *simRun) map[string]any {
	note := any(nil)
	if r.Note != "" {
		note = r.Note
	}
	m := map[string]any{"dag_id": d.id, "dag_run_id": r.DagRunID, "state": r.State,
		"run_type": r.RunType, "conf": r.Conf, "note": note, "logical_date": ts(r.LogicalDate),
		"start_date": ts(r.StartDate), "end_date": ts(r.EndDate),
		"data_interval_start": ts(r.DataIntervalStart), "data_interval_end": ts(r.DataIntervalEnd),
		"last_scheduling_decision": ts(r.StartDate)}
	if version == "v1" {
		m["execution_date"] = ts(r.LogicalDate)
		m["external_trigger"] = r.RunType == "manual"
		return m
	}
	runAfter := r.QueuedAt
	if r.RunType == "scheduled" {
		runAfter = r.DataIntervalEnd
	}
	m["queued_at"] = ts(r.QueuedAt)
	m["run_after"] = ts(runAfter)
	m["dag_display_name"] = d.id
	m["bundle_version"] = nil
	m["triggered_by"] = map[bool]string{true: "rest_api", false: "timetable"}[r.RunType == "manual"]
	m["dag_versions"] = []any{map[string]any{"id": "0195e0a4-6ad1-7c3c-9b9c-3f1d0c2a0001", "version_number": 1,
		"dag_id": d.id, "dag_display_name": d.id, "bundle_name": "dags-folder", "bundle_version": nil,
		"bundle_url": nil, "created_at": ts(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))}}
	if !r.EndDate.IsZero() {
		m["duration"] = r.EndDate.Sub(r.StartDate).Seconds()
	} else {
		m["duration"] = nil
	}
	return m
}

// listDagRuns filters and orders like Airflow's SQL query on PostgreSQL:
// a filter on a null column drops the row, and nulls sort as the largest
// value (first when descending).
func (s *Server) listDagRuns(version, dagID string, q url.Values) answer {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.dags[dagID]
	if !ok {
		return dagNotFound(version, dagID)
	}
	s.advance(d)
	field := func(r *simRun, name string) time.Time {
		switch name {
		case "start_date":
			return r.StartDate
		case "end_date":
			return r.EndDate
		case "execution_date", "logical_date":
			return r.LogicalDate
		case "run_after":
			if r.RunType == "scheduled" {
				return r.DataIntervalEnd
			}
			return r.QueuedAt
		}
		return time.Time{}
	}
	var out []*simRun
	for _, r := range s.visible(d) {
		keep := true
		for key, vals := range q {
			name, op, ok := cutOp(key)
			if !ok || len(vals) == 0 {
				continue
			}
			bound, err := time.Parse(time.RFC3339Nano, vals[0])
			if err != nil {
				return problem(version, http.StatusBadRequest, "Bad Request", key+": "+err.Error())
			}
			v := field(r, name)
			if v.IsZero() || !op(v, bound) {
				keep = false
			}
		}
		if states := stateFilter(q); len(states) > 0 && !slices.Contains(states, r.State) {
			keep = false
		}
		if keep {
			out = append(out, r)
		}
	}
	orders := q["order_by"]
	if len(orders) == 0 {
		orders = []string{"id"}
	}
	order := strings.Split(orders[0], ",")[0]
	desc := strings.HasPrefix(order, "-")
	order = strings.TrimPrefix(order, "-")
	slices.SortStableFunc(out, func(a, b *simRun) int {
		c := 0
		switch order {
		case "id":
			c = a.seq - b.seq
		case "dag_run_id", "run_id":
			c = strings.Compare(a.DagRunID, b.DagRunID)
		default:
			c = compareNullLast(field(a, order), field(b, order))
		}
		if desc {
			return -c
		}
		return c
	})
	total := len(out)
	limit, offset := 100, 0
	if version == "v2" {
		limit = 50
	}
	if v, err := strconv.Atoi(q.Get("limit")); err == nil {
		limit = min(v, 100)
	}
	if v, err := strconv.Atoi(q.Get("offset")); err == nil {
		offset = v
	}
	out = out[min(offset, len(out)):]
	out = out[:min(limit, len(out))]
	runs := make([]any, 0, len(out))
	for _, r := range out {
		runs = append(runs, runJSON(version, d, r))
	}
	return jsonAnswer(http.StatusOK, map[string]any{"dag_runs": runs, "total_entries": total})
}

func stateFilter(q url.Values) []string {
	var out []string
	for _, v := range q["state"] {
		out = append(out, strings.Split(v, ",")...)
	}
	return out
}

func cutOp(key string) (string, func(v, bound time.Time) bool, bool) {
	for _, c := range []struct {
		suffix string
		op     func(v, b time.Time) bool
	}{
		{"_gte", func(v, b time.Time) bool { return !v.Before(b) }},
		{"_lte", func(v, b time.Time) bool { return !v.After(b) }},
		{"_gt", func(v, b time.Time) bool { return v.After(b) }},
		{"_lt", func(v, b time.Time) bool { return v.Before(b) }},
	} {
		if name, ok := strings.CutSuffix(key, c.suffix); ok {
			switch name {
			case "start_date", "end_date", "execution_date", "logical_date", "run_after":
				return name, c.op, true
			}
		}
	}
	return "", nil, false
}

func compareNullLast(a, b time.Time) int {
	switch {
	case a.IsZero() && b.IsZero():
		return 0
	case a.IsZero():
		return 1
	case b.IsZero():
		return -1
	}
	return a.Compare(b)
}

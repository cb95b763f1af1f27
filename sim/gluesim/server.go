package gluesim

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"time"

	"github.com/sekisho-dev/sekisho/sim/awsjson"
)

// ContentType is the awsJson1_1 media type of requests and answers.
const ContentType = awsjson.ContentType

const targetPrefix = "AWSGlue."

// Page size limits of the Glue API reference.
const (
	maxJobRunsPage      = 200
	maxWorkflowRunsPage = 1000
	defaultPage         = 100
)

// apiError is an answer the simulator gives instead of a result.
type apiError = awsjson.Error

func notFound(format string, a ...any) *apiError {
	return &apiError{Status: http.StatusBadRequest, Type: "EntityNotFoundException", Msg: fmt.Sprintf(format, a...)}
}

func invalid(typ, format string, a ...any) *apiError { return awsjson.Invalid(typ, format, a...) }

// NewServer starts the simulator on a loopback httptest server; point the
// SDK's BaseEndpoint at its URL. The caller closes it.
func (s *Sim) NewServer() *httptest.Server { return httptest.NewServer(s) }

// ServeHTTP answers one awsJson1_1 request.
func (s *Sim) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("x-amzn-RequestId", newID("")[:36])
	target, body, aerr := awsjson.ReadRequest(r, targetPrefix)
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	if aerr := awsjson.Authenticate(r, body, "glue", s.region, s.keys); aerr != nil {
		s.mu.Lock()
		s.stats.Total++
		s.stats.Rejected++
		s.mu.Unlock()
		writeError(w, aerr)
		return
	}
	if ok, _ := s.limit.Take(s.clock.Now()); !ok {
		writeError(w, &apiError{Status: http.StatusBadRequest, Type: "ThrottlingException", Msg: "Rate exceeded", Lower: true})
		return
	}
	var probe struct{ JobName, Name *string }
	_ = json.Unmarshal(body, &probe)

	s.mu.Lock()
	s.stats.Total++
	s.stats.ByTarget[target]++
	switch {
	case probe.JobName != nil:
		s.stats.ByResource[resourceKey("glue_job", *probe.JobName)]++
	case probe.Name != nil:
		s.stats.ByResource[resourceKey("glue_workflow", *probe.Name)]++
	}
	f := s.draw()
	if f != faultNone {
		s.stats.Faults++
	}
	latency := s.faults.Latency
	s.mu.Unlock()

	if latency > 0 {
		t := time.NewTimer(latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
	}
	switch f {
	case faultError:
		writeError(w, &apiError{Status: http.StatusInternalServerError, Type: "InternalServiceException", Msg: "Internal service exception"})
		return
	case faultThrottle:
		writeError(w, &apiError{Status: http.StatusBadRequest, Type: "ThrottlingException", Msg: "Rate exceeded", Lower: true})
		return
	}

	out, aerr := s.dispatch(target, body)
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	b, err := json.Marshal(out)
	if err != nil {
		writeError(w, &apiError{Status: http.StatusInternalServerError, Type: "InternalServiceException", Msg: err.Error()})
		return
	}
	if f == faultMalformed {
		b = b[:len(b)/2]
	}
	w.Header().Set("Content-Type", ContentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	_, _ = w.Write(b)
}

func writeError(w http.ResponseWriter, e *apiError) { awsjson.WriteError(w, e) }

func (s *Sim) dispatch(target string, body []byte) (any, *apiError) {
	decode := func(v any) *apiError {
		dec := json.NewDecoder(bytes.NewReader(body))
		if err := dec.Decode(v); err != nil {
			return invalid("SerializationException", "cannot read the request body: %v", err)
		}
		return nil
	}
	switch target {
	case "GetJobRuns":
		var in getJobRunsInput
		if e := decode(&in); e != nil {
			return nil, e
		}
		return s.getJobRuns(in)
	case "GetJobRun":
		var in getJobRunInput
		if e := decode(&in); e != nil {
			return nil, e
		}
		return s.getJobRun(in)
	case "StartJobRun":
		var in startJobRunInput
		if e := decode(&in); e != nil {
			return nil, e
		}
		return s.startJobRun(in)
	case "GetWorkflowRuns":
		var in getWorkflowRunsInput
		if e := decode(&in); e != nil {
			return nil, e
		}
		return s.getWorkflowRuns(in)
	}
	return nil, invalid("UnknownOperationException", "the simulator does not implement %s", target)
}

func required(field string, v *string) *apiError {
	if v == nil || *v == "" {
		return invalid("ValidationException", "1 validation error detected: Value null at '%s' failed to satisfy constraint: Member must not be null", field)
	}
	return nil
}

func pageSize(field string, v *int, limit int) (int, *apiError) {
	if v == nil {
		return defaultPage, nil
	}
	if *v < 1 || *v > limit {
		return 0, invalid("ValidationException",
			"1 validation error detected: Value '%d' at '%s' failed to satisfy constraint: Member must have value between 1 and %d", *v, field, limit)
	}
	return *v, nil
}

// A NextToken names the last run of the previous page, so new runs arriving
// at the head between calls do not shift later pages.
func encodeToken(start time.Time, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(start.UnixNano(), 10) + "/" + id))
}

func decodeToken(tok *string) (time.Time, string, bool, *apiError) {
	if tok == nil || *tok == "" {
		return time.Time{}, "", false, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(*tok)
	if err == nil {
		ns, id, ok := strings.Cut(string(raw), "/")
		if n, perr := strconv.ParseInt(ns, 10, 64); ok && perr == nil {
			return time.Unix(0, n), id, true, nil
		}
	}
	return time.Time{}, "", false, invalid("InvalidInputException", "Invalid pagination token")
}

// page cuts one page out of keys ordered newest first.
// visiblePage answers one page of the runs that have started by now, as
// GetJobRuns and GetWorkflowRuns do: the runs a clock has not reached yet do
// not exist for the API.
func visiblePage[R any, V any](runs []R, key func(R) (time.Time, string), view func(R) V, now time.Time, tok *string, size int) ([]V, string, *apiError) {
	var vis []R
	for _, r := range runs {
		if start, _ := key(r); !now.Before(start) {
			vis = append(vis, r)
		}
	}
	from, to, next, e := page(len(vis), func(i int) (time.Time, string) { return key(vis[i]) }, tok, size)
	if e != nil {
		return nil, "", e
	}
	out := []V{}
	for _, r := range vis[from:to] {
		out = append(out, view(r))
	}
	return out, next, nil
}

// oldestFirstPage pages the started workflow runs oldest first, the token
// an offset into them.
func oldestFirstPage(runs []*WorkflowRun, view func(*WorkflowRun) workflowRunJSON, now time.Time, tok *string, size int) (any, *apiError) {
	var vis []*WorkflowRun
	for i := len(runs) - 1; i >= 0; i-- { // runs are kept newest first
		if !now.Before(runs[i].Start) {
			vis = append(vis, runs[i])
		}
	}
	from := 0
	if tok != nil && *tok != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(*tok, "oldest:"))
		if err != nil || n < 0 || n > len(vis) || !strings.HasPrefix(*tok, "oldest:") {
			return nil, invalid("InvalidInputException", "Invalid pagination token")
		}
		from = n
	}
	to := min(len(vis), from+size)
	out := getWorkflowRunsOutput{Runs: []workflowRunJSON{}}
	for _, r := range vis[from:to] {
		out.Runs = append(out.Runs, view(r))
	}
	if to < len(vis) {
		out.NextToken = "oldest:" + strconv.Itoa(to)
	}
	return out, nil
}

func page(n int, key func(i int) (time.Time, string), tok *string, size int) (from, to int, next string, e *apiError) {
	at, id, ok, e := decodeToken(tok)
	if e != nil {
		return 0, 0, "", e
	}
	if ok {
		for from < n {
			t, i := key(from)
			if newer(at, id, t, i) {
				break
			}
			from++
		}
	}
	to = min(n, from+size)
	if to < n {
		t, i := key(to - 1)
		next = encodeToken(t, i)
	}
	return from, to, next, nil
}

// findJob finds a job by name, or answers EntityNotFoundException with Glue's
// words for it. The caller holds s.mu.
func (s *Sim) findJob(name string) (*job, *apiError) {
	if j := s.jobs[name]; j != nil {
		return j, nil
	}
	return nil, notFound("Job with name: %s not found", name)
}

func (s *Sim) getJobRuns(in getJobRunsInput) (any, *apiError) {
	if e := required("jobName", in.JobName); e != nil {
		return nil, e
	}
	size, e := pageSize("maxResults", in.MaxResults, maxJobRunsPage)
	if e != nil {
		return nil, e
	}
	now := s.clock.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	j, e := s.findJob(*in.JobName)
	if e != nil {
		return nil, e
	}
	views, next, e := visiblePage(j.runs, func(r *jobRun) (time.Time, string) { return r.Start, r.ID },
		func(r *jobRun) jobRunJSON { v, _ := r.view(*in.JobName, now); return v }, now, in.NextToken, size)
	if e != nil {
		return nil, e
	}
	return getJobRunsOutput{JobRuns: views, NextToken: next}, nil
}

func (s *Sim) getJobRun(in getJobRunInput) (any, *apiError) {
	if e := required("jobName", in.JobName); e != nil {
		return nil, e
	}
	if e := required("runId", in.RunID); e != nil {
		return nil, e
	}
	now := s.clock.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	j, e := s.findJob(*in.JobName)
	if e != nil {
		return nil, e
	}
	for _, r := range j.runs {
		if r.ID == *in.RunID {
			if v, ok := r.view(*in.JobName, now); ok {
				return getJobRunOutput{JobRun: v}, nil
			}
		}
	}
	return nil, notFound("Job Run Id: %s not found", *in.RunID)
}

// startJobRun starts a run now with the job's Rerun plan. Like Glue with the
// default MaxConcurrentRuns of 1, it refuses while a run is in progress.
func (s *Sim) startJobRun(in startJobRunInput) (any, *apiError) {
	if e := required("jobName", in.JobName); e != nil {
		return nil, e
	}
	now := s.clock.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	j, e := s.findJob(*in.JobName)
	if e != nil {
		return nil, e
	}
	attempt, previous := 1, ""
	for _, r := range j.runs {
		v, ok := r.view(*in.JobName, now)
		if !ok {
			continue
		}
		if !ended(v.JobRunState) {
			return nil, invalid("ConcurrentRunsExceededException", "Concurrent runs exceeded for %s", *in.JobName)
		}
		if in.JobRunID != nil && r.ID == *in.JobRunID {
			attempt, previous = r.attempt+1, r.ID
		}
	}
	if in.JobRunID != nil && previous == "" {
		return nil, notFound("Job Run Id: %s not found", *in.JobRunID)
	}
	rr := j.rerun
	id := s.planRun(j, Run{Start: now, Duration: rr.Duration, Outcome: rr.Outcome, Message: rr.Message}, attempt, previous)
	return startJobRunOutput{JobRunID: id}, nil
}

func (s *Sim) getWorkflowRuns(in getWorkflowRunsInput) (any, *apiError) {
	if e := required("name", in.Name); e != nil {
		return nil, e
	}
	size, e := pageSize("maxResults", in.MaxResults, maxWorkflowRunsPage)
	if e != nil {
		return nil, e
	}
	now := s.clock.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	w := s.workflows[*in.Name]
	if w == nil {
		return nil, notFound("Entity not found: workflow %s", *in.Name)
	}
	view := func(r *WorkflowRun) workflowRunJSON { v, _ := r.view(*in.Name, now); return v }
	if s.oldestFirst {
		return oldestFirstPage(w.runs, view, now, in.NextToken, size)
	}
	views, next, e := visiblePage(w.runs, func(r *WorkflowRun) (time.Time, string) { return r.Start, r.ID },
		view, now, in.NextToken, size)
	if e != nil {
		return nil, e
	}
	return getWorkflowRunsOutput{Runs: views, NextToken: next}, nil
}

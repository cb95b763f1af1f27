// Package bigquerysim simulates the BigQuery REST calls that
// cloud.google.com/go/bigquery makes to run a query and read its rows:
// jobs.query (POST /projects/{project}/queries) and jobs.getQueryResults
// (GET /projects/{project}/queries/{jobId}), and jobs.list (GET
// /projects/{project}/jobs, for the long-query watch), under the
// /bigquery/v2 base path, reached through the real client with
// option.WithEndpoint. A query
// may be made slow (jobComplete false at first), which sends the client
// down its polling path through getQueryResults.
//
// SQL is not parsed: a test registers each query's first row with Answer.
// Values travel as BigQuery's JSON does: every cell a string in {"v": …},
// counts as "totalRows" strings, errors in the Google API error envelope.
//
// Locations are BigQuery's: the simulated data lives in one location
// (DataLocation, "US" by default), and a job runs where the request says
// (jobs.query's "location") or, when it names none, in the US. A job that
// runs anywhere else than the data fails as BigQuery fails it: 404
// notFound, "Not found: Dataset … was not found in location …"
// (https://cloud.google.com/bigquery/docs/locations#specify_locations).
package bigquerysim

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// basePath is where the BigQuery v2 REST API lives on the endpoint.
const basePath = "/bigquery/v2"

// DefaultLocation is where BigQuery runs a job whose request names no
// location and whose tables it cannot look up first: the US multi-region.
const DefaultLocation = "US"

// Column is one column of an answer: its BigQuery type (BOOLEAN, INTEGER,
// FLOAT, NUMERIC, STRING) and value (nil for NULL).
type Column struct {
	Type  string
	Value any
}

// Sim is the simulated BigQuery.
type Sim struct {
	mu      sync.Mutex
	answers map[string]func() ([]Column, error)
	slow    map[string]int // query → getQueryResults polls before complete
	jobs    map[string]*job
	calls   map[string]int // "jobs.query", "jobs.getQueryResults", or the path of an unknown call
	byQuery map[string]int
	dataLoc string         // where the simulated tables live
	jobLocs map[string]int // location a job ran in → jobs
	caller  string         // the client's identity (user_email of its jobs)
	listAll bool           // caller holds bigquery.jobs.listAll
	now     func() time.Time
}

type job struct {
	project, location, query string
	polls                    int
	row                      []Column
	err                      error
	user                     string            // who ran it (user_email)
	labels                   map[string]string // configuration.labels
	created                  time.Time
	running                  bool // a job started with StartJob, until EndJob
}

// New returns an empty simulator.
func New() *Sim {
	return &Sim{answers: map[string]func() ([]Column, error){}, slow: map[string]int{}, jobs: map[string]*job{},
		calls: map[string]int{}, byQuery: map[string]int{}, dataLoc: DefaultLocation, jobLocs: map[string]int{},
		caller: DefaultCaller, now: time.Now}
}

// DefaultCaller is the identity the simulator takes the client for.
const DefaultCaller = "sekisho@my-project.iam.gserviceaccount.com"

// SetClock makes job creation times come from now (a fake clock's Now).
func (s *Sim) SetClock(now func() time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.now = now
}

// GrantListAll gives the caller bigquery.jobs.listAll: jobs.list with
// allUsers=true then lists every user's jobs. Without it the caller sees
// only the jobs it created ("Users are able to list the jobs they created";
// jobs.list reference).
func (s *Sim) GrantListAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.listAll = true
}

// StartJob starts a query job of user in location, running until EndJob,
// and returns its job id.
func (s *Sim) StartJob(user, query, location string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := newJobID()
	s.jobs[id] = &job{project: "", location: location, query: query, user: user, created: s.now(), running: true}
	return id
}

// EndJob ends a job StartJob started.
func (s *Sim) EndJob(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if j, ok := s.jobs[id]; ok {
		j.running = false
	}
}

// DataLocation says where the simulated tables live (a region such as
// asia-northeast1, or a multi-region such as US or EU). Only a job that runs
// there reads them.
func (s *Sim) DataLocation(loc string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dataLoc = loc
}

// JobLocations returns how many jobs ran in each location.
func (s *Sim) JobLocations() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]int{}
	for k, v := range s.jobLocs {
		out[k] = v
	}
	return out
}

// NewServer starts the simulator on loopback; the client's endpoint is its
// URL + "/bigquery/v2/".
func (s *Sim) NewServer() *httptest.Server { return httptest.NewServer(s) }

// Endpoint is the option.WithEndpoint value for a server of this simulator.
func Endpoint(srv *httptest.Server) string { return srv.URL + basePath + "/" }

// Answer registers a query's first row (nil: no row); fn runs at every
// execution, so rows can arrive late. An error fails the job as an invalid
// query.
func (s *Sim) Answer(query string, fn func() ([]Column, error)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.answers[query] = fn
}

// Slow makes a query's job incomplete for the first polls getQueryResults calls.
func (s *Sim) Slow(query string, polls int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.slow[query] = polls
}

// Calls returns how many requests of each REST method were answered.
func (s *Sim) Calls() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]int{}
	for k, v := range s.calls {
		out[k] = v
	}
	return out
}

// Runs returns how many times a query ran.
func (s *Sim) Runs(query string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.byQuery[query]
}

// Wire shapes of https://cloud.google.com/bigquery/docs/reference/rest/v2/jobs/query
// and .../jobs/getQueryResults.

type queryRequest struct {
	Query        string            `json:"query"`
	UseLegacySQL *bool             `json:"useLegacySql"`
	Location     string            `json:"location"`
	RequestID    string            `json:"requestId"`
	Labels       map[string]string `json:"labels"`
}

type jobReference struct {
	ProjectID string `json:"projectId"`
	JobID     string `json:"jobId"`
	Location  string `json:"location,omitempty"`
}

type field struct {
	Name string `json:"name"`
	Type string `json:"type"`
	Mode string `json:"mode"`
}

type cell struct {
	V any `json:"v"`
}

type row struct {
	F []cell `json:"f"`
}

type queryResponse struct {
	Kind         string       `json:"kind"`
	JobReference jobReference `json:"jobReference"`
	JobComplete  bool         `json:"jobComplete"`
	Schema       *struct {
		Fields []field `json:"fields"`
	} `json:"schema,omitempty"`
	Rows      []row  `json:"rows,omitempty"`
	TotalRows string `json:"totalRows,omitempty"`
	QueryID   string `json:"queryId,omitempty"`
}

func (s *Sim) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path, ok := strings.CutPrefix(r.URL.Path, basePath)
	parts := strings.Split(strings.Trim(path, "/"), "/")
	switch {
	case ok && r.Method == http.MethodPost && len(parts) == 3 && parts[0] == "projects" && parts[2] == "queries":
		s.count("jobs.query")
		s.query(w, r, parts[1])
	case ok && r.Method == http.MethodGet && len(parts) == 4 && parts[0] == "projects" && parts[2] == "queries":
		s.count("jobs.getQueryResults")
		s.results(w, r, parts[1], parts[3])
	case ok && r.Method == http.MethodGet && len(parts) == 3 && parts[0] == "projects" && parts[2] == "jobs":
		s.count("jobs.list")
		s.list(w, r, parts[1])
	default:
		s.count(r.Method + " " + r.URL.Path)
		writeError(w, http.StatusNotFound, "notFound", "NOT_FOUND", "the simulator does not implement "+r.Method+" "+r.URL.Path)
	}
}

func (s *Sim) count(method string) {
	s.mu.Lock()
	s.calls[method]++
	s.mu.Unlock()
}

func (s *Sim) query(w http.ResponseWriter, r *http.Request, project string) {
	var in queryRequest
	body, _ := io.ReadAll(io.LimitReader(r.Body, 10<<20))
	if err := json.Unmarshal(body, &in); err != nil {
		writeError(w, http.StatusBadRequest, "invalid", "INVALID_ARGUMENT", "Invalid JSON payload received. "+err.Error())
		return
	}
	if in.Query == "" {
		writeError(w, http.StatusBadRequest, "invalid", "INVALID_ARGUMENT", "Required parameter is missing: query")
		return
	}
	if in.UseLegacySQL == nil || *in.UseLegacySQL {
		writeError(w, http.StatusBadRequest, "invalidQuery", "INVALID_ARGUMENT", "the simulator runs GoogleSQL only: send useLegacySql false")
		return
	}
	loc := in.Location
	if loc == "" {
		loc = DefaultLocation
	}
	s.mu.Lock()
	fn, known := s.answers[in.Query]
	s.byQuery[in.Query]++
	j := &job{project: project, location: loc, query: in.Query, polls: s.slow[in.Query], user: s.caller,
		labels: in.Labels, created: s.now()}
	id := newJobID()
	s.jobs[id] = j
	s.jobLocs[loc]++
	dataLoc := s.dataLoc
	s.mu.Unlock()
	if !strings.EqualFold(loc, dataLoc) {
		writeError(w, http.StatusNotFound, "notFound", "NOT_FOUND",
			"Not found: Dataset "+project+":"+datasetOf(in.Query)+" was not found in location "+loc)
		return
	}
	if !known {
		writeError(w, http.StatusBadRequest, "invalidQuery", "INVALID_ARGUMENT", "Unrecognized name: the simulator has no answer for this query")
		return
	}
	j.row, j.err = fn()
	if j.err != nil {
		writeError(w, http.StatusBadRequest, "invalidQuery", "INVALID_ARGUMENT", j.err.Error())
		return
	}
	writeJSON(w, j.response("bigquery#queryResponse", id))
}

func (s *Sim) results(w http.ResponseWriter, r *http.Request, project, id string) {
	s.mu.Lock()
	j, ok := s.jobs[id]
	if ok && j.polls > 0 {
		j.polls--
	}
	s.mu.Unlock()
	if !ok || j.project != project {
		writeError(w, http.StatusNotFound, "notFound", "NOT_FOUND", "Not found: Job "+project+":"+id)
		return
	}
	// A job is found only in its own location; the request's location
	// (absent: the US) must name it.
	loc := r.URL.Query().Get("location")
	if loc == "" {
		loc = DefaultLocation
	}
	if !strings.EqualFold(loc, j.location) {
		writeError(w, http.StatusNotFound, "notFound", "NOT_FOUND", "Not found: Job "+project+":"+loc+"."+id)
		return
	}
	resp := j.response("bigquery#getQueryResultsResponse", id)
	if r.URL.Query().Get("maxResults") == "0" {
		resp.Rows = nil
	}
	writeJSON(w, resp)
}

// Wire shape of https://cloud.google.com/bigquery/docs/reference/rest/v2/jobs/list
// (JobList; note the listed job's snake_case "user_email").
type jobList struct {
	Kind string      `json:"kind"`
	Etag string      `json:"etag"`
	Jobs []listedJob `json:"jobs,omitempty"`
}

type listedJob struct {
	ID            string         `json:"id"`
	Kind          string         `json:"kind"`
	JobReference  jobReference   `json:"jobReference"`
	State         string         `json:"state"`
	Status        map[string]any `json:"status"`
	Statistics    map[string]any `json:"statistics"`
	Configuration map[string]any `json:"configuration"`
	UserEmail     string         `json:"user_email"`
}

// list answers jobs.list: newest first, filtered by stateFilter (running
// or pending: the in-flight jobs; done: the others), other users' jobs only
// with allUsers=true and bigquery.jobs.listAll.
func (s *Sim) list(w http.ResponseWriter, r *http.Request, project string) {
	q := r.URL.Query()
	allUsers := q.Get("allUsers") == "true"
	states := map[string]bool{}
	for _, st := range q["stateFilter"] {
		states[strings.ToLower(st)] = true
	}
	s.mu.Lock()
	var out []listedJob
	type kv struct {
		id string
		j  *job
	}
	var js []kv
	for id, j := range s.jobs {
		js = append(js, kv{id, j})
	}
	sort.Slice(js, func(a, b int) bool { return js[a].j.created.After(js[b].j.created) })
	for _, e := range js {
		j := e.j
		if j.user != s.caller && (!allUsers || !s.listAll) {
			continue
		}
		state := "DONE"
		if j.running || j.polls > 0 {
			state = "RUNNING"
		}
		if len(states) > 0 && !states[strings.ToLower(state)] {
			continue
		}
		ms := strconv.FormatInt(j.created.UnixMilli(), 10)
		cfg := map[string]any{"jobType": "QUERY", "query": map[string]any{"query": j.query, "useLegacySql": false}}
		if len(j.labels) > 0 {
			cfg["labels"] = j.labels
		}
		out = append(out, listedJob{ID: project + ":" + j.location + "." + e.id, Kind: "bigquery#job",
			JobReference: jobReference{ProjectID: project, JobID: e.id, Location: j.location}, State: state,
			Status: map[string]any{"state": state}, Statistics: map[string]any{"creationTime": ms, "startTime": ms},
			Configuration: cfg, UserEmail: j.user})
	}
	s.mu.Unlock()
	writeJSON(w, jobList{Kind: "bigquery#jobList", Etag: "sim", Jobs: out})
}

func (j *job) response(kind, id string) queryResponse {
	resp := queryResponse{Kind: kind, JobReference: jobReference{ProjectID: j.project, JobID: id, Location: j.location},
		JobComplete: j.polls == 0}
	if !resp.JobComplete {
		return resp
	}
	resp.Schema = &struct {
		Fields []field `json:"fields"`
	}{}
	var cells []cell
	for i, c := range j.row {
		resp.Schema.Fields = append(resp.Schema.Fields, field{Name: fmt.Sprintf("f%d_", i), Type: c.Type, Mode: "NULLABLE"})
		cells = append(cells, cell{V: encode(c.Value)})
	}
	if len(resp.Schema.Fields) == 0 {
		resp.Schema.Fields = []field{{Name: "f0_", Type: "INTEGER", Mode: "NULLABLE"}}
	}
	resp.TotalRows = "0"
	if j.row != nil {
		resp.Rows = []row{{F: cells}}
		resp.TotalRows = "1"
	}
	return resp
}

// datasetOf is the first dataset-qualified table a query reads
// ("sales.orders" → "sales"), for the not-found message; "" when the simulator
// cannot tell.
func datasetOf(query string) string {
	fields := strings.Fields(query)
	for i, f := range fields {
		if !strings.EqualFold(f, "FROM") && !strings.EqualFold(f, "JOIN") || i+1 == len(fields) {
			continue
		}
		name := strings.Trim(fields[i+1], "`;()")
		parts := strings.Split(name, ".")
		if len(parts) >= 2 {
			return parts[len(parts)-2]
		}
	}
	return ""
}

// encode is a cell as BigQuery's JSON carries it: a string, or null.
func encode(v any) any {
	switch x := v.(type) {
	case nil:
		return nil
	case bool:
		return strconv.FormatBool(x)
	case int:
		return strconv.Itoa(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	}
	return fmt.Sprint(v)
}

func writeJSON(w http.ResponseWriter, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	_, _ = w.Write(b)
}

// writeError answers in the Google API error envelope.
func writeError(w http.ResponseWriter, code int, reason, status, msg string) {
	b, _ := json.Marshal(map[string]any{"error": map[string]any{
		"code": code, "message": msg, "status": status,
		"errors": []map[string]string{{"message": msg, "domain": "global", "reason": reason}},
	}})
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(code)
	_, _ = w.Write(b)
}

func newJobID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return "job_" + hex.EncodeToString(b[:])
}

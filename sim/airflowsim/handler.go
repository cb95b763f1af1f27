package airflowsim

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// answer is one response, built before it is written so that it can be
// validated, garbled or replaced.
type answer struct {
	status int
	body   []byte
	header http.Header
}

func jsonAnswer(status int, v any) answer {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // our own plain data
	}
	return answer{status: status, body: b}
}

func (a answer) write(w http.ResponseWriter) {
	for k, v := range a.header {
		w.Header()[k] = v
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(a.status)
	_, _ = w.Write(a.body)
}

// ServeHTTP serves /api/v1 (Airflow 2) and /api/v2 (Airflow 3).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if ok, reset := s.limit.Take(s.opts.Clock.Now()); !ok {
		s.count("throttled")
		a := jsonAnswer(http.StatusTooManyRequests, map[string]any{"detail": "Too Many Requests"})
		a.header = http.Header{"Retry-After": {strconv.Itoa(int(reset.Sub(s.opts.Clock.Now()).Seconds()) + 1)}}
		a.write(w)
		return
	}
	if r.URL.Path == "/auth/token" && r.Method == http.MethodPost && s.opts.Auth == AuthPassword {
		s.issueToken(w, r)
		return
	}
	version := ""
	switch {
	case strings.HasPrefix(r.URL.Path, "/api/v1/"):
		version = "v1"
	case strings.HasPrefix(r.URL.Path, "/api/v2/"):
		version = "v2"
	default:
		http.NotFound(w, r)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		problem(version, http.StatusBadRequest, "Bad Request", "cannot read body").write(w)
		return
	}
	reset := func() {
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	}
	reset()
	s.count("total")
	if !s.authenticated(r) {
		s.count("unauthenticated")
		a := problem(version, http.StatusUnauthorized, "Unauthorized", "Not authenticated")
		if s.opts.Auth == AuthBasic {
			a.header = http.Header{"WWW-Authenticate": {`Basic realm="Airflow"`}}
		}
		a.write(w)
		return
	}
	sp := s.specs[version]
	if version == "v2" && r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/dagRuns") {
		// Rules of Airflow 3's TriggerDAGRunPostBody that the spec copy lost.
		if a, bad := triggerBodyRules(body); bad {
			s.recordInvalid(r, string(a.body))
			a.write(w)
			return
		}
	}
	route, params, err := s.validateRequest(r.Context(), sp, r)
	reset()
	if err != nil {
		s.recordInvalid(r, err.Error())
		status := http.StatusBadRequest
		if route == nil {
			status = http.StatusNotFound
		}
		problem(version, status, http.StatusText(status), err.Error()).write(w)
		return
	}
	op := route.Operation.OperationID
	s.count(op)

	fault, slowDelay := s.drawFault()
	switch fault {
	case "server_error":
		status := http.StatusInternalServerError
		if s.coin() {
			status = http.StatusServiceUnavailable
		}
		problem(version, status, http.StatusText(status), "injected fault").write(w)
		return
	case "too_many":
		a := problem(version, http.StatusTooManyRequests, "Too Many Requests", "injected fault")
		a.header = http.Header{"Retry-After": {"0"}}
		a.write(w)
		return
	case "slow":
		select {
		case <-time.After(slowDelay):
		case <-r.Context().Done():
			// The client gave up; the request still takes effect, as
			// a real server's would.
		}
	}

	a := s.dispatch(version, op, params, r, body)
	if err := s.validateResponse(r.Context(), r, route, params, a); err != nil {
		s.mu.Lock()
		s.badAnswer = append(s.badAnswer, InvalidRequest{Method: r.Method, Path: r.URL.Path, Error: err.Error()})
		s.mu.Unlock()
	}
	if fault == "malformed" {
		a.body = a.body[:len(a.body)/2]
	}
	a.write(w)
}

func (s *Server) dispatch(version, op string, params map[string]string, r *http.Request, body []byte) answer {
	dagID := params["dag_id"]
	s.mu.Lock()
	status, rejected := s.rejects[dagID]
	s.mu.Unlock()
	if rejected {
		if version == "v2" && status == http.StatusUnprocessableEntity {
			return jsonAnswer(status, map[string]any{"detail": []map[string]any{{
				"type": "value_error", "loc": []any{"path", "dag_id"}, "msg": "rejected by the simulator"}}})
		}
		return problem(version, status, http.StatusText(status), "rejected by the simulator for DAG "+dagID)
	}
	switch op {
	case "get_dag":
		return s.getDag(version, dagID)
	case "patch_dag":
		return s.patchDag(version, dagID, body)
	case "get_dag_runs":
		return s.listDagRuns(version, dagID, r.URL.Query())
	case "post_dag_run", "trigger_dag_run":
		return s.triggerDagRun(version, dagID, body)
	case "get_dag_run":
		return s.getDagRun(version, dagID, params["dag_run_id"])
	case "clear_dag_run":
		return s.clearDagRun(version, dagID, params["dag_run_id"], body)
	}
	return problem(version, http.StatusNotImplemented, "Not Implemented", "the simulator does not implement "+op)
}

func (s *Server) authenticated(r *http.Request) bool {
	switch s.opts.Auth {
	case AuthBasic:
		u, p, ok := r.BasicAuth()
		return ok && subtle.ConstantTimeCompare([]byte(u), []byte(s.opts.Username)) == 1 &&
			subtle.ConstantTimeCompare([]byte(p), []byte(s.opts.Password)) == 1
	case AuthPassword:
		if strings.HasPrefix(r.URL.Path, "/api/v1/") {
			// The one simulator also plays the Airflow 2 beside it,
			// whose API takes the same user with basic auth.
			u, p, ok := r.BasicAuth()
			return ok && u == s.opts.Username && p == s.password()
		}
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		return ok && s.validJWT(tok)
	case AuthBearer:
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok {
			return false
		}
		for _, t := range s.opts.Tokens {
			if subtle.ConstantTimeCompare([]byte(tok), []byte(t)) == 1 {
				return true
			}
		}
		return false
	}
	return true
}

// drawFault picks this request's fault, and reads the slow delay under the
// same lock: SetFaults may change both while requests are in flight.
func (s *Server) drawFault() (kind string, slowDelay time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.opts.Faults
	x := s.rng.Float64()
	for _, c := range []struct {
		share float64
		kind  string
	}{{f.ServerError, "server_error"}, {f.TooMany, "too_many"}, {f.Slow, "slow"}, {f.Malformed, "malformed"}} {
		if x < c.share {
			kind = c.kind
			break
		}
		x -= c.share
	}
	if kind != "" {
		s.faults[kind]++
	}
	return kind, f.SlowDelay
}

func (s *Server) coin() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rng.IntN(2) == 0
}

func (s *Server) count(key string) {
	s.mu.Lock()
	s.requests[key]++
	s.mu.Unlock()
}

func (s *Server) recordInvalid(r *http.Request, msg string) {
	s.mu.Lock()
	s.invalid = append(s.invalid, InvalidRequest{Method: r.Method, Path: r.URL.Path, Error: msg})
	s.mu.Unlock()
}

// problem is an error body as each version writes it: v1's RFC 7807
// problem JSON, v2's FastAPI {"detail": …}.
func problem(version string, status int, title, detail string) answer {
	if version == "v2" {
		return jsonAnswer(status, map[string]any{"detail": detail})
	}
	kind := map[int]string{400: "BadRequest", 401: "Unauthenticated", 403: "PermissionDenied",
		404: "NotFound", 409: "AlreadyExists", 500: "Unknown"}[status]
	if kind == "" {
		kind = "Unknown"
	}
	return jsonAnswer(status, map[string]any{"detail": detail, "status": status, "title": title,
		"type": "https://airflow.apache.org/docs/apache-airflow/2.10.0/stable-rest-api-ref.html#section/Errors/" + kind})
}

// triggerBodyRules applies Airflow 3's pydantic model of a trigger body:
// logical_date is required (null allowed) and unknown fields are refused,
// both with 422 and a list of validation errors.
func triggerBodyRules(body []byte) (answer, bool) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil {
		return answer{}, false // the schema check reports it
	}
	allowed := map[string]bool{"conf": true, "dag_run_id": true, "data_interval_end": true,
		"data_interval_start": true, "logical_date": true, "note": true, "partition_key": true, "run_after": true}
	var input any
	_ = json.Unmarshal(body, &input)
	var errs []map[string]any
	if _, ok := m["logical_date"]; !ok {
		errs = append(errs, map[string]any{"type": "missing", "loc": []any{"body", "logical_date"},
			"msg": "Field required", "input": input})
	}
	for k, v := range m {
		if !allowed[k] {
			var val any
			_ = json.Unmarshal(v, &val)
			errs = append(errs, map[string]any{"type": "extra_forbidden", "loc": []any{"body", k},
				"msg": "Extra inputs are not permitted", "input": val})
		}
	}
	if len(errs) == 0 {
		return answer{}, false
	}
	return jsonAnswer(http.StatusUnprocessableEntity, map[string]any{"detail": errs}), true
}

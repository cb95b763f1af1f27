package troccosim

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

// ServeHTTP answers TROCCO API calls.
func (s *Sim) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.total++
	s.counts[r.Method+" "+r.URL.Path]++
	f := s.opts.Faults
	slow := s.roll(f.Slow, "slow")
	fail5xx := s.roll(f.ServerError, "server_error")
	now := s.opts.Clock.Now()
	r = r.WithContext(context.WithValue(r.Context(), receivedKey{}, now))
	within, resetAt := s.limit.Take(now)
	limited := !fail5xx && s.roll(f.RateLimit, "rate_limit")
	malformed := !fail5xx && !limited && s.roll(f.Malformed, "malformed")
	s.mu.Unlock()

	if !within {
		s.tooMany(w, resetAt)
		return
	}

	if slow {
		d := f.SlowFor
		if d <= 0 {
			d = 50 * time.Millisecond
		}
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
	}
	if !s.authorized(r) {
		writeJSON(w, http.StatusUnauthorized, map[string]any{"error": "Invalid API KEY"})
		return
	}
	switch {
	case fail5xx:
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"message": "Service Unavailable"})
		return
	case limited:
		reset := f.ResetIn
		if reset <= 0 {
			reset = time.Second
		}
		s.tooMany(w, now.Add(reset))
		return
	}
	if malformed {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		io.WriteString(w, `{"items":[{"id":1,"status":"succ`)
		return
	}
	s.mux.ServeHTTP(&notFoundJSON{ResponseWriter: w}, r)
}

// receivedKey carries the time a request reached ServeHTTP to its handler.
type receivedKey struct{}

// senderOf is what a server can tell of the client behind r.
func senderOf(r *http.Request) Sender {
	at, _ := r.Context().Value(receivedKey{}).(time.Time)
	return Sender{Traceparent: r.Header.Get("Traceparent"), RemoteAddr: r.RemoteAddr, Received: at}
}

// Throttled is how many calls the account limit refused with 429
// (injected faults not counted): a client within its budget sees none.
func (s *Sim) Throttled() int { return s.limit.Throttled() }

// tooMany answers 429 as TROCCO does, the reset as UNIX seconds.
func (s *Sim) tooMany(w http.ResponseWriter, reset time.Time) {
	limit := s.opts.Limit.Requests
	if limit <= 0 {
		limit = s.opts.Limit.Daily
	}
	w.Header().Set("X-Rate-Limit-Limit", strconv.Itoa(limit))
	w.Header().Set("X-Rate-Limit-Remaining", "0")
	w.Header().Set("X-Rate-Limit-Reset", strconv.FormatInt(reset.Unix(), 10))
	writeJSON(w, http.StatusTooManyRequests, map[string]any{"message": "Rate limit exceeded"})
}

// roll draws a fault; the caller holds s.mu.
func (s *Sim) roll(share float64, kind string) bool {
	if share <= 0 || s.rng.Float64() >= share {
		return false
	}
	s.faultCounts[kind]++
	return true
}

func (s *Sim) authorized(r *http.Request) bool {
	h := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(h, "Token ")
	return ok && s.opts.Token != "" && tok == s.opts.Token
}

// notFoundJSON turns the mux's plain-text 404/405 into TROCCO's JSON shape.
type notFoundJSON struct {
	http.ResponseWriter
	plain bool
}

func (n *notFoundJSON) WriteHeader(code int) {
	if (code == http.StatusNotFound || code == http.StatusMethodNotAllowed) &&
		strings.HasPrefix(n.Header().Get("Content-Type"), "text/plain") {
		n.plain = true
		n.Header().Set("Content-Type", "application/json; charset=utf-8")
		n.Header().Del("X-Content-Type-Options")
		n.ResponseWriter.WriteHeader(code)
		io.WriteString(n.ResponseWriter, `{"message":"Not Found"}`)
		return
	}
	n.ResponseWriter.WriteHeader(code)
}

func (n *notFoundJSON) Write(b []byte) (int, error) {
	if n.plain {
		return len(b), nil
	}
	return n.ResponseWriter.Write(b)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

func badRequest(w http.ResponseWriter, errs ...string) {
	writeJSON(w, http.StatusBadRequest, map[string]any{"message": "不正なリクエストです。", "errors": errs})
}

func notFound(w http.ResponseWriter) {
	writeJSON(w, http.StatusNotFound, map[string]any{"message": "Not Found"})
}

func ts(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.In(JST).Format(TimeLayout)
}

// view is a job's fields as of now; ok is false before it exists.
func (j *job) view(now time.Time) (status string, created, started, finished time.Time, ok bool) {
	if now.Before(j.start) {
		return "", time.Time{}, time.Time{}, time.Time{}, false
	}
	created = j.start
	q := queueFor
	if j.out.RunFor/10 < q {
		q = j.out.RunFor / 10
	}
	end := j.start.Add(j.out.RunFor)
	switch {
	case !now.Before(end):
		status, started, finished = j.out.Status, j.start.Add(q), end
	case now.Before(j.start.Add(q)):
		status = "queued"
	default:
		status, started = "executing", j.start.Add(q)
	}
	return status, created, started, finished, true
}

func (s *Sim) listJobs(w http.ResponseWriter, r *http.Request) {
	defID, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		notFound(w)
		return
	}
	q := r.URL.Query()
	tz := q.Get("time_zone")
	if tz == "" {
		tz = "Asia/Tokyo"
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		badRequest(w, "time_zone is invalid")
		return
	}
	var start, end time.Time
	if v := q.Get("start_time"); v != "" {
		if start, err = time.ParseInLocation("2006-01-02 15:04:05", v, loc); err != nil {
			badRequest(w, "start_time is invalid")
			return
		}
	}
	if v := q.Get("end_time"); v != "" {
		if end, err = time.ParseInLocation("2006-01-02 15:04:05", v, loc); err != nil {
			badRequest(w, "end_time is invalid")
			return
		}
	}
	limit := 50
	if v := q.Get("limit"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil || limit < 1 || limit > 100 {
			badRequest(w, "limit must be between 1 and 100")
			return
		}
	}
	if limit > s.opts.PageSize {
		limit = s.opts.PageSize
	}
	var after int64 // ids below this one come next (newest first)
	if c := q.Get("cursor"); c != "" {
		if after, err = decodeCursor(c); err != nil {
			badRequest(w, "cursor is invalid")
			return
		}
	}

	s.mu.Lock()
	now := s.opts.Clock.Now()
	alive, known := s.jobDefs[defID]
	if !known {
		s.mu.Unlock()
		notFound(w)
		return
	}
	if !alive {
		s.mu.Unlock()
		writeJSON(w, http.StatusForbidden, map[string]any{"message": "Forbidden"})
		return
	}
	var items []map[string]any
	var ids []int64
	for id, j := range s.jobs {
		if j.defID == defID && (after == 0 || id < after) {
			ids = append(ids, id)
		}
	}
	sort.Slice(ids, func(a, b int) bool { return ids[a] > ids[b] })
	var next any
	for _, id := range ids {
		item := s.jobs[id].json(now)
		if item == nil {
			continue
		}
		created := s.jobs[id].start
		if (!start.IsZero() && created.Before(start)) || (!end.IsZero() && created.After(end)) {
			continue
		}
		if len(items) == limit {
			next = encodeCursor(items[len(items)-1]["id"].(int64))
			break
		}
		items = append(items, item)
	}
	s.mu.Unlock()
	body := map[string]any{"next_cursor": next}
	if len(items) > 0 { // TROCCO may leave an empty array out
		body["items"] = items
	}
	writeJSON(w, http.StatusOK, body)
}

// getJob answers GET /api/jobs/{id}: one transfer job, as in the listing.
func (s *Sim) getJob(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		notFound(w)
		return
	}
	s.mu.Lock()
	var body map[string]any
	if j, ok := s.jobs[id]; ok {
		body = j.json(s.opts.Clock.Now())
	}
	s.mu.Unlock()
	if body == nil {
		notFound(w)
		return
	}
	writeJSON(w, http.StatusOK, body)
}

// json is a transfer job as the listing and GET /api/jobs/{id} write it;
// nil before it exists.
func (j *job) json(now time.Time) map[string]any {
	status, created, started, finished, ok := j.view(now)
	if !ok {
		return nil
	}
	return map[string]any{"id": j.id, "job_definition_id": j.defID,
		"job_definition_name": fmt.Sprintf("transfer-%d", j.defID), "status": status,
		"created_at": ts(created), "started_at": ts(started), "finished_at": ts(finished)}
}

func encodeCursor(id int64) string {
	return base64.RawURLEncoding.EncodeToString(fmt.Appendf(nil, `{"id":%d}`, id))
}

func decodeCursor(c string) (int64, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return 0, err
	}
	var v struct {
		ID int64 `json:"id"`
	}
	if err := json.Unmarshal(b, &v); err != nil || v.ID <= 0 {
		return 0, fmt.Errorf("bad cursor")
	}
	return v.ID, nil
}

func (s *Sim) pipelineJobJSON(j *job, now time.Time) map[string]any {
	status, created, started, finished, ok := j.view(now)
	if !ok { // scheduled in the future: TROCCO would not know it yet
		return nil
	}
	return map[string]any{"id": j.id, "pipeline_definition_id": j.defID,
		"name": fmt.Sprintf("workflow-%d", j.defID), "status": status,
		"created_at": ts(created), "started_at": ts(started), "finished_at": ts(finished)}
}

func (s *Sim) getPipelineJob(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		notFound(w)
		return
	}
	s.mu.Lock()
	j, ok := s.pjobs[id]
	var body map[string]any
	deleted := false
	if ok {
		deleted = s.deletedWF[j.defID]
		body = s.pipelineJobJSON(j, s.opts.Clock.Now())
	}
	s.mu.Unlock()
	switch {
	case ok && deleted:
		writeJSON(w, http.StatusForbidden, map[string]any{"message": "Forbidden"})
	case body == nil:
		notFound(w)
	default:
		writeJSON(w, http.StatusOK, body)
	}
}

// DeleteWorkflow makes reading its jobs answer 403, as TROCCO does.
func (s *Sim) DeleteWorkflow(defID int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.deletedWF[defID] = true
}

func (s *Sim) postPipelineJob(w http.ResponseWriter, r *http.Request) {
	defID, err := strconv.ParseInt(r.URL.Query().Get("pipeline_definition_id"), 10, 64)
	if err != nil {
		badRequest(w, "pipeline_definition_id is required")
		return
	}
	var body struct {
		ContextTime string `json:"context_time"`
		TimeZone    string `json:"time_zone"`
	}
	if b, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20)); len(b) > 0 {
		if err := json.Unmarshal(b, &body); err != nil {
			badRequest(w, "request body is not valid JSON")
			return
		}
	}
	tz := body.TimeZone
	if tz == "" {
		tz = "Asia/Tokyo"
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"message": "time_zone is invalid", "errors": []string{"time_zone: " + tz}})
		return
	}
	if body.ContextTime != "" {
		if _, err := time.ParseInLocation("2006-01-02 15:04:05", body.ContextTime, loc); err != nil {
			writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"message": "context_time is invalid", "errors": []string{"context_time: want YYYY-MM-DD HH:MM:SS"}})
			return
		}
	}
	s.mu.Lock()
	out, ok := s.workflows[defID]
	if !ok || s.deletedWF[defID] {
		s.mu.Unlock()
		notFound(w)
		return
	}
	now := s.opts.Clock.Now()
	s.nextID++
	j := &job{id: s.nextID, defID: defID, start: now, out: out, ctxTime: body.ContextTime, tz: tz, byTrigger: true, sender: senderOf(r)}
	s.pjobs[j.id] = j
	resp := s.pipelineJobJSON(j, now)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, resp)
}

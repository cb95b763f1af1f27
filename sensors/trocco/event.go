package trocco

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/client/troccoapi"
)

// MaxEventBytes is the largest event body ParseEvent reads.
const MaxEventBytes = 1 << 20

// Errors ParseEvent wraps, so the HTTP side can pick 400 or 413.
var (
	ErrBadEvent      = errors.New("bad trocco event")
	ErrEventTooLarge = errors.New("trocco event body over 1 MiB")
)

// Event is one job state change TROCCO pushed to sekisho.
type Event struct {
	Resource sekisho.Resource // trocco_workflow or trocco_job; ID is the definition id
	JobID    string           // decimal
	Status   string           // TROCCO's word as sent, e.g. "succeeded"
	State    sekisho.JobState // Status mapped as the sensor maps it
	Known    bool             // false for a status word sekisho does not know
	// Skipped marks TROCCO's "skipped": State is failed, but an upstream
	// with skipped_is_success reads it as succeeded, which a pushed run
	// cannot carry; the sensor's own read of the job decides instead.
	Skipped bool
	// Test marks the test send of TROCCO's notification screen: job_id
	// 00000 or another placeholder that is no job. It changes no run.
	Test bool
}

// Record remembers a workflow job in the ledger, so the trocco_workflow
// sensor reads it from now on. Transfer jobs need no ledger: they are listed.
func (e Event) Record(ctx context.Context, l sekisho.JobLedger, at time.Time) error {
	if e.Resource.Type != TypeWorkflow {
		return nil
	}
	if err := l.LearnJob(ctx, e.Resource.Key(), e.JobID, at); err != nil {
		return fmt.Errorf("learn trocco workflow job %s: %w", e.JobID, err)
	}
	return nil
}

// ParseEvent reads a pushed event: {"pipeline_definition_id":N,"job_id":N,
// "status":"…"} as JSON, or the same keys as form values or query values
// (TROCCO's notification templates expand variables as text, and its HTTP
// destination can add query parameters). job_definition_id replaces
// pipeline_definition_id for a transfer job. Ids may be numbers or strings.
// A key found in several places is taken from the body first.
func ParseEvent(r *http.Request) (Event, error) {
	vals, err := eventValues(r)
	if err != nil {
		return Event{}, err
	}
	var ev Event
	pdef, hasP := vals["pipeline_definition_id"]
	jdef, hasJ := vals["job_definition_id"]
	switch {
	case hasP && hasJ:
		return Event{}, fmt.Errorf("%w: give pipeline_definition_id (a workflow) or job_definition_id (a transfer job), not both", ErrBadEvent)
	case hasP:
		id, err := positiveID("pipeline_definition_id", pdef)
		if err != nil {
			return Event{}, err
		}
		ev.Resource = sekisho.Resource{Type: TypeWorkflow, ID: id}
	case hasJ:
		id, err := positiveID("job_definition_id", jdef)
		if err != nil {
			return Event{}, err
		}
		ev.Resource = sekisho.Resource{Type: TypeJob, ID: id}
	default:
		return Event{}, fmt.Errorf("%w: missing pipeline_definition_id (or job_definition_id for a transfer job)", ErrBadEvent)
	}
	job, ok := vals["job_id"]
	if !ok {
		return Event{}, fmt.Errorf("%w: missing job_id (TROCCO's $JOB_ID$ variable)", ErrBadEvent)
	}
	if isTestJobID(job) {
		ev.Test = true
		return ev, nil
	}
	if ev.JobID, err = positiveID("job_id", job); err != nil {
		return Event{}, err
	}
	ev.Status = strings.TrimSpace(vals["status"])
	if ev.Status == "" {
		return Event{}, fmt.Errorf("%w: missing status (TROCCO's $JOB_STATUS$ variable)", ErrBadEvent)
	}
	if len(ev.Status) > 64 {
		return Event{}, fmt.Errorf("%w: status is %d bytes long, not a TROCCO status", ErrBadEvent, len(ev.Status))
	}
	ev.State, ev.Known = troccoapi.MapStatus(ev.Status)
	ev.Skipped = troccoapi.Skipped(ev.Status)
	return ev, nil
}

var eventKeys = []string{"pipeline_definition_id", "job_definition_id", "job_id", "status"}

// eventValues merges the event keys from the body (JSON or form) and the
// query string, the body winning.
func eventValues(r *http.Request) (map[string]string, error) {
	out := map[string]string{}
	if r.Body != nil {
		body, err := io.ReadAll(io.LimitReader(r.Body, MaxEventBytes+1))
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) || len(body) > MaxEventBytes {
			return nil, ErrEventTooLarge
		}
		if err != nil {
			return nil, fmt.Errorf("%w: read body: %v", ErrBadEvent, err)
		}
		if err := bodyValues(r.Header.Get("Content-Type"), body, out); err != nil {
			return nil, err
		}
	}
	for _, k := range eventKeys {
		if _, ok := out[k]; ok {
			continue
		}
		if v := r.URL.Query().Get(k); v != "" {
			out[k] = v
		}
	}
	return out, nil
}

func bodyValues(contentType string, body []byte, out map[string]string) error {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return nil
	}
	mt, _, _ := mime.ParseMediaType(contentType)
	isJSON := strings.HasSuffix(mt, "json") || (mt != "application/x-www-form-urlencoded" && trimmed[0] == '{')
	if isJSON {
		dec := json.NewDecoder(bytes.NewReader(trimmed))
		dec.UseNumber()
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			return fmt.Errorf("%w: body is not a JSON object: %v", ErrBadEvent, err)
		}
		if dec.More() {
			return fmt.Errorf("%w: body has data after the JSON object", ErrBadEvent)
		}
		for _, k := range eventKeys {
			v, ok := m[k]
			if !ok || v == nil {
				continue
			}
			switch x := v.(type) {
			case string:
				out[k] = x
			case json.Number:
				out[k] = x.String()
			default:
				return fmt.Errorf("%w: %s must be a number or a string", ErrBadEvent, k)
			}
		}
		return nil
	}
	form, err := url.ParseQuery(string(trimmed))
	if err != nil {
		return fmt.Errorf("%w: body is neither JSON nor form values: %v", ErrBadEvent, err)
	}
	for _, k := range eventKeys {
		if v := form.Get(k); v != "" {
			out[k] = v
		}
	}
	return nil
}

// isTestJobID reports a job_id that TROCCO's test button sends in place of
// a real one: all zeros ("00000"), or a placeholder word of letters with
// no digit. An unexpanded template variable ($JOB_ID$, {{ JOB_ID }}) and a
// malformed number stay errors: a typo in the message should be seen, not
// taken for a test.
func isTestJobID(v string) bool {
	s := strings.TrimSpace(v)
	if s == "" {
		return false
	}
	if strings.Trim(s, "0") == "" {
		return true
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

func positiveID(key, v string) (string, error) {
	s := strings.TrimSpace(v)
	if len(v) > 40 {
		v = v[:40] + "…"
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		if strings.Contains(s, "$") || strings.Contains(s, "{{") {
			return "", fmt.Errorf("%w: %s %q is a template variable TROCCO did not expand; check its spelling in the notification message", ErrBadEvent, key, v)
		}
		return "", fmt.Errorf("%w: %s %q is not a positive integer", ErrBadEvent, key, v)
	}
	return strconv.FormatInt(n, 10), nil
}

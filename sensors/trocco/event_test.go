package trocco_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/sensors/trocco"
)

func TestParseEvent(t *testing.T) {
	wf := sekisho.Resource{Type: trocco.TypeWorkflow, ID: "1234"}
	tests := []struct {
		name        string
		contentType string
		query       string
		body        string
		want        trocco.Event
		wantErr     string
	}{
		{name: "json numbers", contentType: "application/json",
			body: `{"pipeline_definition_id":1234,"job_id":98765,"status":"succeeded"}`,
			want: trocco.Event{Resource: wf, JobID: "98765", Status: "succeeded", State: sekisho.JobSucceeded, Known: true}},
		{name: "json strings from a TROCCO template", contentType: "application/json",
			body: `{"pipeline_definition_id":"1234","job_id":" 98765 ","status":"error"}`,
			want: trocco.Event{Resource: wf, JobID: "98765", Status: "error", State: sekisho.JobFailed, Known: true}},
		{name: "json without content type", body: ` {"pipeline_definition_id":1234,"job_id":5,"status":"canceled"}`,
			want: trocco.Event{Resource: wf, JobID: "5", Status: "canceled", State: sekisho.JobFailed, Known: true}},
		{name: "form", contentType: "application/x-www-form-urlencoded",
			body: "pipeline_definition_id=1234&job_id=5&status=succeeded",
			want: trocco.Event{Resource: wf, JobID: "5", Status: "succeeded", State: sekisho.JobSucceeded, Known: true}},
		{name: "query only", query: "pipeline_definition_id=1234&job_id=5&status=executing",
			want: trocco.Event{Resource: wf, JobID: "5", Status: "executing", State: sekisho.JobRunning, Known: true}},
		{name: "definition in query, job in body", contentType: "application/json", query: "pipeline_definition_id=1234",
			body: `{"job_id":"5","status":"succeeded"}`,
			want: trocco.Event{Resource: wf, JobID: "5", Status: "succeeded", State: sekisho.JobSucceeded, Known: true}},
		{name: "body wins over query", contentType: "application/json", query: "job_id=1",
			body: `{"pipeline_definition_id":1234,"job_id":2,"status":"succeeded"}`,
			want: trocco.Event{Resource: wf, JobID: "2", Status: "succeeded", State: sekisho.JobSucceeded, Known: true}},
		{name: "transfer job", contentType: "application/json",
			body: `{"job_definition_id":"055","job_id":7,"status":"skipped"}`,
			want: trocco.Event{Resource: sekisho.Resource{Type: trocco.TypeJob, ID: "55"}, JobID: "7", Status: "skipped", State: sekisho.JobFailed, Known: true, Skipped: true}},
		{name: "unknown status is running", body: `{"pipeline_definition_id":1,"job_id":7,"status":"warp"}`,
			want: trocco.Event{Resource: sekisho.Resource{Type: trocco.TypeWorkflow, ID: "1"}, JobID: "7", Status: "warp", State: sekisho.JobRunning}},
		{name: "test send 00000", body: `{"pipeline_definition_id":1234,"job_id":"00000","status":"succeeded"}`,
			want: trocco.Event{Resource: wf, Test: true}},
		{name: "test send as a number", body: `{"job_definition_id":55,"job_id":0,"status":"x"}`,
			want: trocco.Event{Resource: sekisho.Resource{Type: trocco.TypeJob, ID: "55"}, Test: true}},
		{name: "test send placeholder word", body: `{"pipeline_definition_id":1234,"job_id":"JOB_ID","status":"STATUS"}`,
			want: trocco.Event{Resource: wf, Test: true}},
		{name: "unexpanded variable is no test", body: `{"pipeline_definition_id":1234,"job_id":"$JOB_IDD$","status":"succeeded"}`,
			wantErr: "template variable TROCCO did not expand"},
		{name: "missing definition", body: `{"job_id":7,"status":"succeeded"}`, wantErr: "missing pipeline_definition_id"},
		{name: "both definitions", body: `{"pipeline_definition_id":1,"job_definition_id":2,"job_id":7,"status":"succeeded"}`, wantErr: "not both"},
		{name: "missing job id", body: `{"pipeline_definition_id":1,"status":"succeeded"}`, wantErr: "missing job_id"},
		{name: "malformed job id", body: `{"pipeline_definition_id":1,"job_id":"12a","status":"succeeded"}`, wantErr: `job_id "12a" is not a positive integer`},
		{name: "unexpanded variable", body: `{"pipeline_definition_id":1,"job_id":"$JOB_ID$","status":"succeeded"}`, wantErr: "did not expand"},
		{name: "negative id", body: `{"pipeline_definition_id":-1,"job_id":2,"status":"succeeded"}`, wantErr: "not a positive integer"},
		{name: "fraction", body: `{"pipeline_definition_id":1.5,"job_id":2,"status":"succeeded"}`, wantErr: "not a positive integer"},
		{name: "object id", body: `{"pipeline_definition_id":{},"job_id":2,"status":"succeeded"}`, wantErr: "must be a number or a string"},
		{name: "missing status", body: `{"pipeline_definition_id":1,"job_id":2}`, wantErr: "missing status"},
		{name: "bad json", contentType: "application/json", body: `{"pipeline_definition_id":1,`, wantErr: "not a JSON object"},
		{name: "trailing data", contentType: "application/json", body: `{"job_id":1} {}`, wantErr: "after the JSON object"},
		{name: "empty", wantErr: "missing pipeline_definition_id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/api/v1/events/trocco?"+tt.query, strings.NewReader(tt.body))
			if tt.contentType != "" {
				r.Header.Set("Content-Type", tt.contentType)
			}
			got, err := trocco.ParseEvent(r)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.Is(err, trocco.ErrBadEvent) {
					t.Fatalf("err %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

func TestParseEventTooLarge(t *testing.T) {
	body := `{"pipeline_definition_id":1,"job_id":2,"status":"succeeded","pad":"` + strings.Repeat("x", trocco.MaxEventBytes) + `"}`
	r := httptest.NewRequest(http.MethodPost, "/api/v1/events/trocco", strings.NewReader(body))
	if _, err := trocco.ParseEvent(r); !errors.Is(err, trocco.ErrEventTooLarge) {
		t.Fatalf("err %v", err)
	}
}

func TestEventRecordLearnsWorkflowJobs(t *testing.T) {
	l := newLedger()
	ctx := context.Background()
	at := time.Date(2026, 3, 2, 2, 0, 0, 0, time.UTC)
	wfEv := trocco.Event{Resource: sekisho.Resource{Type: trocco.TypeWorkflow, ID: "1234"}, JobID: "5"}
	jobEv := trocco.Event{Resource: sekisho.Resource{Type: trocco.TypeJob, ID: "55"}, JobID: "6"}
	if err := wfEv.Record(ctx, l, at); err != nil {
		t.Fatal(err)
	}
	if err := jobEv.Record(ctx, l, at); err != nil {
		t.Fatal(err)
	}
	got, _ := l.LearnedJobs(ctx, "trocco_workflow:1234", at)
	none, _ := l.LearnedJobs(ctx, "trocco_job:55", at)
	if len(got) != 1 || got[0] != "5" || len(none) != 0 {
		t.Fatalf("learned %v and %v", got, none)
	}
}

func FuzzParseEvent(f *testing.F) {
	f.Add("application/json", "", `{"pipeline_definition_id":1234,"job_id":98765,"status":"succeeded"}`)
	f.Add("application/x-www-form-urlencoded", "", "pipeline_definition_id=1&job_id=2&status=error")
	f.Add("", "job_definition_id=5&job_id=6&status=skipped", "")
	f.Add("text/plain", "pipeline_definition_id=1", `{"job_id":"$JOB_ID$","status":"x"}`)
	f.Fuzz(func(t *testing.T, contentType, query, body string) {
		r := httptest.NewRequest(http.MethodPost, "/api/v1/events/trocco", strings.NewReader(body))
		r.URL.RawQuery = query
		r.Header.Set("Content-Type", contentType)
		ev, err := trocco.ParseEvent(r)
		if err != nil {
			if !errors.Is(err, trocco.ErrBadEvent) && !errors.Is(err, trocco.ErrEventTooLarge) {
				t.Fatalf("unclassified error %v", err)
			}
			return
		}
		if ev.Resource.Type != trocco.TypeWorkflow && ev.Resource.Type != trocco.TypeJob {
			t.Fatalf("resource %+v", ev.Resource)
		}
		if ev.Test {
			// TROCCO's test send carries no job: nothing of it may reach a run.
			if ev.JobID != "" || ev.Status != "" {
				t.Fatalf("test send with a job: %+v", ev)
			}
			return
		}
		for _, id := range []string{ev.Resource.ID, ev.JobID} {
			if id == "" || id[0] == '0' || id[0] == '-' || id[0] == '+' {
				t.Fatalf("id %q is not canonical", id)
			}
		}
		if ev.Status == "" || (ev.State != sekisho.JobRunning && !ev.State.Ended()) {
			t.Fatalf("event %+v", ev)
		}
	})
}

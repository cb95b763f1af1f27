package glue_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/sensors/glue"
)

// sampleEvent is shaped like the example in the Glue documentation.
const sampleEvent = `{
  "version": "0",
  "id": "abcdef00-1234-5678-9abc-def012345678",
  "detail-type": "Glue Job State Change",
  "source": "aws.glue",
  "account": "123456789012",
  "time": "2025-03-10T01:57:21Z",
  "region": "ap-northeast-1",
  "resources": [],
  "detail": {
    "jobName": "hegel-rds-export",
    "severity": "ERROR",
    "state": "FAILED",
    "jobRunId": "jr_123456789abcdef0",
    "message": "Command failed with exit code 1"
  }
}`

func event(detailType, source, tm, detail string) string {
	return `{"detail-type":"` + detailType + `","source":"` + source + `","time":"` + tm + `","detail":` + detail + `}`
}

func TestParseEvent(t *testing.T) {
	job, run, err := glue.ParseEvent([]byte(sampleEvent))
	if err != nil {
		t.Fatal(err)
	}
	want := sekisho.JobRun{ExternalID: "jr_123456789abcdef0", State: sekisho.JobFailed,
		FinishedAt: time.Date(2025, 3, 10, 1, 57, 21, 0, time.UTC), Message: "Command failed with exit code 1"}
	if job != "hegel-rds-export" || run != want {
		t.Errorf("got %q %+v, want %+v", job, run, want)
	}
	if !run.StartedAt.IsZero() {
		t.Error("an event cannot know the start time")
	}
}

func TestParseEventStates(t *testing.T) {
	tests := []struct {
		state string
		want  sekisho.JobState
	}{
		{"SUCCEEDED", sekisho.JobSucceeded},
		{"FAILED", sekisho.JobFailed},
		{"TIMEOUT", sekisho.JobFailed},
		{"STOPPED", sekisho.JobFailed},
	}
	for _, tt := range tests {
		t.Run(tt.state, func(t *testing.T) {
			body := event("Glue Job State Change", "aws.glue", "2025-03-10T01:00:00Z",
				`{"jobName":"j","jobRunId":"jr_1","state":"`+tt.state+`","severity":"INFO","message":"m"}`)
			_, run, err := glue.ParseEvent([]byte(body))
			if err != nil || run.State != tt.want {
				t.Errorf("got %v %v, want %s", run.State, err, tt.want)
			}
		})
	}
}

func TestParseEventRejects(t *testing.T) {
	okDetail := `{"jobName":"j","jobRunId":"jr_1","state":"SUCCEEDED"}`
	tests := []struct {
		name, body, want string
	}{
		{"not json", `{"detail-type":`, "bad json"},
		{"wrong detail-type", event("Glue Crawler State Change", "aws.glue", "2025-03-10T01:00:00Z", okDetail), "detail-type"},
		{"wrong source", event("Glue Job State Change", "aws.s3", "2025-03-10T01:00:00Z", okDetail), "source"},
		{"no detail", `{"detail-type":"Glue Job State Change","source":"aws.glue","time":"2025-03-10T01:00:00Z"}`, "missing detail"},
		{"no job name", event("Glue Job State Change", "aws.glue", "2025-03-10T01:00:00Z", `{"jobRunId":"jr_1","state":"FAILED"}`), "jobName"},
		{"no run id", event("Glue Job State Change", "aws.glue", "2025-03-10T01:00:00Z", `{"jobName":"j","state":"FAILED"}`), "jobRunId"},
		{"no state", event("Glue Job State Change", "aws.glue", "2025-03-10T01:00:00Z", `{"jobName":"j","jobRunId":"jr_1"}`), "detail.state"},
		{"running state", event("Glue Job State Change", "aws.glue", "2025-03-10T01:00:00Z", `{"jobName":"j","jobRunId":"jr_1","state":"RUNNING"}`), "not a finished"},
		{"unknown state", event("Glue Job State Change", "aws.glue", "2025-03-10T01:00:00Z", `{"jobName":"j","jobRunId":"jr_1","state":"MELTED"}`), "not a finished"},
		{"no time", event("Glue Job State Change", "aws.glue", "", okDetail), "missing time"},
		{"bad time", event("Glue Job State Change", "aws.glue", "yesterday", okDetail), "RFC 3339"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := glue.ParseEvent([]byte(tt.body))
			if !errors.Is(err, glue.ErrBadEvent) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want ErrBadEvent mentioning %q", err, tt.want)
			}
		})
	}
}

func FuzzParseEvent(f *testing.F) {
	f.Add([]byte(sampleEvent))
	f.Add([]byte(event("Glue Job State Change", "aws.glue", "2025-03-10T01:00:00+09:00", `{"jobName":"j","jobRunId":"jr_1","state":"SUCCEEDED"}`)))
	f.Add([]byte(`{}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, body []byte) {
		job, run, err := glue.ParseEvent(body)
		if err != nil {
			if !errors.Is(err, glue.ErrBadEvent) {
				t.Fatalf("error without ErrBadEvent: %v", err)
			}
			return
		}
		if job == "" || run.ExternalID == "" || !run.State.Ended() || run.FinishedAt.IsZero() ||
			run.FinishedAt.Location() != time.UTC || !run.StartedAt.IsZero() {
			t.Fatalf("accepted an incomplete event: %q %+v", job, run)
		}
	})
}

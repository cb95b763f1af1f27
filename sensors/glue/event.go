package glue

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/sekisho-dev/sekisho"
)

// EventBridge names of the Glue job state change event.
const (
	EventDetailType = "Glue Job State Change"
	EventSource     = "aws.glue"
)

// ErrBadEvent marks a body that is not a usable Glue job state change event.
var ErrBadEvent = errors.New("not a glue job state change event")

type event struct {
	DetailType string `json:"detail-type"`
	Source     string `json:"source"`
	Time       string `json:"time"`
	Detail     *struct {
		JobName  string `json:"jobName"`
		JobRunID string `json:"jobRunId"`
		State    string `json:"state"`
		Severity string `json:"severity"`
		Message  string `json:"message"`
	} `json:"detail"`
}

// ParseEvent reads an EventBridge "Glue Job State Change" event, which Glue
// sends only when a run ends (SUCCEEDED, FAILED, TIMEOUT, STOPPED). The
// event's time is the finish time; the start time is not in the event, so
// StartedAt stays zero and the engine treats an event run as the newest run
// of the job. Polling stays the source of truth: events only speed it up.
func ParseEvent(body []byte) (jobName string, run sekisho.JobRun, err error) {
	var ev event
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&ev); err != nil {
		return "", sekisho.JobRun{}, fmt.Errorf("%w: bad json: %v", ErrBadEvent, err)
	}
	// EventBridge posts one event per request: anything after it is a
	// broken or smuggled body, not a second event to half-apply.
	if _, err := dec.Token(); err != io.EOF {
		return "", sekisho.JobRun{}, fmt.Errorf("%w: unexpected data after the event; post one event per request", ErrBadEvent)
	}
	if ev.DetailType != EventDetailType || ev.Source != EventSource {
		return "", sekisho.JobRun{}, fmt.Errorf("%w: got detail-type %q from source %q; the EventBridge rule should match source aws.glue and detail-type %q",
			ErrBadEvent, ev.DetailType, ev.Source, EventDetailType)
	}
	d := ev.Detail
	switch {
	case d == nil:
		return "", sekisho.JobRun{}, fmt.Errorf("%w: missing detail", ErrBadEvent)
	case d.JobName == "":
		return "", sekisho.JobRun{}, fmt.Errorf("%w: missing detail.jobName", ErrBadEvent)
	case d.JobRunID == "":
		return "", sekisho.JobRun{}, fmt.Errorf("%w: missing detail.jobRunId", ErrBadEvent)
	case d.State == "":
		return "", sekisho.JobRun{}, fmt.Errorf("%w: missing detail.state", ErrBadEvent)
	case ev.Time == "":
		return "", sekisho.JobRun{}, fmt.Errorf("%w: missing time", ErrBadEvent)
	}
	at, err := time.Parse(time.RFC3339, ev.Time)
	if err != nil {
		return "", sekisho.JobRun{}, fmt.Errorf("%w: time %q is not RFC 3339", ErrBadEvent, ev.Time)
	}
	state, known := JobRunState(d.State)
	if !known || !state.Ended() {
		return "", sekisho.JobRun{}, fmt.Errorf("%w: state %q is not a finished job run state", ErrBadEvent, d.State)
	}
	return d.JobName, sekisho.JobRun{
		ExternalID: d.JobRunID,
		State:      state,
		FinishedAt: at.UTC(),
		Message:    d.Message,
	}, nil
}

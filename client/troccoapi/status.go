package troccoapi

import (
	"strings"

	"github.com/sekisho-dev/sekisho"
)

// MapStatus maps a TROCCO job or workflow job status to a job state
// (SPEC §5). known is false for a word TROCCO did not document; such a job
// counts as running, so a new status never fails a pipeline by surprise.
func MapStatus(status string) (state sekisho.JobState, known bool) {
	switch strings.ToLower(strings.TrimSpace(status)) {
	case "succeeded", "skipped":
		return sekisho.JobSucceeded, true
	case "error", "canceled", "failed": // "failed" is what transfer notifications say
		return sekisho.JobFailed, true
	case "queued", "setting_up", "executing", "interrupting", "retry_waiting", "running":
		return sekisho.JobRunning, true
	}
	return sekisho.JobRunning, false
}

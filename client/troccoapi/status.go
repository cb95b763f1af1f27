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
	case "succeeded":
		return sekisho.JobSucceeded, true
	case "error", "canceled", "failed", // "failed" is what transfer notifications say
		"skipped": // did not run: no fresh data (Skipped; skipped_is_success)
		return sekisho.JobFailed, true
	case "queued", "setting_up", "executing", "interrupting", "retry_waiting", "running":
		return sekisho.JobRunning, true
	}
	return sekisho.JobRunning, false
}

// SkippedMessage is the reason a skipped TROCCO job gives its upstream.
const SkippedMessage = "skipped by TROCCO"

// Skipped reports whether status is TROCCO's "skipped": the job was not
// run (its definition skips a run while another is in progress). MapStatus
// counts it as failed; an upstream with skipped_is_success reads it as
// succeeded.
func Skipped(status string) bool {
	return strings.EqualFold(strings.TrimSpace(status), "skipped")
}

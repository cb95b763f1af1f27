package engine

import (
	"testing"

	"github.com/sekisho-dev/sekisho"
)

func TestNextTable(t *testing.T) {
	wait := Policy{}
	fail := Policy{FailOnUpstreamFailure: true}
	tests := []struct {
		name   string
		from   sekisho.State
		ev     Event
		policy Policy
		to     sekisho.State // empty: not allowed
	}{
		{"upstream fails, wait", sekisho.StateWaiting, EvUpstreamFailed, wait, sekisho.StateBlocked},
		{"upstream fails, fail", sekisho.StateWaiting, EvUpstreamFailed, fail, sekisho.StateFailed},
		{"still blocked", sekisho.StateBlocked, EvUpstreamFailed, wait, sekisho.StateBlocked},
		{"rerun succeeds", sekisho.StateBlocked, EvUpstreamRecovered, wait, sekisho.StateWaiting},
		{"gate-only done", sekisho.StateWaiting, EvGateOnlyMet, wait, sekisho.StateSucceeded},
		{"trigger accepted", sekisho.StateWaiting, EvTriggerAccepted, wait, sekisho.StateTriggered},
		{"trigger rejected", sekisho.StateWaiting, EvTriggerRejected, wait, sekisho.StateFailed},
		{"waiting times out", sekisho.StateWaiting, EvTimeout, wait, sekisho.StateTimedOut},
		{"blocked times out", sekisho.StateBlocked, EvTimeout, wait, sekisho.StateTimedOut},
		{"dag running", sekisho.StateTriggered, EvDownstreamRunning, wait, sekisho.StateRunning},
		{"dag fails before running", sekisho.StateTriggered, EvDownstreamFailed, wait, sekisho.StateFailed},
		{"dag succeeds", sekisho.StateRunning, EvDownstreamSuccess, wait, sekisho.StateSucceeded},
		{"dag fails", sekisho.StateRunning, EvDownstreamFailed, wait, sekisho.StateFailed},
		{"rerun succeeded", sekisho.StateSucceeded, EvOperatorRerun, wait, sekisho.StateWaiting},
		{"rerun failed", sekisho.StateFailed, EvOperatorRerun, wait, sekisho.StateWaiting},
		{"rerun timed out", sekisho.StateTimedOut, EvOperatorRerun, wait, sekisho.StateWaiting},
		{"rerun skipped", sekisho.StateSkipped, EvOperatorRerun, wait, sekisho.StateWaiting},
		{"skip waiting", sekisho.StateWaiting, EvOperatorSkip, wait, sekisho.StateSkipped},
		{"skip running", sekisho.StateRunning, EvOperatorSkip, wait, sekisho.StateSkipped},
		{"skip failed", sekisho.StateFailed, EvOperatorSkip, wait, sekisho.StateSkipped},
		// Forbidden.
		{"no rerun while waiting", sekisho.StateWaiting, EvOperatorRerun, wait, ""},
		{"no rerun while running", sekisho.StateRunning, EvOperatorRerun, wait, ""},
		{"no skip of a success", sekisho.StateSucceeded, EvOperatorSkip, wait, ""},
		{"no skip twice", sekisho.StateSkipped, EvOperatorSkip, wait, ""},
		{"blocked cannot trigger", sekisho.StateBlocked, EvTriggerAccepted, wait, ""},
		{"blocked cannot finish gate-only", sekisho.StateBlocked, EvGateOnlyMet, wait, ""},
		{"triggered does not time out", sekisho.StateTriggered, EvTimeout, wait, ""},
		{"running does not time out", sekisho.StateRunning, EvTimeout, wait, ""},
		{"triggered cannot succeed unseen", sekisho.StateTriggered, EvDownstreamSuccess, wait, ""},
		{"success is final", sekisho.StateSucceeded, EvDownstreamFailed, wait, ""},
		{"failed is final", sekisho.StateFailed, EvUpstreamRecovered, wait, ""},
		{"timed out is final", sekisho.StateTimedOut, EvTriggerAccepted, wait, ""},
		{"waiting has no downstream", sekisho.StateWaiting, EvDownstreamRunning, wait, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Next(tt.from, tt.ev, tt.policy)
			if tt.to == "" {
				if err == nil {
					t.Fatalf("Next(%s, %s) = %s, want refused", tt.from, tt.ev, got)
				}
				return
			}
			if err != nil || got != tt.to {
				t.Fatalf("Next(%s, %s) = %s, %v; want %s", tt.from, tt.ev, got, err, tt.to)
			}
		})
	}
}

func TestValidPath(t *testing.T) {
	tr := func(from, to sekisho.State) sekisho.Transition { return sekisho.Transition{From: from, To: to} }
	good := []sekisho.Transition{tr("", "waiting"), tr("waiting", "blocked"), tr("blocked", "waiting"),
		tr("waiting", "triggered"), tr("triggered", "running"), tr("running", "failed"), tr("failed", "waiting"),
		tr("waiting", "triggered"), tr("triggered", "running"), tr("running", "succeeded")}
	if err := ValidPath(good); err != nil {
		t.Fatal(err)
	}
	bad := [][]sekisho.Transition{
		{tr("waiting", "blocked")},                                                    // no gate
		{tr("", "waiting"), tr("blocked", "waiting")},                                 // discontinuous
		{tr("", "waiting"), tr("waiting", "running")},                                 // skips triggered
		{tr("", "waiting"), tr("waiting", "waiting")},                                 // repeated
		{tr("", "waiting"), tr("waiting", "triggered"), tr("triggered", "succeeded")}, // skips running
	}
	for i, b := range bad {
		if err := ValidPath(b); err == nil {
			t.Errorf("bad path %d accepted", i)
		}
	}
}

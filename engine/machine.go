// Package engine is the gate: it opens each pipeline's gate on its schedule,
// watches the upstreams through shared polling, triggers the downstream once
// per attempt, follows it to the end, and writes every state change to the
// store. It is level-triggered: the store holds the truth, and a pass takes
// the one next step of each open run from what is stored and observed, so a
// crash at any point is repaired by the next pass. For speed the loop keeps
// a copy of the open runs (read again whenever the store may have changed
// behind it) and looks at the runs something happened to, and at every open
// run once a minute. Each open run has one record (record.go); decide
// (decide.go) is the judgement as a pure function, and exec (exec.go)
// carries out its steps. docs/architecture.md walks through them.
package engine

import (
	"fmt"

	"github.com/sekisho-dev/sekisho"
)

// Event is something that happened to a run; the state machine decides what
// it means for the run's state.
type Event string

// Events of the run state machine (SPEC §4).
const (
	EvUpstreamFailed    Event = "upstream_failed"    // the condition cannot hold without an upstream rerun
	EvUpstreamRecovered Event = "upstream_recovered" // no longer blocked
	EvGateOnlyMet       Event = "gate_only_met"      // condition holds; nothing to trigger
	EvTimeout           Event = "timeout"
	EvTriggerAccepted   Event = "trigger_accepted"
	EvTriggerRejected   Event = "trigger_rejected"
	EvDownstreamRunning Event = "downstream_running"
	EvDownstreamSuccess Event = "downstream_success"
	EvDownstreamFailed  Event = "downstream_failed"
	EvOperatorRerun     Event = "operator_rerun"
	EvOperatorSkip      Event = "operator_skip"
)

// Policy is the part of a pipeline's config that the machine needs.
type Policy struct {
	FailOnUpstreamFailure bool // on_upstream_failure: fail
}

// Next is the run state machine as a pure function: the state a run in
// state from moves to on ev, or an error if ev is not allowed there.
// Staying in the same state is reported as ok with to == from.
func Next(from sekisho.State, ev Event, p Policy) (sekisho.State, error) {
	to, ok := next(from, ev, p)
	if !ok {
		return from, fmt.Errorf("engine: %s is not allowed in state %s", ev, from)
	}
	return to, nil
}

func next(from sekisho.State, ev Event, p Policy) (sekisho.State, bool) {
	switch ev {
	case EvOperatorRerun:
		if from.Terminal() {
			return sekisho.StateWaiting, true
		}
	case EvOperatorSkip:
		if from != sekisho.StateSucceeded && from != sekisho.StateSkipped {
			return sekisho.StateSkipped, true
		}
	}
	switch from {
	case sekisho.StateWaiting:
		switch ev {
		case EvUpstreamFailed:
			if p.FailOnUpstreamFailure {
				return sekisho.StateFailed, true
			}
			return sekisho.StateBlocked, true
		case EvGateOnlyMet:
			return sekisho.StateSucceeded, true
		case EvTriggerAccepted:
			return sekisho.StateTriggered, true
		case EvTriggerRejected:
			return sekisho.StateFailed, true
		case EvTimeout:
			return sekisho.StateTimedOut, true
		}
	case sekisho.StateBlocked:
		switch ev {
		case EvUpstreamFailed:
			return sekisho.StateBlocked, true
		case EvUpstreamRecovered:
			return sekisho.StateWaiting, true
		case EvTimeout:
			return sekisho.StateTimedOut, true
		}
	case sekisho.StateTriggered:
		switch ev {
		case EvDownstreamRunning:
			return sekisho.StateRunning, true
		case EvDownstreamFailed:
			return sekisho.StateFailed, true
		}
	case sekisho.StateRunning:
		switch ev {
		case EvDownstreamRunning:
			return sekisho.StateRunning, true
		case EvDownstreamSuccess:
			return sekisho.StateSucceeded, true
		case EvDownstreamFailed:
			return sekisho.StateFailed, true
		}
	}
	return from, false
}

// ValidPath reports whether a run's transition history is a path through the
// state machine: it starts at the gate, each step starts where the last one
// ended, and each step is one the machine allows for some event. Chaos tests
// and the store's consumers use it to check that no transition was lost.
func ValidPath(trs []sekisho.Transition) error {
	var at sekisho.State
	for i, t := range trs {
		if i == 0 {
			if t.From != "" || t.To != sekisho.StateWaiting {
				return fmt.Errorf("transition 1: want gate opening to waiting, got %q -> %q", t.From, t.To)
			}
			at = t.To
			continue
		}
		if t.From != at {
			return fmt.Errorf("transition %d: from %s, but the run was %s", i+1, t.From, at)
		}
		if t.From == t.To {
			return fmt.Errorf("transition %d: %s -> %s changes nothing", i+1, t.From, t.To)
		}
		if !stepAllowed(t.From, t.To) {
			return fmt.Errorf("transition %d: %s -> %s is not a step of the state machine", i+1, t.From, t.To)
		}
		at = t.To
	}
	return nil
}

var allEvents = []Event{EvUpstreamFailed, EvUpstreamRecovered, EvGateOnlyMet, EvTimeout,
	EvTriggerAccepted, EvTriggerRejected, EvDownstreamRunning, EvDownstreamSuccess, EvDownstreamFailed,
	EvOperatorRerun, EvOperatorSkip}

func stepAllowed(from, to sekisho.State) bool {
	for _, ev := range allEvents {
		for _, fail := range []bool{false, true} {
			if got, ok := next(from, ev, Policy{FailOnUpstreamFailure: fail}); ok && got == to {
				return true
			}
		}
	}
	return false
}

package gluesim

import (
	"maps"
	mrand "math/rand/v2"
	"time"

	"github.com/sekisho-dev/sekisho"
)

// Faults makes the simulator misbehave like a busy AWS endpoint. Rates are
// shares of requests in [0,1]; they add up, checked in this order.
type Faults struct {
	ErrorRate     float64       // HTTP 500 InternalServiceException
	ThrottleRate  float64       // HTTP 400 ThrottlingException "Rate exceeded"
	MalformedRate float64       // HTTP 200 with a truncated JSON body
	Latency       time.Duration // added to every request, in real time
	Seed          uint64        // same seed, same sequence of faults
}

// SetFaults replaces the fault profile and reseeds the random source, so a
// run with the same seed and requests sees the same faults.
func (s *Sim) SetFaults(f Faults) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = f
	s.rng = mrand.New(mrand.NewPCG(f.Seed, f.Seed^0x9e3779b97f4a7c15))
}

type fault int

const (
	faultNone fault = iota
	faultError
	faultThrottle
	faultMalformed
)

// draw picks this request's fault; callers hold s.mu.
func (s *Sim) draw() fault {
	f := s.faults
	if f.ErrorRate+f.ThrottleRate+f.MalformedRate <= 0 {
		return faultNone
	}
	x := s.rng.Float64()
	switch {
	case x < f.ErrorRate:
		return faultError
	case x < f.ErrorRate+f.ThrottleRate:
		return faultThrottle
	case x < f.ErrorRate+f.ThrottleRate+f.MalformedRate:
		return faultMalformed
	}
	return faultNone
}

// Stats counts the requests the simulator received.
type Stats struct {
	Total int
	// ByTarget counts by operation: "GetJobRuns", "GetWorkflowRuns", …
	ByTarget map[string]int
	// ByResource counts by sekisho resource key: "glue_job:<name>",
	// "glue_workflow:<name>", so a benchmark can count requests per poke
	// cycle and per upstream.
	ByResource map[string]int
	Faults     int // requests answered with an injected fault
	Rejected   int // requests refused for authentication
}

func (st *Stats) reset() {
	*st = Stats{ByTarget: map[string]int{}, ByResource: map[string]int{}}
}

func (st Stats) clone() Stats {
	st.ByTarget = maps.Clone(st.ByTarget)
	st.ByResource = maps.Clone(st.ByResource)
	return st
}

// Requests returns a snapshot of the request counters.
func (s *Sim) Requests() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats.clone()
}

// ResetRequests zeroes the request counters.
func (s *Sim) ResetRequests() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats.reset()
}

func resourceKey(typ, id string) string { return sekisho.Resource{Type: typ, ID: id}.Key() }

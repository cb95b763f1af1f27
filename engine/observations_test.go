package engine

import (
	"testing"

	"github.com/sekisho-dev/sekisho"
)

// TestObservationsKeepOnePerUpstream: a run's recorded observations hold
// the last one of each upstream, sized for the run's upstreams at the
// first record, and forget drops only the named one.
func TestObservationsKeepOnePerUpstream(t *testing.T) {
	var os observations
	if _, ok := os.get("a"); ok {
		t.Fatal("an empty record has a")
	}
	os.put(sekisho.Observation{Upstream: "a", State: sekisho.JobRunning}, 3)
	os.put(sekisho.Observation{Upstream: "b", State: sekisho.JobPending}, 3)
	os.put(sekisho.Observation{Upstream: "a", State: sekisho.JobSucceeded}, 3)
	if len(os) != 2 || cap(os) != 3 {
		t.Fatalf("len %d cap %d, want 2 of 3", len(os), cap(os))
	}
	if o, ok := os.get("a"); !ok || o.State != sekisho.JobSucceeded {
		t.Errorf("a = %+v, want the later observation", o)
	}
	os.forget("a")
	if _, ok := os.get("a"); ok {
		t.Error("a kept after forget")
	}
	if o, ok := os.get("b"); !ok || o.State != sekisho.JobPending {
		t.Errorf("b = %+v after forgetting a", o)
	}
}

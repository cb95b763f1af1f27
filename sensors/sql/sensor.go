// Package sql is the sekisho sensor for data-quality checks: a query on a
// warehouse whose first value says whether the day's data is in (SPEC §15,
// like Airflow's SqlSensor). True or a number above zero is succeeded,
// anything else pending; a query error is the check's error and never makes
// the upstream failed. A numeric answer travels as the run's Value, so the
// engine can hold it against the upstream's expectations (SPEC §21); a new
// value is a new check run, dated from when it was first seen. The engine's shared polling runs one query per
// distinct (warehouse, rendered query) per interval: the resource is
// exactly that pair.
package sql

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/policy/expect"
	"github.com/sekisho-dev/sekisho/warehouse"
)

// Messages of the observation, shown on the board.
const (
	msgPassed  = "the check query returned true"
	msgPending = "the check query returned false, zero or no row: waiting for the data"
)

// Sensor runs check queries. It is safe for concurrent use.
type Sensor struct {
	clients map[string]warehouse.Client
	clock   clockwork.Clock

	mu     sync.Mutex
	seen   map[string]outcome // resource key → the outcome and since when
	pruned time.Time
}

type outcome struct {
	state sekisho.JobState
	value *float64
	since time.Time
	used  time.Time // last check: a day's rendered query is not asked again after its run closes
}

// forgetAfter drops what the sensor remembers of a query not checked for
// this long, so yesterday's rendered queries do not pile up.
const forgetAfter = 48 * time.Hour

var _ sekisho.Sensor = (*Sensor)(nil)

// New returns a sensor over the named warehouse clients.
func New(clients map[string]warehouse.Client, clock clockwork.Clock) *Sensor {
	if clock == nil {
		clock = clockwork.NewRealClock()
	}
	return &Sensor{clients: clients, clock: clock, seen: map[string]outcome{}}
}

// Runs runs the resource's query (r.Connection names the warehouse, r.ID is
// the rendered query) and reports one run: succeeded or pending, dated from
// when the check first gave that answer, so an unchanged answer is an
// unchanged observation.
func (s *Sensor) Runs(ctx context.Context, r sekisho.Resource, _ time.Time) ([]sekisho.JobRun, error) {
	if r.Type != config.TypeSQL {
		return nil, fmt.Errorf("sql sensor: resource type %q is not sql", r.Type)
	}
	c, ok := s.clients[r.Connection]
	if !ok {
		return nil, fmt.Errorf("sql sensor: no warehouse %q is configured", r.Connection)
	}
	res, err := c.Check(ctx, r.ID)
	if err != nil {
		return nil, fmt.Errorf("check query on %s: %w", r.Connection, err)
	}
	now := s.clock.Now()
	state, msg := sekisho.JobPending, msgPending
	if res.Passed {
		state, msg = sekisho.JobSucceeded, msgPassed
	}
	if res.Value != nil {
		msg = "the check query returned " + expect.Format(*res.Value)
		if !res.Passed {
			msg += ": waiting for the data"
		}
	}
	s.mu.Lock()
	o, ok := s.seen[r.Key()]
	if !ok || o.state != state || !sameValue(o.value, res.Value) {
		o = outcome{state: state, value: res.Value, since: now}
	}
	o.used = now
	s.seen[r.Key()] = o
	if now.Sub(s.pruned) > time.Hour {
		s.pruned = now
		for k, v := range s.seen {
			if now.Sub(v.used) > forgetAfter {
				delete(s.seen, k)
			}
		}
	}
	s.mu.Unlock()
	run := sekisho.JobRun{ExternalID: "check@" + o.since.UTC().Format(time.RFC3339), State: state,
		StartedAt: o.since, Message: msg, Value: o.value}
	if res.Passed {
		run.FinishedAt = o.since
	}
	return []sekisho.JobRun{run}, nil
}

func sameValue(a, b *float64) bool {
	return (a == nil) == (b == nil) && (a == nil || *a == *b)
}

// Close closes the warehouse connections; the daemon calls it when a
// reload replaced the sensor.
func (s *Sensor) Close() error {
	warehouse.CloseAll(s.clients)
	return nil
}

// Package fastclock is a clockwork.Clock on which time runs a fixed number
// of times faster than the wall clock. It exists so that the real daemon
// binary, killed and restarted many times, lives through several simulated
// days in a minute: simulated time is a pure function of two epochs and a
// speed, so every process given the same three values (the daemon after
// each restart, the simulators in the test process) agrees on the time.
package fastclock

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jonboulle/clockwork"
)

// minWait is the shortest real wait of a timer: below it a sped-up poll
// loop would spin.
const minWait = time.Millisecond

// Clock runs Speed times faster than the wall clock: at the real instant
// RealEpoch it reads SimEpoch.
type Clock struct {
	SimEpoch  time.Time
	RealEpoch time.Time
	Speed     float64
}

var _ clockwork.Clock = (*Clock)(nil)

// New returns a clock that reads sim at the real instant real and then runs
// speed times faster than the wall clock. speed must be positive.
func New(sim, real time.Time, speed float64) (*Clock, error) {
	if !(speed > 0) {
		return nil, fmt.Errorf("clock speed %v: want a positive number", speed)
	}
	// Drop monotonic readings: another process computes from the same
	// wall-clock values and must get the same answer.
	return &Clock{SimEpoch: sim.Round(0), RealEpoch: real.Round(0), Speed: speed}, nil
}

// Now is SimEpoch + (wall now - RealEpoch) × Speed.
func (c *Clock) Now() time.Time { return c.at(time.Now()) }

// at is the simulated time at the real instant real.
func (c *Clock) at(real time.Time) time.Time {
	elapsed := real.Round(0).Sub(c.RealEpoch)
	return c.SimEpoch.Add(time.Duration(float64(elapsed) * c.Speed))
}

// Real is the real duration that simulated duration d takes: d / Speed,
// never less than a millisecond for a positive d.
func (c *Clock) Real(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	r := time.Duration(float64(d) / c.Speed)
	if r < minWait {
		r = minWait
	}
	return r
}

// Since is the simulated time elapsed since t.
func (c *Clock) Since(t time.Time) time.Duration { return c.Now().Sub(t) }

// Until is the simulated time left until t.
func (c *Clock) Until(t time.Time) time.Duration { return t.Sub(c.Now()) }

// Sleep blocks for simulated duration d.
func (c *Clock) Sleep(d time.Duration) { time.Sleep(c.Real(d)) }

// After delivers the simulated time once simulated duration d has passed.
func (c *Clock) After(d time.Duration) <-chan time.Time { return c.NewTimer(d).Chan() }

// NewTimer is a timer that fires after simulated duration d.
func (c *Clock) NewTimer(d time.Duration) clockwork.Timer {
	t := &timer{c: c, ch: make(chan time.Time, 1)}
	t.t = time.AfterFunc(c.Real(d), func() {
		select {
		case t.ch <- c.Now():
		default:
		}
	})
	return t
}

// AfterFunc calls f in its own goroutine after simulated duration d. Like
// clockwork's real clock, its timer has no channel.
func (c *Clock) AfterFunc(d time.Duration, f func()) clockwork.Timer {
	return &timer{c: c, t: time.AfterFunc(c.Real(d), f)}
}

// NewTicker ticks every simulated duration d; d must be positive.
func (c *Clock) NewTicker(d time.Duration) clockwork.Ticker {
	if d <= 0 {
		panic("fastclock: non-positive interval for NewTicker")
	}
	t := &ticker{c: c, t: time.NewTicker(c.Real(d)), ch: make(chan time.Time, 1), done: make(chan struct{})}
	go t.loop()
	return t
}

type timer struct {
	c  *Clock
	t  *time.Timer
	ch chan time.Time // nil for AfterFunc
}

func (t *timer) Chan() <-chan time.Time { return t.ch }

func (t *timer) Stop() bool {
	ok := t.t.Stop()
	t.drain()
	return ok
}

func (t *timer) Reset(d time.Duration) bool {
	ok := t.t.Stop()
	t.drain()
	t.t.Reset(t.c.Real(d))
	return ok
}

// drain drops a value sent before Stop or Reset, as Go 1.23 timers do, so
// a reset timer never delivers a stale tick.
func (t *timer) drain() {
	if t.ch == nil {
		return
	}
	select {
	case <-t.ch:
	default:
	}
}

type ticker struct {
	c    *Clock
	t    *time.Ticker
	ch   chan time.Time
	done chan struct{}
}

// loop turns the real ticks into simulated times; a slow reader misses
// ticks rather than queueing them, as with time.Ticker.
func (t *ticker) loop() {
	for {
		select {
		case <-t.done:
			return
		case real := <-t.t.C:
			select {
			case t.ch <- t.c.at(real):
			default:
			}
		}
	}
}

func (t *ticker) Chan() <-chan time.Time { return t.ch }

func (t *ticker) Reset(d time.Duration) { t.t.Reset(t.c.Real(d)) }

func (t *ticker) Stop() {
	t.t.Stop()
	select {
	case <-t.done:
	default:
		close(t.done)
	}
}

// String is the compact form Parse reads: speed@simEpoch@realEpoch.
func (c *Clock) String() string {
	return strconv.FormatFloat(c.Speed, 'g', -1, 64) + "@" + c.SimEpoch.UTC().Format(time.RFC3339Nano) +
		"@" + c.RealEpoch.UTC().Format(time.RFC3339Nano)
}

// Parse reads the compact form "speed@simEpoch@realEpoch" (epochs in RFC
// 3339 with optional fractions), as String writes it.
func Parse(s string) (*Clock, error) {
	parts := strings.Split(s, "@")
	if len(parts) != 3 {
		return nil, fmt.Errorf("fast clock %q: want speed@sim-epoch@real-epoch, e.g. 5760@2025-03-10T00:00:00Z@2026-01-02T03:04:05.123Z", s)
	}
	speed, err := strconv.ParseFloat(parts[0], 64)
	if err != nil {
		return nil, fmt.Errorf("fast clock speed %q: %w", parts[0], err)
	}
	sim, err := time.Parse(time.RFC3339Nano, parts[1])
	if err != nil {
		return nil, fmt.Errorf("fast clock simulated epoch: %w", err)
	}
	real, err := time.Parse(time.RFC3339Nano, parts[2])
	if err != nil {
		return nil, fmt.Errorf("fast clock real epoch: %w", err)
	}
	return New(sim, real, speed)
}

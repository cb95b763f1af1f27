// Package ha elects one leader among sekisho replicas sharing a store
// (SPEC §14). The leader is whoever holds the store's lease row
// (store.ClaimLease): the lease runs on the database's clock, is renewed
// every third of its length, and its epoch grows at every change of
// leader. The elector stops trusting its lease locally one margin before
// it ends, and the leader's work runs under store.WithEpoch, so a replica
// that was paused past its lease can write nothing when it wakes: the
// store fences it. There is no consensus here of our own, only
// transactions on the shared database.
package ha

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/sekisho-dev/sekisho/store"
)

// Role is what a replica does now.
type Role string

// The two roles.
const (
	Leader   Role = "leader"
	Follower Role = "follower"
)

// ErrNotLeader is what IsLeader answers on a follower.
var ErrNotLeader = errors.New("ha: this replica is not the leader")

// Options configure an Elector.
type Options struct {
	// ID names this replica in the lease and in /api/v1/cluster; default
	// the host name and a random suffix (a pod's name on Kubernetes).
	ID string
	// Lease is the lease's length (config ha.lease); default 6s.
	Lease time.Duration
	// Clock paces the loop and the local trust of the lease; the lease
	// itself runs on the database's clock.
	Clock  clockwork.Clock
	Logger *slog.Logger
	// Listen lets followers on PostgreSQL hear a released lease at once
	// (LISTEN/NOTIFY); without it, or through a transaction-mode pooler
	// where notifications never arrive, they notice at their next tick.
	Listen bool
}

// Status is the replica's view of the cluster, as /api/v1/cluster shows it.
type Status struct {
	Store          string    `json:"store"`
	Self           string    `json:"self"`
	Role           Role      `json:"role"`
	Leader         string    `json:"leader"`
	Epoch          int64     `json:"epoch"`
	LeaseExpiresAt time.Time `json:"lease_expires_at"`
}

// Elector runs the lease loop of one replica.
type Elector struct {
	st    *store.Store
	o     Options
	wake  chan struct{}
	mu    sync.Mutex
	view  Status
	trust time.Time     // local time until which the lease is trusted
	gen   chan struct{} // closed and replaced at every change of role or epoch
	work  int           // Lead's terms running
}

// New returns an elector for st; Run starts it.
func New(st *store.Store, o Options) *Elector {
	if o.Lease <= 0 {
		o.Lease = 6 * time.Second
	}
	if o.Clock == nil {
		o.Clock = clockwork.NewRealClock()
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.ID == "" {
		o.ID = DefaultID()
	}
	e := &Elector{st: st, o: o, wake: make(chan struct{}, 1), gen: make(chan struct{})}
	e.view = Status{Store: string(st.Dialect()), Self: o.ID, Role: Follower}
	return e
}

// DefaultID is the host name with a random suffix, so two replicas on one
// host (or a restarted one) never share an id.
func DefaultID() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "sekisho"
	}
	var b [3]byte
	rand.Read(b[:])
	return host + "-" + hex.EncodeToString(b[:])
}

// Interval is how often the lease is renewed or, by a follower, tried.
func (e *Elector) Interval() time.Duration { return e.o.Lease / 3 }

// Margin is how long before the lease's end (by the local clock, counted
// from the start of the renewal that extended it) the leader stops
// trusting it: room for clock rate drift and a slow round trip.
func (e *Elector) Margin() time.Duration { return e.o.Lease / 6 }

// Status returns the replica's current view.
func (e *Elector) Status() Status {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.view
}

// Changed returns a channel closed at the next change of role or epoch.
func (e *Elector) Changed() <-chan struct{} {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.gen
}

// Role, Leader and Epoch are parts of Status.
func (e *Elector) Role() Role { return e.Status().Role }

// Leader returns the id of the leader the replica last saw ("" if none).
func (e *Elector) Leader() string { return e.Status().Leader }

// Epoch returns the lease epoch the replica last saw.
func (e *Elector) Epoch() int64 { return e.Status().Epoch }

// IsLeader answers nil while this replica leads and trusts its lease: it
// is gocron's Elector (gocron.WithDistributedElector), so scheduled jobs
// run on the leader only.
func (e *Elector) IsLeader(context.Context) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.view.Role == Leader && e.o.Clock.Now().Before(e.trust) {
		return nil
	}
	return ErrNotLeader
}

// Run keeps the lease until ctx ends: as leader it renews every third of
// the lease, as follower it tries to take it as often. When ctx ends it
// steps down, waits (up to one lease) for Lead's work to stop, and
// releases the lease so another replica takes over at once.
func (e *Elector) Run(ctx context.Context) error {
	if e.o.Listen && e.st.Dialect() == store.Postgres {
		go e.listen(ctx)
	}
	for {
		e.tick(ctx)
		wait := e.Interval()
		e.mu.Lock()
		if e.view.Role == Leader {
			wait = min(wait, max(e.trust.Sub(e.o.Clock.Now()), 0))
		}
		e.mu.Unlock()
		select {
		case <-ctx.Done():
			e.stepDownAndRelease()
			return nil
		case <-e.o.Clock.After(wait):
		case <-e.wake:
		}
	}
}

// tick claims (or renews) the lease once and updates the role.
func (e *Elector) tick(ctx context.Context) {
	start := e.o.Clock.Now()
	e.mu.Lock()
	epoch := int64(0)
	if e.view.Role == Leader {
		epoch = e.view.Epoch
	}
	e.mu.Unlock()
	l, err := e.st.ClaimLease(ctx, e.o.ID, epoch, e.o.Lease)
	e.mu.Lock()
	defer e.mu.Unlock()
	if err != nil {
		if ctx.Err() == nil {
			e.o.Logger.Warn("leader lease: claim failed", "err", err)
		}
		// Keep leading only as long as the last renewal is trusted.
		if e.view.Role == Leader && !e.o.Clock.Now().Before(e.trust) {
			e.o.Logger.Warn("leader lease: not renewed in time; stepping down", "epoch", e.view.Epoch)
			e.setLocked(Follower, e.view.Leader, e.view.Epoch, e.view.LeaseExpiresAt)
		}
		return
	}
	if l.Held(e.o.ID) {
		e.trust = start.Add(e.o.Lease - e.Margin())
		if e.view.Role != Leader || e.view.Epoch != l.Epoch {
			e.o.Logger.Info("leader lease: leading", "self", e.o.ID, "epoch", l.Epoch)
		}
		e.setLocked(Leader, l.Holder, l.Epoch, l.ExpiresAt)
		return
	}
	leader := l.Holder
	if !l.ExpiresAt.After(l.Now) {
		leader = ""
	}
	if e.view.Role == Leader {
		e.o.Logger.Warn("leader lease: lost", "epoch", e.view.Epoch, "leader", leader, "leader_epoch", l.Epoch)
	}
	e.setLocked(Follower, leader, l.Epoch, l.ExpiresAt)
}

// setLocked records a view and wakes Lead on a change of role or epoch.
func (e *Elector) setLocked(role Role, leader string, epoch int64, exp time.Time) {
	changed := role != e.view.Role || epoch != e.view.Epoch
	e.view.Role, e.view.Leader, e.view.Epoch, e.view.LeaseExpiresAt = role, leader, epoch, exp
	if changed {
		close(e.gen)
		e.gen = make(chan struct{})
	}
}

// stepDownAndRelease ends this replica's leadership on shutdown.
func (e *Elector) stepDownAndRelease() {
	e.mu.Lock()
	wasLeader, epoch := e.view.Role == Leader, e.view.Epoch
	if wasLeader {
		e.setLocked(Follower, "", epoch, e.view.LeaseExpiresAt)
	}
	e.mu.Unlock()
	if !wasLeader {
		return
	}
	// Release only once the work has stopped: until then it may still
	// write (fenced by the epoch, so at worst refused, never doubled).
	// The wait is bounded on the wall clock: shutdown must end even on a
	// test's stopped clock.
	deadline := time.Now().Add(e.o.Lease)
	for {
		e.mu.Lock()
		working := e.work > 0
		e.mu.Unlock()
		if !working || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := e.st.ReleaseLease(ctx, e.o.ID, epoch); err != nil {
		e.o.Logger.Warn("leader lease: release failed; the next leader waits for it to expire", "err", err)
		return
	}
	e.o.Logger.Info("leader lease: released", "epoch", epoch)
}

// Lead runs work for every term this replica leads, until ctx ends: work
// gets a context that carries the term's epoch (store.WithEpoch) and is
// cancelled when the term ends (lease lost, not renewed in time, or
// shutdown); Lead waits for work to return before the next term. An error
// from work ends Lead with it.
func (e *Elector) Lead(ctx context.Context, work func(ctx context.Context) error) error {
	for {
		e.mu.Lock()
		role, epoch, gen := e.view.Role, e.view.Epoch, e.gen
		if role == Leader {
			e.work++
		}
		e.mu.Unlock()
		if role != Leader {
			select {
			case <-ctx.Done():
				return nil
			case <-gen:
				continue
			}
		}
		termCtx, cancel := context.WithCancel(store.WithEpoch(ctx, epoch))
		done := make(chan error, 1)
		go func() { done <- work(termCtx) }()
		var err error
		select {
		case <-gen:
			cancel()
			err = <-done
		case err = <-done:
		}
		cancel()
		e.mu.Lock()
		e.work--
		e.mu.Unlock()
		if err != nil && ctx.Err() == nil && termCtx.Err() == nil {
			return err
		}
		if ctx.Err() != nil {
			return nil
		}
		if err == nil && termCtx.Err() == nil {
			// work returned on its own in the middle of a term: wait for
			// the next change rather than spin.
			select {
			case <-ctx.Done():
				return nil
			case <-gen:
			}
		}
	}
}

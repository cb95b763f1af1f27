package ha

import (
	"context"
	"errors"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/store"
	"github.com/sekisho-dev/sekisho/testkit/pgtest"
	"github.com/sekisho-dev/sekisho/testkit/teststore"
)

// exec writes to the store at st's database by hand (its own read pool
// refuses writes).
func exec(t *testing.T, url, q string) {
	t.Helper()
	db, err := store.RawDB(url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(q); err != nil {
		t.Fatal(err)
	}
}

func open(t *testing.T, loc string) *store.Store {
	t.Helper()
	s, err := teststore.Open(context.Background(), loc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// replica is one elector running its loop on a fake clock.
type replica struct {
	*Elector
	clock  *clockwork.FakeClock
	cancel context.CancelFunc
	done   chan struct{}
}

func start(t *testing.T, st *store.Store, id string, listen bool) *replica {
	t.Helper()
	clock := clockwork.NewFakeClock()
	e := New(st, Options{ID: id, Lease: 6 * time.Second, Clock: clock, Listen: listen})
	ctx, cancel := context.WithCancel(context.Background())
	r := &replica{Elector: e, clock: clock, cancel: cancel, done: make(chan struct{})}
	go func() { defer close(r.done); e.Run(ctx) }()
	t.Cleanup(r.stop)
	return r
}

func (r *replica) stop() {
	r.cancel()
	<-r.done
}

// settle waits until the loop sleeps on its clock (its tick is done).
func (r *replica) settle(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := r.clock.BlockUntilContext(ctx, 1); err != nil {
		t.Fatalf("%s: the loop did not come back to sleep: %v", r.o.ID, err)
	}
}

// waitFor waits for a change of role or epoch until cond holds.
func (r *replica) waitFor(t *testing.T, what string, cond func(Status) bool) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		ch := r.Changed()
		if cond(r.Status()) {
			return
		}
		select {
		case <-ch:
		case <-timeout:
			t.Fatalf("%s: %s did not happen; status %+v", r.o.ID, what, r.Status())
		}
	}
}

func leading(epoch int64) func(Status) bool {
	return func(s Status) bool { return s.Role == Leader && s.Epoch == epoch }
}

func expire(t *testing.T, url string) {
	t.Helper()
	// The database's clock passes the lease: what happens when its holder
	// stops renewing (killed, paused, cut off) and a lease has gone by.
	exec(t, url, `UPDATE leader_lease SET expires_at = '2000-01-01T00:00:00.000Z'`)
}

// pair starts a, waits for it to lead, then starts b beside it on the same
// fresh PostgreSQL store.
func pair(t *testing.T, listenB bool) (a, b *replica, stA, stB *store.Store, url string) {
	t.Helper()
	url = pgtest.URL(t)
	stA, stB = open(t, url), open(t, url)
	a = start(t, stA, "a", false)
	a.waitFor(t, "a leads", leading(1))
	b = start(t, stB, "b", listenB)
	b.settle(t)
	return a, b, stA, stB, url
}

func TestOneLeaderFailoverAndFencing(t *testing.T) {
	a, b, stA, _, url := pair(t, false)
	if s := b.Status(); s.Role != Follower || s.Leader != "a" || s.Epoch != 1 || s.Store != "postgres" {
		t.Fatalf("b = %+v", s)
	}
	if a.IsLeader(context.Background()) != nil || !errors.Is(b.IsLeader(context.Background()), ErrNotLeader) {
		t.Fatal("IsLeader disagrees with the roles")
	}

	// a's work runs under its epoch; its term ends when it loses the lease.
	var terms atomic.Int32
	ended := make(chan int64, 4)
	go a.Lead(context.Background(), func(ctx context.Context) error {
		terms.Add(1)
		<-ctx.Done()
		e, _ := store.EpochFrom(ctx)
		ended <- e
		return nil
	})
	// a renews on its tick; b cannot take a live lease.
	a.settle(t)
	a.clock.Advance(a.Interval())
	b.clock.Advance(b.Interval())
	a.settle(t)
	b.settle(t)
	if a.Role() != Leader || b.Role() != Follower {
		t.Fatalf("after a renewal: a %s b %s", a.Role(), b.Role())
	}

	// a stops renewing (paused); the lease runs out on the database's clock.
	expire(t, url)
	b.clock.Advance(b.Interval())
	b.waitFor(t, "b takes over", leading(2))
	// a's paused writes are refused by the store.
	if _, err := stA.AddNotice(store.WithEpoch(context.Background(), 1), sekisho.Notice{Kind: sekisho.NoticeUpstreamFailed,
		DedupeKey: "late", CreatedAt: time.Now()}); !errors.Is(err, store.ErrFenced) {
		t.Fatalf("a's write after the takeover: %v", err)
	}
	// a wakes, sees it lost, and its work's term ends.
	a.clock.Advance(a.Interval())
	a.waitFor(t, "a follows", func(s Status) bool { return s.Role == Follower && s.Leader == "b" && s.Epoch == 2 })
	if e := <-ended; e != 1 || terms.Load() != 1 {
		t.Fatalf("a's term ended with epoch %d after %d terms", e, terms.Load())
	}
}

func TestLeaderStopsTrustingAnUnrenewedLease(t *testing.T) {
	url := pgtest.URL(t)
	st := open(t, url)
	a := start(t, st, "a", false)
	a.waitFor(t, "a leads", leading(1))
	a.settle(t)
	// Renewals start failing (here the lease table goes away). a leads
	// until one margin before its lease ends, by its own clock, and not a
	// moment longer.
	exec(t, url, `ALTER TABLE leader_lease RENAME TO leader_lease_gone`)
	a.clock.Advance(a.Interval())
	a.settle(t)
	a.clock.Advance(a.Interval())
	a.settle(t)
	if a.Role() != Leader || a.IsLeader(context.Background()) != nil {
		t.Fatalf("a stepped down %v into its lease", 2*a.Interval())
	}
	a.clock.Advance(6*time.Second - a.Margin() - 2*a.Interval())
	a.waitFor(t, "a steps down", func(s Status) bool { return s.Role == Follower })
	if a.IsLeader(context.Background()) == nil {
		t.Fatal("IsLeader after stepping down")
	}
}

func TestShutdownHandsOverAtOnce(t *testing.T) {
	a, b, stA, stB, _ := pair(t, true)
	if b.Role() != Follower {
		t.Fatal("b leads beside a")
	}
	// LISTEN is up once b's listener waits for a notification; a
	// release before that is still taken at b's next tick.
	waitListening(t, stB)
	a.stop() // SIGTERM: a steps down and releases
	if l, _ := stA.ReadLease(context.Background()); l.Held("a") {
		t.Fatalf("a still holds the lease after its shutdown: %+v", l)
	}
	// b takes over on the notification, without its clock moving.
	b.waitFor(t, "b takes over", leading(2))
}

// waitListening waits until a session of the test database is LISTENing.
func waitListening(t *testing.T, st *store.Store) {
	t.Helper()
	for i := 0; i < 500; i++ {
		var n int
		st.ReadDB().QueryRow(`SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN%'`).Scan(&n)
		if n > 0 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("no LISTEN session")
}

func TestSQLiteDaemonTakesTheLeaseAtOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.db")
	st := open(t, path)
	// A daemon killed a moment ago left its lease behind.
	if _, err := st.ClaimLease(context.Background(), "crashed", 0, time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := st.LockDaemon(); err != nil {
		t.Fatal(err)
	}
	a := start(t, st, "a", false)
	a.waitFor(t, "a leads", leading(2))
	if s := a.Status(); s.Store != "sqlite" || s.Leader != "a" {
		t.Fatalf("status %+v", s)
	}
}

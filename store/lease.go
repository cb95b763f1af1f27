package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// The leader lease (SPEC §14) is one row of leader_lease, read and written
// in plain transactions on the database's clock, so it works through any
// connection pooler. The ha package runs the loop around these calls.

// Lease is the state of the leader lease as the database saw it.
type Lease struct {
	Holder    string    // replica id of the leader; empty when released
	Epoch     int64     // grows at every change of leader
	ExpiresAt time.Time // on the database's clock
	Now       time.Time // the database's clock when it was read
}

// Held reports whether the lease names holder and has not expired.
func (l Lease) Held(holder string) bool {
	return holder != "" && l.Holder == holder && l.ExpiresAt.After(l.Now)
}

// leaseNotify is the PostgreSQL channel a released lease is announced on.
const leaseNotify = "sekisho_lease"

// ListenLease calls fn with the releasing holder's id each time a lease is
// released (ReleaseLease), until ctx ends or the connection fails, so
// followers can take over at once. It needs a PostgreSQL session of its
// own (LISTEN): through a transaction-mode pooler the notifications never
// arrive, and followers fall back to their next claim. On SQLite there is
// nothing to hear: it returns an error at once.
func (s *Store) ListenLease(ctx context.Context, fn func(holder string)) error {
	if s.dialect != Postgres {
		return errors.New("store: LISTEN needs PostgreSQL")
	}
	cctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	conn, err := pgx.Connect(cctx, s.url)
	cancel()
	if err != nil {
		return fmt.Errorf("store: listen: %v", redactErr(err, s.url))
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+leaseNotify); err != nil {
		return fmt.Errorf("store: listen: %w", err)
	}
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return fmt.Errorf("store: listen: %w", err)
		}
		fn(n.Payload)
	}
}

// ReadLease returns the lease as it stands.
func (s *Store) ReadLease(ctx context.Context) (Lease, error) {
	var l Lease
	var exp, now string
	err := s.r.QueryRowContext(ctx, `SELECT holder, epoch, expires_at, `+s.nowExpr()+` FROM leader_lease WHERE name = 'leader'`).
		Scan(&l.Holder, &l.Epoch, &exp, &now)
	if err != nil {
		return l, fmt.Errorf("store: read lease: %w", err)
	}
	l.ExpiresAt, l.Now = parseTS(sql.NullString{String: exp, Valid: true}), parseTS(sql.NullString{String: now, Valid: true})
	return l, nil
}

// ClaimLease renews the lease for holder if it holds epoch and the lease
// has not expired, or takes it with the next epoch if it has expired or
// was released; either way it then runs until d after the database's now.
// Otherwise it changes nothing. It returns the lease as it stands after
// the call: the caller leads if Held(holder) and the epoch is the one to
// fence its writes with. A SQLite store locked by LockDaemon takes the
// lease at once: the lock already proves no other daemon runs.
func (s *Store) ClaimLease(ctx context.Context, holder string, epoch int64, d time.Duration) (Lease, error) {
	var l Lease
	err := s.quietTx(ctx, func(tx *sql.Tx) error {
		q := `SELECT holder, epoch, expires_at, ` + s.nowExpr() + ` FROM leader_lease WHERE name = 'leader'`
		if s.dialect == Postgres {
			// A stopped leader's open write holds the row; do not wait
			// for it here, try again at the next tick.
			if _, err := tx.ExecContext(ctx, `SELECT set_config('lock_timeout', '500ms', true)`); err != nil {
				return err
			}
			q += ` FOR UPDATE`
		}
		var exp, now string
		if err := tx.QueryRowContext(ctx, q).Scan(&l.Holder, &l.Epoch, &exp, &now); err != nil {
			return err
		}
		l.ExpiresAt, l.Now = parseTS(sql.NullString{String: exp, Valid: true}), parseTS(sql.NullString{String: now, Valid: true})
		switch {
		case l.Held(holder) && l.Epoch == epoch:
			// renew
		case !l.ExpiresAt.After(l.Now) || l.Holder == "" || s.lock != nil:
			l.Holder, l.Epoch = holder, l.Epoch+1
		default:
			return nil // another replica leads
		}
		l.ExpiresAt = l.Now.Add(d)
		_, err := tx.ExecContext(ctx, `UPDATE leader_lease SET holder = ?, epoch = ?, expires_at = ?, renewed_at = ?
			WHERE name = 'leader'`, l.Holder, l.Epoch, ts(l.ExpiresAt), ts(l.Now))
		return err
	})
	if err != nil {
		return l, fmt.Errorf("store: claim lease: %w", err)
	}
	return l, nil
}

// ReleaseLease ends holder's lease of epoch at once, so another replica
// can take over without waiting for it to expire (SIGTERM), and on
// PostgreSQL announces it on LeaseChannel. A lease holder no longer holds
// is left alone.
func (s *Store) ReleaseLease(ctx context.Context, holder string, epoch int64) error {
	err := s.quietTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE leader_lease SET holder = '', expires_at = `+s.nowExpr()+`
			WHERE name = 'leader' AND holder = ? AND epoch = ?`, holder, epoch)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 || s.dialect != Postgres {
			return nil
		}
		_, err = tx.ExecContext(ctx, `SELECT pg_notify(?, ?)`, leaseNotify, holder)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: release lease: %w", err)
	}
	return nil
}

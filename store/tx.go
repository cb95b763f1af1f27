package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// ErrFenced is returned by a write made under WithEpoch when that epoch is
// no longer the leader lease's current, unexpired one: the replica was
// paused or cut off past its lease and another may lead now. The write is
// not made.
var ErrFenced = errors.New("store: leadership lost (fenced): this replica's lease epoch is no longer current")

type epochKey struct{}

// WithEpoch marks ctx as acting for the leader of lease epoch epoch. Every
// write transaction the store runs under such a ctx first checks, in the
// same transaction, that the lease still has that epoch and has not
// expired on the database's clock, and otherwise writes nothing and
// returns ErrFenced. On PostgreSQL the check also holds a share lock on
// the lease row until the transaction ends, so a new leader's acquisition
// waits for the write to commit: no write of an old epoch can land after
// a new leader has begun.
func WithEpoch(ctx context.Context, epoch int64) context.Context {
	return context.WithValue(ctx, epochKey{}, epoch)
}

// EpochFrom returns the epoch WithEpoch put in ctx.
func EpochFrom(ctx context.Context) (int64, bool) {
	e, ok := ctx.Value(epochKey{}).(int64)
	return e, ok
}

// idleTxTimeout ends a PostgreSQL session left idle inside a fenced write
// transaction (its process stopped mid-transaction): its share lock on the
// lease row would otherwise keep the next leader from taking over.
const idleTxTimeout = "2s"

// withTx runs fn in one write transaction. Every write of the store goes
// through here (or touchTx, quietTx and their one-statement forms,
// touchExec and quietExec, all by way of touchTx): it is where the PostgreSQL
// writes are tagged for DataVersion, where the leader's epoch is checked
// (WithEpoch), and where this Store counts its own writes for
// ListingVersion.
func (s *Store) withTx(ctx context.Context, fn func(*sql.Tx) error) error {
	return s.touchTx(ctx, everything(), fn)
}

// quietTx is withTx for writes to tables no listing reads (the poll
// schedule, budget grants, the lease, pushed events, observe cursors,
// notice delivery): they come by the thousand while pipelines merely wait,
// and must not make the status listing rebuild (ListingVersion). A write
// that only sometimes touches a listed table calls s.changed itself. A
// listed write that can say which rows it changes uses touchTx, so the
// listing re-reads those rows only (ChangesBetween).
func (s *Store) quietTx(ctx context.Context, fn func(*sql.Tx) error) error {
	return s.touchTx(ctx, nil, fn)
}

// touchTx runs fn in one write transaction, for a write that says what it
// changes of the listed tables: fn fills t before it returns, and only
// that is re-read by the listings (ChangesBetween). t is nil for a quiet
// write (quietTx).
func (s *Store) touchTx(ctx context.Context, t *touch, fn func(*sql.Tx) error) error {
	s.prepare(ctx) // before the transaction takes the writer's one connection
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := s.beginWrite(ctx, tx); err != nil {
		tx.Rollback()
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	err = tx.Commit()
	if t != nil {
		// After the commit, never before: a listing that reads the count
		// and then the data must not keep data older than the count.
		// Counted even when Commit fails, since it may have committed.
		s.changed(t)
	}
	return err
}

// quietExec runs one write statement to a table no listing reads (see
// quietTx) in its own transaction and returns the rows it affected.
func (s *Store) quietExec(ctx context.Context, q string, args ...any) (int64, error) {
	return s.touchExec(ctx, nil, q, args...)
}

// touchExec runs one write statement in its own transaction, saying what
// it changes (touchTx), and returns the rows it affected.
func (s *Store) touchExec(ctx context.Context, t *touch, q string, args ...any) (int64, error) {
	var n int64
	err := s.touchTx(ctx, t, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, q, args...)
		if err != nil {
			return err
		}
		n, _ = res.RowsAffected()
		return nil
	})
	return n, err
}

func (s *Store) beginWrite(ctx context.Context, tx *sql.Tx) error {
	epoch, fenced := EpochFrom(ctx)
	if s.dialect == Postgres {
		q, args := `SELECT set_config('sekisho.writer', ?, true)`, []any{s.writer}
		if fenced {
			q += `, set_config('idle_in_transaction_session_timeout', ?, true)`
			args = append(args, idleTxTimeout)
		}
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			return err
		}
	}
	if !fenced {
		return nil
	}
	var row *sql.Row
	if st := s.stmt(ctx, tx, s.stmts.fence); st != nil {
		row = st.QueryRowContext(ctx)
	} else {
		row = tx.QueryRowContext(ctx, s.fenceQuery())
	}
	var cur int64
	var live int
	if err := row.Scan(&cur, &live); err != nil {
		return fmt.Errorf("store: check the leader lease: %w", err)
	}
	if cur != epoch || live != 1 {
		return fmt.Errorf("%w (held %d, lease at %d)", ErrFenced, epoch, cur)
	}
	return nil
}

// fenceQuery reads the lease's epoch and whether it is live on the
// database's clock; on PostgreSQL it also holds a share lock on the lease
// row until the transaction ends (WithEpoch).
func (s *Store) fenceQuery() string {
	q := `SELECT epoch, CASE WHEN expires_at > ` + s.nowExpr() + ` THEN 1 ELSE 0 END FROM leader_lease WHERE name = 'leader'`
	if s.dialect == Postgres {
		q += ` FOR SHARE`
	}
	return q
}

// nowExpr is the database's clock as stored text (sekisho.TimeLayout, UTC).
func (s *Store) nowExpr() string {
	if s.dialect == Postgres {
		return `to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`
	}
	return `strftime('%Y-%m-%dT%H:%M:%fZ', 'now')`
}

// RedactURL hides the password of a PostgreSQL URL, for logs and errors.
// Anything else is returned as it is.
func RedactURL(s string) string {
	if !IsPostgresURL(s) {
		return s
	}
	u, err := url.Parse(s)
	if err != nil {
		return "postgres://…"
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	q := u.Query()
	if q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.String()
}

// redactErr keeps the password of url out of a driver's error text.
func redactErr(err error, rawURL string) error {
	msg := err.Error()
	if u, perr := url.Parse(rawURL); perr == nil {
		if pw, ok := u.User.Password(); ok && pw != "" {
			msg = strings.ReplaceAll(msg, pw, "xxxxx")
		}
		if pw := u.Query().Get("password"); pw != "" {
			msg = strings.ReplaceAll(msg, pw, "xxxxx")
		}
	}
	msg = strings.ReplaceAll(msg, rawURL, RedactURL(rawURL))
	return errors.New(msg)
}

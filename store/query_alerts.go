package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/sekisho-dev/sekisho"
)

// QueryAlert is one long-running warehouse query a watch noticed.
type QueryAlert struct {
	ID        int64
	Watch     string
	Warehouse string
	Key       string // Redshift query_id; PostgreSQL pid@start
	User      string
	PID       string
	StartedAt time.Time
	Text      string
	AlertedAt time.Time
	EndedAt   time.Time // zero while running
	// The Slack thread of the alert's message (bot mode).
	ThreadChannel, ThreadTS string
}

// AddQueryAlert records an alert and queues its notice in one transaction.
// It reports false, queueing nothing, when the watch already alerted about
// that query: a restart never notifies the same query twice.
func (s *Store) AddQueryAlert(ctx context.Context, a QueryAlert, n sekisho.Notice) (bool, error) {
	var added bool
	err := s.touchTx(ctx, &touch{}, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO query_alerts (watch, warehouse, query_key, user_name, pid, started_at, query_text, alerted_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (watch, query_key) DO NOTHING`,
			a.Watch, a.Warehouse, a.Key, a.User, a.PID, ts(a.StartedAt), a.Text, ts(a.AlertedAt))
		if err != nil {
			return err
		}
		if c, _ := res.RowsAffected(); c == 0 {
			return nil
		}
		added = true
		_, err = insertNotice(ctx, tx, n, a.AlertedAt)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("store: add query alert: %w", err)
	}
	return added, nil
}

// EndQueryAlert marks an alert's query ended and queues the notice that
// says so (none when n has no dedupe key), in one transaction. It reports
// false when it had ended already.
func (s *Store) EndQueryAlert(ctx context.Context, id int64, at time.Time, n sekisho.Notice) (bool, error) {
	var ended bool
	err := s.touchTx(ctx, &touch{}, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE query_alerts SET ended_at = ? WHERE id = ? AND ended_at IS NULL`, ts(at), id)
		if err != nil {
			return err
		}
		if c, _ := res.RowsAffected(); c == 0 {
			return nil
		}
		ended = true
		if n.DedupeKey == "" {
			return nil
		}
		_, err = insertNotice(ctx, tx, n, at)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("store: end query alert: %w", err)
	}
	return ended, nil
}

const queryAlertColumns = `id, watch, warehouse, query_key, user_name, pid, started_at, query_text, alerted_at, ended_at, thread_channel, thread_ts`

// OpenQueryAlerts lists the alerts whose query still runs, oldest first;
// watch "" lists every watch's.
func (s *Store) OpenQueryAlerts(ctx context.Context, watch string) ([]QueryAlert, error) {
	q := `SELECT ` + queryAlertColumns + ` FROM query_alerts WHERE ended_at IS NULL`
	args := []any{}
	if watch != "" {
		q += ` AND watch = ?`
		args = append(args, watch)
	}
	return s.queryAlerts(ctx, q+` ORDER BY started_at, id`, args...)
}

// QueryAlertByKey returns one watch's alert about one query.
func (s *Store) QueryAlertByKey(ctx context.Context, watch, key string) (QueryAlert, error) {
	as, err := s.queryAlerts(ctx, `SELECT `+queryAlertColumns+` FROM query_alerts WHERE watch = ? AND query_key = ?`, watch, key)
	if err != nil {
		return QueryAlert{}, err
	}
	if len(as) == 0 {
		return QueryAlert{}, sekisho.ErrNotFound
	}
	return as[0], nil
}

// CountQueryAlerts counts every alert and the open ones, for /metrics.
func (s *Store) CountQueryAlerts(ctx context.Context) (total, open int, err error) {
	err = s.r.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(SUM(CASE WHEN ended_at IS NULL THEN 1 ELSE 0 END), 0) FROM query_alerts`).Scan(&total, &open)
	if err != nil {
		err = fmt.Errorf("store: count query alerts: %w", err)
	}
	return total, open, err
}

// SaveQueryThread records the Slack message of an alert, so the reply
// when the query ends goes into its thread.
func (s *Store) SaveQueryThread(ctx context.Context, watch, key, channel, threadTS string) error {
	_, err := s.touchExec(ctx, &touch{}, `UPDATE query_alerts SET thread_channel = ?, thread_ts = ? WHERE watch = ? AND query_key = ?`,
		channel, threadTS, watch, key)
	if err != nil {
		return fmt.Errorf("store: save query thread: %w", err)
	}
	return nil
}

func (s *Store) queryAlerts(ctx context.Context, q string, args ...any) ([]QueryAlert, error) {
	return queryAll(ctx, s.r, "query alerts", scanQueryAlert, q, args...)
}

func scanQueryAlert(sc scanner) (QueryAlert, error) {
	var a QueryAlert
	var started, alerted string
	var ended sql.NullString
	if err := sc.Scan(&a.ID, &a.Watch, &a.Warehouse, &a.Key, &a.User, &a.PID, &started, &a.Text, &alerted, &ended,
		&a.ThreadChannel, &a.ThreadTS); err != nil {
		return a, err
	}
	a.StartedAt = parseTS(sql.NullString{String: started, Valid: true})
	a.AlertedAt = parseTS(sql.NullString{String: alerted, Valid: true})
	a.EndedAt = parseTS(ended)
	return a, nil
}

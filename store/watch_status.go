package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// WatchStatus is a standing watch's last listing: its error, empty when
// the warehouse answered.
type WatchStatus struct {
	Watch, Warehouse string
	Error            string    // never a secret: the watch scrubs it before it is stored
	CheckedAt        time.Time // the listing's time
	FailingSince     time.Time // the first of the failing listings in a row; zero while it works
}

// SetWatchStatus records a watch's last listing. A failure after a failure
// keeps the time the failing began; a success clears it.
func (s *Store) SetWatchStatus(ctx context.Context, w WatchStatus) error {
	var since any // NULL while the watch works
	if w.Error != "" {
		since = ts(w.CheckedAt)
	}
	_, err := s.touchExec(ctx, &touch{}, `INSERT INTO watch_status (watch, warehouse, error, checked_at, failing_since)
		VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (watch) DO UPDATE SET warehouse = excluded.warehouse, error = excluded.error,
			checked_at = excluded.checked_at,
			failing_since = CASE WHEN excluded.error = '' THEN NULL
				WHEN watch_status.error = '' OR watch_status.failing_since IS NULL THEN excluded.checked_at
				ELSE watch_status.failing_since END`,
		w.Watch, w.Warehouse, w.Error, ts(w.CheckedAt), since)
	if err != nil {
		return fmt.Errorf("store: set watch status: %w", err)
	}
	return nil
}

// WatchStatuses lists every watch's last listing, by name.
func (s *Store) WatchStatuses(ctx context.Context) ([]WatchStatus, error) {
	return queryAll(ctx, s.r, "watch status", func(sc scanner) (WatchStatus, error) {
		var w WatchStatus
		var checked string
		var since sql.NullString
		if err := sc.Scan(&w.Watch, &w.Warehouse, &w.Error, &checked, &since); err != nil {
			return w, err
		}
		w.CheckedAt = parseTS(sql.NullString{String: checked, Valid: true})
		w.FailingSince = parseTS(since)
		return w, nil
	}, `SELECT watch, warehouse, error, checked_at, failing_since FROM watch_status ORDER BY watch`)
}

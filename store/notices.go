package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/sekisho-dev/sekisho"
)

func insertNotice(ctx context.Context, tx *sql.Tx, n sekisho.Notice, at time.Time) (bool, error) {
	if n.DedupeKey == "" {
		return false, fmt.Errorf("notice %s: empty dedupe key", n.Kind)
	}
	if n.CreatedAt.IsZero() {
		n.CreatedAt = at
	}
	facts, err := json.Marshal(n.Facts)
	if err != nil {
		return false, fmt.Errorf("notice facts: %w", err)
	}
	var runID any
	if n.RunID != 0 {
		runID = n.RunID
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO notices (run_id, pipeline, logical_date, attempt, kind, dedupe_key, facts, text, created_at, next_try_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (dedupe_key) DO NOTHING`,
		runID, n.Pipeline, n.LogicalDate, n.Attempt, string(n.Kind), n.DedupeKey, string(facts), n.Text,
		ts(n.CreatedAt), ts(n.CreatedAt))
	if err != nil {
		return false, err
	}
	c, _ := res.RowsAffected()
	return c > 0, nil
}

// AddNotice queues a notice on its own (a digest, a refused reload). It
// reports false when a notice with the same dedupe key exists already.
func (s *Store) AddNotice(ctx context.Context, n sekisho.Notice) (bool, error) {
	var added bool
	err := s.touchTx(ctx, &touch{}, func(tx *sql.Tx) error {
		var err error
		added, err = insertNotice(ctx, tx, n, n.CreatedAt)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("store: add notice: %w", err)
	}
	return added, nil
}

func (s *Store) noticeColumns() string {
	return `id, COALESCE(run_id, 0), pipeline, logical_date, ` + s.keyOf("notices") + `, attempt, kind, dedupe_key, facts, text,
	created_at, sent_at, tries, next_try_at, last_error`
}

func scanNotice(sc scanner) (sekisho.Notice, error) {
	var n sekisho.Notice
	var kind, facts, created, next string
	var sent sql.NullString
	err := sc.Scan(&n.ID, &n.RunID, &n.Pipeline, &n.LogicalDate, &n.Key, &n.Attempt, &kind, &n.DedupeKey, &facts, &n.Text,
		&created, &sent, &n.Tries, &next, &n.LastError)
	if err != nil {
		return n, err
	}
	n.Kind = sekisho.NoticeKind(kind)
	_ = json.Unmarshal([]byte(facts), &n.Facts)
	n.CreatedAt = parseTS(sql.NullString{String: created, Valid: true})
	n.NextTryAt = parseTS(sql.NullString{String: next, Valid: true})
	n.SentAt = parseTS(sent)
	return n, nil
}

func (s *Store) queryNotices(ctx context.Context, q string, args ...any) ([]sekisho.Notice, error) {
	return queryAll(ctx, s.r, "notices", scanNotice, q, args...)
}

// PendingNotices returns undelivered notices, oldest first. Notices not yet
// due for a retry are included too: the sender keeps per-run order, so a
// notice must not overtake an earlier one of the same run that is backing off.
func (s *Store) PendingNotices(ctx context.Context, limit int) ([]sekisho.Notice, error) {
	if limit <= 0 {
		limit = 100
	}
	return s.queryNotices(ctx, `SELECT `+s.noticeColumns()+` FROM notices WHERE sent_at IS NULL ORDER BY id LIMIT ?`, limit)
}

// Notices returns the notices of one run, oldest first.
func (s *Store) Notices(ctx context.Context, runID int64) ([]sekisho.Notice, error) {
	return s.queryNotices(ctx, `SELECT `+s.noticeColumns()+` FROM notices WHERE run_id = ? ORDER BY id`, runID)
}

// AllNotices returns every notice, oldest first (tests, exports).
func (s *Store) AllNotices(ctx context.Context) ([]sekisho.Notice, error) {
	return s.queryNotices(ctx, `SELECT `+s.noticeColumns()+` FROM notices ORDER BY id`)
}

// HoldNotice puts off a notice's next try to until without counting a try:
// a notice waiting on purpose (an incident's group_wait), not failing.
func (s *Store) HoldNotice(ctx context.Context, id int64, until time.Time) error {
	if _, err := s.quietExec(ctx, `UPDATE notices SET next_try_at = ? WHERE id = ? AND sent_at IS NULL`, ts(until), id); err != nil {
		return fmt.Errorf("store: hold notice: %w", err)
	}
	return nil
}

// OutboxBacklog counts undelivered notices.
func (s *Store) OutboxBacklog(ctx context.Context) (int, error) {
	var n int
	err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM notices WHERE sent_at IS NULL`).Scan(&n)
	return n, err
}

// OutboxDue counts undelivered notices whose next try has come by at: the
// backlog a sender can work on now, leaving out notices held for later (an
// incident's opening waiting slack.group_wait, a retry backing off).
func (s *Store) OutboxDue(ctx context.Context, at time.Time) (int, error) {
	var n int
	err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM notices WHERE sent_at IS NULL AND (next_try_at IS NULL OR next_try_at <= ?)`, ts(at)).Scan(&n)
	return n, err
}

// Thread returns the Slack thread root of a run (bot mode).
func (s *Store) Thread(ctx context.Context, runID int64) (channel, ts string, ok bool, err error) {
	err = s.r.QueryRowContext(ctx, `SELECT channel, ts FROM slack_threads WHERE run_id = ?`, runID).Scan(&channel, &ts)
	if err == sql.ErrNoRows {
		return "", "", false, nil
	}
	if err != nil {
		return "", "", false, fmt.Errorf("store: thread: %w", err)
	}
	return channel, ts, true, nil
}

// SaveThread records the Slack thread root of a run; the first one wins.
func (s *Store) SaveThread(ctx context.Context, runID int64, channel, threadTS string, at time.Time) error {
	_, err := s.quietExec(ctx, `INSERT INTO slack_threads (run_id, channel, ts, created_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (run_id) DO NOTHING`, runID, channel, threadTS, ts(at))
	if err != nil {
		return fmt.Errorf("store: save thread: %w", err)
	}
	return nil
}

// LearnJob records an external job id of a resource (see sekisho.JobLedger).
func (s *Store) LearnJob(ctx context.Context, resourceKey, jobID string, at time.Time) error {
	_, err := s.quietExec(ctx, `INSERT INTO learned_jobs (resource, job_id, learned_at) VALUES (?, ?, ?)
		ON CONFLICT (resource, job_id) DO NOTHING`, resourceKey, jobID, ts(at))
	if err != nil {
		return fmt.Errorf("store: learn job: %w", err)
	}
	return nil
}

// LearnedJobs returns the job ids of a resource learned at or after since.
func (s *Store) LearnedJobs(ctx context.Context, resourceKey string, since time.Time) ([]string, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT job_id FROM learned_jobs WHERE resource = ? AND learned_at >= ? ORDER BY learned_at`,
		resourceKey, ts(since))
	if err != nil {
		return nil, fmt.Errorf("store: learned jobs: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

var _ sekisho.JobLedger = (*Store)(nil)

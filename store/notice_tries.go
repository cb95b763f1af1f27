package store

import (
	"context"
	"fmt"
	"time"
)

// These queries let the notifier count tries exactly: StartNoticeTry is
// written before a request goes out, so a crash between Slack's answer and
// the store write still leaves a trace (tries > 0) and the persisted
// backoff; the sender then looks for the message in Slack before posting
// it again.

// StartNoticeTry records that a delivery attempt of a pending notice is
// about to go out, and when to retry if it never reports back.
func (s *Store) StartNoticeTry(ctx context.Context, id int64, retryAt time.Time) error {
	_, err := s.quietExec(ctx, `UPDATE notices SET tries = tries + 1, next_try_at = ?
		WHERE id = ? AND sent_at IS NULL`, ts(retryAt), id)
	if err != nil {
		return fmt.Errorf("store: start notice try: %w", err)
	}
	return nil
}

// FailNoticeTry records why the attempt begun by StartNoticeTry failed and
// when to try again; it does not count another try.
func (s *Store) FailNoticeTry(ctx context.Context, id int64, retryAt time.Time, errText string) error {
	_, err := s.quietExec(ctx, `UPDATE notices SET next_try_at = ?, last_error = ?
		WHERE id = ? AND sent_at IS NULL`, ts(retryAt), errText, id)
	if err != nil {
		return fmt.Errorf("store: fail notice try: %w", err)
	}
	return nil
}

// FinishNotice marks a pending notice delivered (or deliberately not
// posted) with its rendered text; it does not count another try. It
// reports whether the notice was still pending.
func (s *Store) FinishNotice(ctx context.Context, id int64, at time.Time, text string) (bool, error) {
	n, err := s.quietExec(ctx, `UPDATE notices SET sent_at = ?, text = ?, last_error = ''
		WHERE id = ? AND sent_at IS NULL`, ts(at), text, id)
	if err != nil {
		return false, fmt.Errorf("store: finish notice: %w", err)
	}
	return n > 0, nil
}

// ThrottledNoticeTry is FailNoticeTry for an attempt Slack turned away with
// a rate limit (429 with Retry-After): the wait is Slack's, not the
// notice's fault, so the try StartNoticeTry counted is given back and the
// notice's backoff does not grow. It never goes below one try: an attempt
// went out, so the sender still looks in Slack before posting again.
func (s *Store) ThrottledNoticeTry(ctx context.Context, id int64, retryAt time.Time, errText string) error {
	_, err := s.quietExec(ctx, `UPDATE notices SET next_try_at = ?, last_error = ?,
		tries = CASE WHEN tries > 1 THEN tries - 1 ELSE tries END
		WHERE id = ? AND sent_at IS NULL`, ts(retryAt), errText, id)
	if err != nil {
		return fmt.Errorf("store: throttled notice try: %w", err)
	}
	return nil
}

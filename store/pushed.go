package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/sekisho-dev/sekisho"
)

// A pushed event that reaches a follower (the load balancer picks any
// replica) is kept in pushed_events for the leader, whose engine holds the
// open runs it concerns; the leader takes the queue twice a second (SPEC §14:
// followers accept pushed events, the leader acts on them).

// PushedEvent is one queued event.
type PushedEvent struct {
	Resource sekisho.Resource
	Run      sekisho.JobRun
}

// QueuePushedEvent keeps an event for the leader.
func (s *Store) QueuePushedEvent(ctx context.Context, r sekisho.Resource, run sekisho.JobRun, at time.Time) error {
	_, err := s.quietExec(ctx, `INSERT INTO pushed_events (resource_type, connection, resource_id, external_id, state,
		started_at, finished_at, message, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.Type, r.Connection, r.ID, run.ExternalID, string(run.State), nts(run.StartedAt), nts(run.FinishedAt), run.Message, ts(at))
	if err != nil {
		return fmt.Errorf("store: queue pushed event: %w", err)
	}
	return nil
}

// TakePushedEvents removes and returns up to limit queued events, oldest
// first. A fenced replica (WithEpoch) takes none: ErrFenced when some are
// queued.
func (s *Store) TakePushedEvents(ctx context.Context, limit int) ([]PushedEvent, error) {
	// The queue is almost always empty (always, with one replica). A look
	// on a reader costs no write transaction, no fence check and no hold
	// on the writer: taking an empty queue twice a second was 7 % of a
	// waiting daemon's CPU at 10,000 pipelines (issue 23). An event a
	// follower queues after the look waits for the next take.
	var queued bool
	if err := s.r.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM pushed_events)`).Scan(&queued); err != nil {
		return nil, fmt.Errorf("store: take pushed events: %w", err)
	}
	if !queued {
		return nil, nil
	}
	var out []PushedEvent
	err := s.quietTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `DELETE FROM pushed_events WHERE id IN
			(SELECT id FROM pushed_events ORDER BY id LIMIT ?)
			RETURNING id, resource_type, connection, resource_id, external_id, state, started_at, finished_at, message`, limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		type row struct {
			id int64
			e  PushedEvent
		}
		var got []row
		for rows.Next() {
			var r row
			var state string
			var started, finished sql.NullString
			if err := rows.Scan(&r.id, &r.e.Resource.Type, &r.e.Resource.Connection, &r.e.Resource.ID, &r.e.Run.ExternalID,
				&state, &started, &finished, &r.e.Run.Message); err != nil {
				return err
			}
			r.e.Run.State = sekisho.JobState(state)
			r.e.Run.StartedAt, r.e.Run.FinishedAt = parseTS(started), parseTS(finished)
			got = append(got, r)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		// RETURNING promises no order: put them back in arrival order.
		for i := 1; i < len(got); i++ {
			for j := i; j > 0 && got[j].id < got[j-1].id; j-- {
				got[j], got[j-1] = got[j-1], got[j]
			}
		}
		for _, r := range got {
			out = append(out, r.e)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: take pushed events: %w", err)
	}
	return out, nil
}

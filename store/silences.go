package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/sekisho-dev/sekisho"
)

// Silence is a maintenance window (SPEC §17): while it lasts, its
// pipelines' notices are recorded as silenced and not sent. Gating, SLOs
// and the board go on.
type Silence struct {
	ID        string    `json:"id"`
	Pipelines []string  `json:"pipelines"`
	Reason    string    `json:"reason"`
	StartsAt  time.Time `json:"starts_at"`
	EndsAt    time.Time `json:"until"`
	CreatedAt time.Time `json:"created_at"`
	ExpiredAt time.Time `json:"expired_at,omitzero"` // set when ended early
}

// End is when the silence stops: its end, or the moment it was expired.
func (s Silence) End() time.Time {
	if !s.ExpiredAt.IsZero() && s.ExpiredAt.Before(s.EndsAt) {
		return s.ExpiredAt
	}
	return s.EndsAt
}

// ActiveAt reports whether the silence holds at t.
func (s Silence) ActiveAt(t time.Time) bool { return !t.Before(s.StartsAt) && t.Before(s.End()) }

// Covers reports whether the silence names the pipeline.
func (s Silence) Covers(pipeline string) bool { return slices.Contains(s.Pipelines, pipeline) }

// Silences is a list of silences.
type Silences []Silence

// For returns the silence that holds pipeline at t: the one that lasts
// longest, so the board shows when the window really ends.
func (ss Silences) For(pipeline string, t time.Time) (Silence, bool) {
	var best Silence
	found := false
	for _, s := range ss {
		if s.Covers(pipeline) && s.ActiveAt(t) && (!found || s.End().After(best.End())) {
			best, found = s, true
		}
	}
	return best, found
}

// ErrBadSilence marks a silence that cannot be added; its message says why.
var ErrBadSilence = errors.New("bad silence")

// AddSilence records a silence starting at its StartsAt and returns it with
// its id: a new random one unless sil.ID is set (a copy from another store).
func (s *Store) AddSilence(ctx context.Context, sil Silence) (Silence, error) {
	sil, err := prepareSilence(sil)
	if err != nil {
		return sil, err
	}
	if err := s.touchTx(ctx, &touch{}, func(tx *sql.Tx) error { return insertSilence(ctx, tx, sil) }); err != nil {
		return sil, fmt.Errorf("store: add silence: %w", err)
	}
	return sil, nil
}

// prepareSilence checks a silence and fills in its id, creation time and
// sorted pipelines.
func prepareSilence(sil Silence) (Silence, error) {
	switch {
	case len(sil.Pipelines) == 0:
		return sil, fmt.Errorf("%w: name at least one pipeline", ErrBadSilence)
	case strings.TrimSpace(sil.Reason) == "":
		return sil, fmt.Errorf("%w: give a reason, so people know why the notices stopped", ErrBadSilence)
	case !sil.EndsAt.After(sil.StartsAt):
		return sil, fmt.Errorf("%w: the end %s is not after the start %s", ErrBadSilence,
			sil.EndsAt.UTC().Format(time.RFC3339), sil.StartsAt.UTC().Format(time.RFC3339))
	}
	if sil.ID == "" {
		id, err := NewID("sil_")
		if err != nil {
			return sil, err
		}
		sil.ID = id
	}
	if sil.CreatedAt.IsZero() {
		sil.CreatedAt = sil.StartsAt
	}
	sil.Pipelines = slices.Compact(slices.Sorted(slices.Values(sil.Pipelines)))
	return sil, nil
}

func insertSilence(ctx context.Context, tx *sql.Tx, sil Silence) error {
	if _, err := tx.ExecContext(ctx, `INSERT INTO silences (id, reason, starts_at, ends_at, created_at) VALUES (?, ?, ?, ?, ?)`,
		sil.ID, sil.Reason, ts(sil.StartsAt), ts(sil.EndsAt), ts(sil.CreatedAt)); err != nil {
		return err
	}
	for _, p := range sil.Pipelines {
		if _, err := tx.ExecContext(ctx, `INSERT INTO silence_pipelines (silence_id, pipeline) VALUES (?, ?)`, sil.ID, p); err != nil {
			return err
		}
	}
	return nil
}

// ExpireSilence ends a silence at at (if it has not ended already) and
// returns it; an unknown id is an error wrapping sekisho.ErrNotFound.
// Nothing held back by it is sent afterwards: its notices stay silenced.
func (s *Store) ExpireSilence(ctx context.Context, id string, at time.Time) (Silence, error) {
	_, err := s.touchExec(ctx, &touch{}, `UPDATE silences SET expired_at = ? WHERE id = ? AND expired_at IS NULL AND ends_at > ?`,
		ts(at), id, ts(at))
	if err != nil {
		return Silence{}, fmt.Errorf("store: expire silence: %w", err)
	}
	out, err := s.querySilences(ctx, `WHERE id = ?`, id)
	if err != nil {
		return Silence{}, err
	}
	if len(out) == 0 {
		return Silence{}, fmt.Errorf("no silence %s: %w", id, sekisho.ErrNotFound)
	}
	return out[0], nil
}

// SilencesEndingAfter returns the silences that end after t (all of them
// for a zero t), in the order they start.
func (s *Store) SilencesEndingAfter(ctx context.Context, t time.Time) (Silences, error) {
	if t.IsZero() {
		return s.querySilences(ctx, ``)
	}
	return s.querySilences(ctx, `WHERE ends_at > ? AND (expired_at IS NULL OR expired_at > ?)`, ts(t), ts(t))
}

func (s *Store) querySilences(ctx context.Context, where string, args ...any) (Silences, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT id, reason, starts_at, ends_at, created_at, expired_at FROM silences `+
		where+` ORDER BY starts_at, id`, args...)
	if err != nil {
		return nil, fmt.Errorf("store: silences: %w", err)
	}
	var out Silences
	for rows.Next() {
		var sil Silence
		var start, end, created string
		var expired sql.NullString
		if err := rows.Scan(&sil.ID, &sil.Reason, &start, &end, &created, &expired); err != nil {
			rows.Close()
			return nil, fmt.Errorf("store: silences: %w", err)
		}
		sil.StartsAt = parseTS(sql.NullString{String: start, Valid: true})
		sil.EndsAt = parseTS(sql.NullString{String: end, Valid: true})
		sil.CreatedAt = parseTS(sql.NullString{String: created, Valid: true})
		sil.ExpiredAt = parseTS(expired)
		out = append(out, sil)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: silences: %w", err)
	}
	for i := range out {
		ps, err := s.r.QueryContext(ctx, `SELECT pipeline FROM silence_pipelines WHERE silence_id = ? ORDER BY pipeline`, out[i].ID)
		if err != nil {
			return nil, fmt.Errorf("store: silence pipelines: %w", err)
		}
		for ps.Next() {
			var p string
			if err := ps.Scan(&p); err != nil {
				ps.Close()
				return nil, fmt.Errorf("store: silence pipelines: %w", err)
			}
			out[i].Pipelines = append(out[i].Pipelines, p)
		}
		ps.Close()
	}
	return out, nil
}

// CheckSilencePipelines refuses a silence naming a pipeline known does not
// know: a typo would silence nothing while the operator believes otherwise.
func CheckSilencePipelines(names []string, known func(string) bool) error {
	var bad []string
	for _, n := range names {
		if !known(n) {
			bad = append(bad, fmt.Sprintf("%q", n))
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("%w: unknown pipeline %s (see pipelines.yaml)", ErrBadSilence, strings.Join(bad, ", "))
	}
	return nil
}

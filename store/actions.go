package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sekisho-dev/sekisho"
)

// Operator actions (SPEC §20). Every rerun, skip, silence and
// acknowledgement is one row of operator_actions, written in the same
// transaction as what it does: the run's transition (Step.Action), the
// silence, or the acknowledgement. The row's key is (action, pipeline, run
// key, request); a second write with the same key is ErrDuplicate and the
// whole transaction is rolled back, so a click Slack delivers twice changes
// nothing the second time.

// Action kinds.
const (
	ActionAck     = "ack"
	ActionRerun   = "rerun"
	ActionSkip    = "skip"
	ActionSilence = "silence"
)

// ErrDuplicate marks an action whose key was written before: the same
// request delivered again.
var ErrDuplicate = errors.New("action already done")

// Action is one operator action.
type Action struct {
	Kind     string `json:"action"`
	Pipeline string `json:"pipeline"`
	Key      string `json:"key"`
	// Request identifies the request: Slack's action_ts, so a redelivered
	// click has the same one; a fresh id for the API and the CLI.
	Request  string    `json:"-"`
	By       string    `json:"by"` // slack:<user id> | api | cli
	Incident string    `json:"incident,omitempty"`
	Detail   string    `json:"detail,omitempty"` // what it did: "attempt 2", an ETA, a silence's end
	At       time.Time `json:"at"`
}

// NewID returns a fresh random id with prefix: a silence's, or the request
// id of an action from the API or the CLI.
func NewID(prefix string) (string, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("store: new id: %w", err)
	}
	return prefix + hex.EncodeToString(b[:]), nil
}

func insertAction(ctx context.Context, tx *sql.Tx, a Action) error {
	if a.Kind == "" || a.Request == "" || a.By == "" {
		return fmt.Errorf("store: an action needs a kind, a request and who asked")
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO operator_actions (action, pipeline, run_key, request, actor, incident_key, detail, at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (action, pipeline, run_key, request) DO NOTHING`,
		a.Kind, a.Pipeline, a.Key, a.Request, a.By, a.Incident, a.Detail, ts(a.At))
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("%s %s %s (request %s): %w", a.Kind, a.Pipeline, a.Key, a.Request, ErrDuplicate)
	}
	return nil
}

// HasAction reports whether the action with this key was recorded: a
// redelivered click whose first delivery already moved the run finds it
// here, before the run's new state refuses it for another reason.
func (s *Store) HasAction(ctx context.Context, kind, pipeline, key, request string) (bool, error) {
	var n int
	err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM operator_actions WHERE action = ? AND pipeline = ? AND run_key = ? AND request = ?`,
		kind, pipeline, key, request).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("store: has action: %w", err)
	}
	return n > 0, nil
}

// ActionFilter selects actions; empty fields do not filter.
type ActionFilter struct {
	Incident string
	Pipeline string
	Key      string
}

// Actions lists operator actions, oldest first: an incident's history, or
// a run's.
func (s *Store) Actions(ctx context.Context, f ActionFilter) ([]Action, error) {
	var where []string
	var args []any
	for _, c := range []struct{ col, v string }{{"incident_key", f.Incident}, {"pipeline", f.Pipeline}, {"run_key", f.Key}} {
		if c.v != "" {
			where = append(where, c.col+" = ?")
			args = append(args, c.v)
		}
	}
	q := `SELECT action, pipeline, run_key, request, actor, incident_key, detail, at FROM operator_actions`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, ` AND `)
	}
	q += ` ORDER BY at, action, request`
	return queryAll(ctx, s.r, "operator actions", func(sc scanner) (Action, error) {
		var a Action
		var at string
		err := sc.Scan(&a.Kind, &a.Pipeline, &a.Key, &a.Request, &a.By, &a.Incident, &a.Detail, &at)
		a.At = parseTS(sql.NullString{String: at, Valid: true})
		return a, err
	}, q, args...)
}

// Ack is an incident's acknowledgement: who is on it, since when, and when
// they expect it fixed (zero ETA: not said).
type Ack struct {
	Incident string    `json:"-"`
	By       string    `json:"acknowledged_by"`
	Name     string    `json:"acknowledged_name,omitempty"` // shown as @name
	At       time.Time `json:"acknowledged_at"`
	ETA      time.Time `json:"eta,omitzero"`
}

// Acknowledge records an acknowledgement with its action and the notices
// it causes (the thread reply), in one transaction. A later one replaces
// an earlier one. An action written before is ErrDuplicate.
func (s *Store) Acknowledge(ctx context.Context, a Action, ack Ack, notices []sekisho.Notice) error {
	if ack.Incident == "" {
		return errors.New("store: an acknowledgement names its incident")
	}
	err := s.touchTx(ctx, &touch{incidents: true}, func(tx *sql.Tx) error {
		if err := insertAction(ctx, tx, a); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO incident_acks (incident_key, acknowledged_by, name, acknowledged_at, eta)
			VALUES (?, ?, ?, ?, ?) ON CONFLICT (incident_key) DO UPDATE SET acknowledged_by = excluded.acknowledged_by,
			name = excluded.name, acknowledged_at = excluded.acknowledged_at, eta = excluded.eta`,
			ack.Incident, ack.By, ack.Name, ts(ack.At), nts(ack.ETA)); err != nil {
			return err
		}
		return insertNotices(ctx, tx, notices, a.At)
	})
	if err != nil {
		return fmt.Errorf("store: acknowledge %s: %w", ack.Incident, err)
	}
	return nil
}

// Acks returns the acknowledgements of the given incidents (all of them
// when keys is empty), by incident key.
func (s *Store) Acks(ctx context.Context, keys ...string) (map[string]Ack, error) {
	q := `SELECT incident_key, acknowledged_by, name, acknowledged_at, eta FROM incident_acks`
	var args []any
	if len(keys) > 0 {
		q += ` WHERE incident_key IN (` + placeholders(len(keys)) + `)`
		args = strArgs(keys)
	}
	list, err := queryAll(ctx, s.r, "incident acks", func(sc scanner) (Ack, error) {
		var a Ack
		var at string
		var eta sql.NullString
		err := sc.Scan(&a.Incident, &a.By, &a.Name, &at, &eta)
		a.At = parseTS(sql.NullString{String: at, Valid: true})
		a.ETA = parseTS(eta)
		return a, err
	}, q, args...)
	if err != nil {
		return nil, err
	}
	out := make(map[string]Ack, len(list))
	for _, a := range list {
		out[a.Incident] = a
	}
	return out, nil
}

// AddSilenceBy records a silence asked for by an operator action, with the
// notices it causes, in one transaction. An action written before is
// ErrDuplicate and adds no silence.
func (s *Store) AddSilenceBy(ctx context.Context, sil Silence, a Action, notices []sekisho.Notice) (Silence, error) {
	sil, err := prepareSilence(sil)
	if err != nil {
		return sil, err
	}
	err = s.touchTx(ctx, &touch{}, func(tx *sql.Tx) error {
		if err := insertAction(ctx, tx, a); err != nil {
			return err
		}
		if err := insertSilence(ctx, tx, sil); err != nil {
			return err
		}
		return insertNotices(ctx, tx, notices, a.At)
	})
	if err != nil {
		return sil, fmt.Errorf("store: add silence: %w", err)
	}
	return sil, nil
}

func insertNotices(ctx context.Context, tx *sql.Tx, ns []sekisho.Notice, at time.Time) error {
	for _, n := range ns {
		if _, err := insertNotice(ctx, tx, n, at); err != nil {
			return err
		}
	}
	return nil
}

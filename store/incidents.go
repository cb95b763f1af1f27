package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sekisho-dev/sekisho"
)

// Incidents (SPEC §17) are written in the transaction of the step that
// causes them: Step.Incidents carries incident.Decide's changes into Apply
// (or AddNoticesWithIncidents), and Step.Notices the messages it queued.
// The store writes what it is told and decides nothing. Every write is
// keyed (the incident key; a member's incident, pipeline and run key; the
// notices' dedupe keys), so writing a change twice, after a restart or a
// replay, neither doubles an incident nor queues a message twice.

// writeIncidents applies a decision's changes in tx.
func writeIncidents(ctx context.Context, tx *sql.Tx, changes []sekisho.IncidentChange, at time.Time) error {
	for _, c := range changes {
		if err := writeIncident(ctx, tx, c, at); err != nil {
			return fmt.Errorf("incident %s: %w", c.Key(), err)
		}
	}
	return nil
}

func writeIncident(ctx context.Context, tx *sql.Tx, c sekisho.IncidentChange, at time.Time) error {
	key, cause := c.Key(), c.Cause
	if cause.Kind != sekisho.CauseJob && cause.Kind != sekisho.CauseRun {
		return fmt.Errorf("unknown cause kind %q", cause.Kind)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO incidents (incident_key, logical_date, run_key, cause_kind, cause_pipeline,
		cause_upstream, cause_resource, cause_external_id, cause_state, cause_message, opened_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (incident_key) DO NOTHING`,
		key, cause.Date, cause.Interval(), cause.Kind, cause.Pipeline, cause.Upstream, cause.Resource, cause.ExternalID,
		cause.State, cause.Message, ts(at)); err != nil {
		return err
	}
	var id int64
	var resolved sql.NullString
	if err := tx.QueryRowContext(ctx, `SELECT id, resolved_at FROM incidents WHERE incident_key = ?`, key).
		Scan(&id, &resolved); err != nil {
		return err
	}
	if c.CauseSpoke {
		if _, err := tx.ExecContext(ctx, `UPDATE incidents SET cause_state = ?, cause_message = ? WHERE id = ?`,
			cause.State, cause.Message, id); err != nil {
			return err
		}
	}
	for _, m := range c.Members {
		if err := writeMember(ctx, tx, id, m, at); err != nil {
			return err
		}
	}
	switch {
	case !c.ResolvedAt.IsZero() && resolved.Valid:
		// Decided on a stale view: resolving it again would send its
		// resolved message twice. The caller reads the incidents again.
		return fmt.Errorf("resolving an incident resolved at %s: %w", resolved.String, sekisho.ErrConflict)
	case !c.ResolvedAt.IsZero():
		_, err := tx.ExecContext(ctx, `UPDATE incidents SET resolved_at = ? WHERE id = ?`, ts(c.ResolvedAt), id)
		return err
	case resolved.Valid:
		_, err := tx.ExecContext(ctx, `UPDATE incidents SET resolved_at = NULL WHERE id = ?`, id)
		return err
	}
	return nil
}

// writeMember adds a member, or refreshes its kind, state and run (its
// role and joining time stay as first written). A member is a pipeline
// run: its pipeline and run key (a daily run's key is its date).
func writeMember(ctx context.Context, tx *sql.Tx, id int64, m sekisho.IncidentMember, at time.Time) error {
	if m.Role != sekisho.RoleCause && m.Role != sekisho.RoleAffected {
		return fmt.Errorf("member %s %s: unknown role %q", m.Pipeline, m.Date, m.Role)
	}
	res, err := tx.ExecContext(ctx, `UPDATE incident_members SET kind = ?, state = ?,
		run_id = CASE WHEN ? <> 0 THEN ? ELSE run_id END, updated_at = ?
		WHERE incident_id = ? AND pipeline = ? AND run_key = ?`,
		string(m.Kind), string(m.State), m.RunID, m.RunID, ts(at), id, m.Pipeline, m.Interval())
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n > 0 {
		return nil
	}
	joined := m.JoinedAt
	if joined.IsZero() {
		joined = at
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO incident_members (incident_id, pipeline, logical_date, run_key, run_id,
		role, kind, state, joined_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		id, m.Pipeline, m.Date, m.Interval(), m.RunID, m.Role, string(m.Kind), string(m.State), ts(joined), ts(at))
	return err
}

// memberColumns are the columns scanMember reads.
func (s *Store) memberColumns() string {
	return `pipeline, logical_date, ` + s.keyColumn() + `, run_id, role, kind, state, joined_at`
}

func scanMember(sc scanner) (sekisho.IncidentMember, error) {
	var m sekisho.IncidentMember
	var kind, state, joined string
	err := sc.Scan(&m.Pipeline, &m.Date, &m.RunKey, &m.RunID, &m.Role, &kind, &state, &joined)
	m.Kind, m.State = sekisho.NoticeKind(kind), sekisho.State(state)
	m.JoinedAt = parseTS(sql.NullString{String: joined, Valid: true})
	return m, err
}

// rowsQuerier is a *sql.Tx or a *sql.DB.
type rowsQuerier interface {
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
}

func (s *Store) membersOf(ctx context.Context, q rowsQuerier, id int64) ([]sekisho.IncidentMember, error) {
	return queryAll(ctx, q, "incident members", scanMember, `SELECT `+s.memberColumns()+` FROM incident_members WHERE incident_id = ?
		ORDER BY joined_at, pipeline, `+s.keyColumn(), id)
}

// incidentColumns are the columns scanIncident reads.
func (s *Store) incidentColumns() string {
	return `id, incident_key, logical_date, ` + s.keyColumn() + `, cause_kind, cause_pipeline, cause_upstream, cause_resource,
	cause_external_id, cause_state, cause_message, opened_at, resolved_at`
}

func scanIncident(sc scanner) (sekisho.Incident, error) {
	var i sekisho.Incident
	var opened string
	var resolved sql.NullString
	c := &i.Cause
	err := sc.Scan(&i.ID, &i.Key, &c.Date, &c.RunKey, &c.Kind, &c.Pipeline, &c.Upstream, &c.Resource, &c.ExternalID,
		&c.State, &c.Message, &opened, &resolved)
	i.OpenedAt = parseTS(sql.NullString{String: opened, Valid: true})
	i.ResolvedAt = parseTS(resolved)
	return i, err
}

// IncidentFilter selects incidents. Empty fields do not filter.
type IncidentFilter struct {
	Date     string // incidents listed under this logical date, or with a member on it
	Pipeline string // incidents with this pipeline as a member
	Open     bool   // only those not resolved
	Limit    int    // 0 = no limit
}

// Incidents lists incidents with their members, newest first.
func (s *Store) Incidents(ctx context.Context, f IncidentFilter) ([]sekisho.Incident, error) {
	var where []string
	var args []any
	if f.Date != "" {
		where = append(where, `(logical_date = ? OR id IN (SELECT incident_id FROM incident_members WHERE logical_date = ?))`)
		args = append(args, f.Date, f.Date)
	}
	if f.Pipeline != "" {
		where = append(where, `id IN (SELECT incident_id FROM incident_members WHERE pipeline = ?)`)
		args = append(args, f.Pipeline)
	}
	if f.Open {
		where = append(where, `resolved_at IS NULL`)
	}
	q := `SELECT ` + s.incidentColumns() + ` FROM incidents`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, ` AND `)
	}
	q += ` ORDER BY id DESC`
	if f.Limit > 0 {
		q += fmt.Sprintf(` LIMIT %d`, f.Limit)
	}
	return s.queryIncidents(ctx, q, args...)
}

// OpenIncidents returns the incidents not resolved yet, oldest first: what
// incident.Decide starts from.
func (s *Store) OpenIncidents(ctx context.Context) ([]sekisho.Incident, error) {
	return s.queryIncidents(ctx, `SELECT `+s.incidentColumns()+` FROM incidents WHERE resolved_at IS NULL ORDER BY id`)
}

// Incident returns one incident by its key, or an error wrapping
// sekisho.ErrNotFound.
func (s *Store) Incident(ctx context.Context, key string) (sekisho.Incident, error) {
	out, err := s.queryIncidents(ctx, `SELECT `+s.incidentColumns()+` FROM incidents WHERE incident_key = ?`, key)
	if err != nil {
		return sekisho.Incident{}, err
	}
	if len(out) == 0 {
		return sekisho.Incident{}, fmt.Errorf("no incident %s: %w", key, sekisho.ErrNotFound)
	}
	return out[0], nil
}

func (s *Store) queryIncidents(ctx context.Context, q string, args ...any) ([]sekisho.Incident, error) {
	// The rows are closed before the members are read: a store on one
	// connection could not run the second query while they are open.
	out, err := queryAll(ctx, s.r, "incidents", scanIncident, q, args...)
	if err != nil {
		return nil, err
	}
	for k := range out {
		if out[k].Members, err = s.membersOf(ctx, s.r, out[k].ID); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// IncidentNotified returns when the last message about an incident was
// posted (zero if none), for webhook mode's slack.group_wait.
func (s *Store) IncidentNotified(ctx context.Context, key string) (time.Time, error) {
	var at sql.NullString
	err := s.r.QueryRowContext(ctx, `SELECT notified_at FROM incidents WHERE incident_key = ?`, key).Scan(&at)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, fmt.Errorf("store: incident notified: %w", err)
	}
	return parseTS(at), nil
}

// MarkIncidentNotified records that a message about an incident was posted.
func (s *Store) MarkIncidentNotified(ctx context.Context, key string, at time.Time) error {
	if _, err := s.touchExec(ctx, &touch{incidents: true}, `UPDATE incidents SET notified_at = ? WHERE incident_key = ?`, ts(at), key); err != nil {
		return fmt.Errorf("store: mark incident notified: %w", err)
	}
	return nil
}

// IncidentThread returns the Slack thread root of an incident (bot mode).
func (s *Store) IncidentThread(ctx context.Context, key string) (channel, ts string, ok bool, err error) {
	err = s.r.QueryRowContext(ctx, `SELECT t.channel, t.ts FROM incident_threads t JOIN incidents i ON i.id = t.incident_id
		WHERE i.incident_key = ?`, key).Scan(&channel, &ts)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", false, nil
	}
	if err != nil {
		return "", "", false, fmt.Errorf("store: incident thread: %w", err)
	}
	return channel, ts, true, nil
}

// SaveIncidentThread records the Slack thread root of an incident; the
// first one wins.
func (s *Store) SaveIncidentThread(ctx context.Context, key, channel, threadTS string, at time.Time) error {
	_, err := s.touchExec(ctx, &touch{}, `INSERT INTO incident_threads (incident_id, channel, ts, created_at)
		SELECT id, ?, ?, ? FROM incidents WHERE incident_key = ? ON CONFLICT (incident_id) DO NOTHING`,
		channel, threadTS, ts(at), key)
	if err != nil {
		return fmt.Errorf("store: save incident thread: %w", err)
	}
	return nil
}

// AddNoticesWithIncidents queues notices that no state change carries (a
// deadline passing, a second upstream failing while blocked) together with
// the incident changes they cause, in one transaction, so the board never
// shows a notice without the incident that speaks for it. It returns how
// many notices were new (a dedupe key seen before adds nothing).
func (s *Store) AddNoticesWithIncidents(ctx context.Context, ns []sekisho.Notice, changes []sekisho.IncidentChange, at time.Time) (int, error) {
	added := 0
	err := s.touchTx(ctx, &touch{incidents: len(changes) > 0}, func(tx *sql.Tx) error {
		added = 0
		if err := writeIncidents(ctx, tx, changes, at); err != nil {
			return err
		}
		for _, n := range ns {
			ok, err := insertNotice(ctx, tx, n, at)
			if err != nil {
				return err
			}
			if ok {
				added++
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("store: add notices with incidents: %w", err)
	}
	return added, nil
}

package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/incident"
)

// Incidents (SPEC §17) are written in the transaction of the transition
// that causes them: Step.Incidents carries incident.Place's changes into
// Apply, and Apply also moves the run's memberships to its new state and
// resolves an incident whose members are all done. Every write is keyed
// (the incident key; a member's incident, pipeline and date; the notices'
// dedupe keys), so writing a change twice, after a restart or a replay,
// neither doubles an incident nor queues a message twice.

// writeIncidents applies the changes of a step in tx. The incident
// messages they cause go into the outbox in the same transaction: the
// opening one when the first affected pipeline joins, a joined one for
// every later affected pipeline.
func writeIncidents(ctx context.Context, tx *sql.Tx, changes []incident.Change, at time.Time) error {
	for _, c := range changes {
		if err := writeIncident(ctx, tx, c, at); err != nil {
			return fmt.Errorf("incident %s: %w", c.Key(), err)
		}
	}
	return nil
}

func writeIncident(ctx context.Context, tx *sql.Tx, c incident.Change, at time.Time) error {
	key, cause := c.Key(), c.Cause
	if cause.Kind != incident.CauseJob && cause.Kind != incident.CauseRun {
		return fmt.Errorf("unknown cause kind %q", cause.Kind)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO incidents (incident_key, logical_date, cause_kind, cause_pipeline,
		cause_upstream, cause_resource, cause_external_id, cause_state, cause_message, opened_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (incident_key) DO NOTHING`,
		key, cause.Date, cause.Kind, cause.Pipeline, cause.Upstream, cause.Resource, cause.ExternalID,
		cause.State, cause.Message, ts(at)); err != nil {
		return err
	}
	var id int64
	var resolved sql.NullString
	if err := tx.QueryRowContext(ctx, `SELECT id, resolved_at FROM incidents WHERE incident_key = ?`, key).
		Scan(&id, &resolved); err != nil {
		return err
	}
	if cause.Kind == incident.CauseRun && causeSpeaks(c) {
		// The cause run's own trouble grows (late, then timed out).
		if _, err := tx.ExecContext(ctx, `UPDATE incidents SET cause_state = ?, cause_message = ? WHERE id = ?`,
			cause.State, cause.Message, id); err != nil {
			return err
		}
	}
	if resolved.Valid {
		// The same cause is back (a rerun failed the same way): the
		// incident is open again, so the board shows it.
		if _, err := tx.ExecContext(ctx, `UPDATE incidents SET resolved_at = NULL WHERE id = ?`, id); err != nil {
			return err
		}
	}
	for _, m := range c.Members {
		var role string
		err := tx.QueryRowContext(ctx, `SELECT role FROM incident_members WHERE incident_id = ? AND pipeline = ? AND logical_date = ?`,
			id, m.Pipeline, m.Date).Scan(&role)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			if m.Role != incident.RoleCause && m.Role != incident.RoleAffected {
				return fmt.Errorf("member %s %s: unknown role %q", m.Pipeline, m.Date, m.Role)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO incident_members (incident_id, pipeline, logical_date, run_id,
				role, kind, state, joined_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				id, m.Pipeline, m.Date, m.RunID, m.Role, string(m.Kind), string(m.State), ts(at), ts(at)); err != nil {
				return err
			}
			if m.Role == incident.RoleAffected {
				if err := announceJoin(ctx, tx, id, key, cause, m, at); err != nil {
					return err
				}
			}
		case err != nil:
			return err
		default:
			if _, err := tx.ExecContext(ctx, `UPDATE incident_members SET kind = ?, state = ?,
				run_id = CASE WHEN ? <> 0 THEN ? ELSE run_id END, updated_at = ?
				WHERE incident_id = ? AND pipeline = ? AND logical_date = ?`,
				string(m.Kind), string(m.State), m.RunID, m.RunID, ts(at), id, m.Pipeline, m.Date); err != nil {
				return err
			}
		}
	}
	return nil
}

// causeSpeaks reports whether a change carries the cause run's own trouble,
// so its state is the cause's state now.
func causeSpeaks(c incident.Change) bool {
	for _, m := range c.Members {
		if m.Role == incident.RoleCause && m.Pipeline == c.Cause.Pipeline && m.Date == c.Cause.Date {
			return true
		}
	}
	return false
}

// announceJoin queues the message of an affected pipeline joining: the
// incident's opening message when it is the first, a joined one after.
func announceJoin(ctx context.Context, tx *sql.Tx, id int64, key string, cause incident.Cause, m incident.Member, at time.Time) error {
	n, err := countAffected(ctx, tx, id)
	if err != nil {
		return err
	}
	msg := incident.JoinedNotice(key, m, at)
	if n == 1 {
		msg = incident.OpenedNotice(key, cause, at)
	}
	_, err = insertNotice(ctx, tx, msg, at)
	return err
}

func countAffected(ctx context.Context, tx *sql.Tx, id int64) (int, error) {
	var n int
	err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM incident_members WHERE incident_id = ? AND role = ?`,
		id, incident.RoleAffected).Scan(&n)
	return n, err
}

// settleIncidents moves every open membership of run r to its state, queues
// a recovered message for an affected member that is done, and resolves
// the incidents whose members are all done (with their resolved message,
// which then speaks for the last recovery too).
func settleIncidents(ctx context.Context, tx *sql.Tx, r sekisho.Run, at time.Time) error {
	rows, err := tx.QueryContext(ctx, `SELECT m.incident_id, i.incident_key, i.logical_date, m.role, m.kind, m.state
		FROM incident_members m JOIN incidents i ON i.id = m.incident_id
		WHERE m.pipeline = ? AND m.logical_date = ? AND i.resolved_at IS NULL ORDER BY m.incident_id`,
		r.Pipeline, r.LogicalDate)
	if err != nil {
		return err
	}
	type hit struct {
		id         int64
		key, date  string
		role, kind string
		state      sekisho.State
	}
	var hits []hit
	for rows.Next() {
		var h hit
		var state string
		if err := rows.Scan(&h.id, &h.key, &h.date, &h.role, &h.kind, &state); err != nil {
			rows.Close()
			return err
		}
		h.state = sekisho.State(state)
		hits = append(hits, h)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, h := range hits {
		if h.state == r.State {
			continue
		}
		if _, err := tx.ExecContext(ctx, `UPDATE incident_members SET state = ?, updated_at = ?
			WHERE incident_id = ? AND pipeline = ? AND logical_date = ?`,
			string(r.State), ts(at), h.id, r.Pipeline, r.LogicalDate); err != nil {
			return err
		}
		m := incident.Member{Pipeline: r.Pipeline, Date: r.LogicalDate, Role: h.role, Kind: sekisho.NoticeKind(h.kind), State: r.State}
		if !m.Done() {
			continue
		}
		members, err := membersOf(ctx, tx, h.id)
		if err != nil {
			return err
		}
		announced, err := countAffected(ctx, tx, h.id)
		if err != nil {
			return err
		}
		if incident.Resolved(members) {
			res, err := tx.ExecContext(ctx, `UPDATE incidents SET resolved_at = ? WHERE id = ? AND resolved_at IS NULL`, ts(at), h.id)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n > 0 && announced > 0 {
				// Keyed by the time too: an incident reopened by the same
				// cause coming back resolves, and says so, again.
				msg := incident.ResolvedNotice(h.key, h.date, at)
				msg.DedupeKey += ":" + ts(at)
				if _, err := insertNotice(ctx, tx, msg, at); err != nil {
					return err
				}
			}
			continue
		}
		if h.role == incident.RoleAffected {
			if _, err := insertNotice(ctx, tx, incident.RecoveredNotice(h.key, m, at), at); err != nil {
				return err
			}
		}
	}
	return nil
}

const memberColumns = `pipeline, logical_date, run_id, role, kind, state, joined_at`

func scanMember(sc scanner) (incident.Member, error) {
	var m incident.Member
	var kind, state, joined string
	err := sc.Scan(&m.Pipeline, &m.Date, &m.RunID, &m.Role, &kind, &state, &joined)
	m.Kind, m.State = sekisho.NoticeKind(kind), sekisho.State(state)
	m.JoinedAt = parseTS(sql.NullString{String: joined, Valid: true})
	return m, err
}

// rowsQuerier is a *sql.Tx or a *sql.DB.
type rowsQuerier interface {
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
}

func membersOf(ctx context.Context, q rowsQuerier, id int64) ([]incident.Member, error) {
	return queryAll(ctx, q, "incident members", scanMember, `SELECT `+memberColumns+` FROM incident_members WHERE incident_id = ?
		ORDER BY joined_at, pipeline, logical_date`, id)
}

// RecordIncidents writes incident changes in a transaction of their own,
// for a trouble no state change carries (a deadline passing, a second
// upstream failing while blocked): the engine's counterpart of AddNotice.
func (s *Store) RecordIncidents(ctx context.Context, changes []incident.Change, at time.Time) error {
	if len(changes) == 0 {
		return nil
	}
	err := s.withTx(ctx, func(tx *sql.Tx) error { return writeIncidents(ctx, tx, changes, at) })
	if err != nil {
		return fmt.Errorf("store: record incidents: %w", err)
	}
	return nil
}

const incidentColumns = `id, incident_key, logical_date, cause_kind, cause_pipeline, cause_upstream, cause_resource,
	cause_external_id, cause_state, cause_message, opened_at, resolved_at`

func scanIncident(sc scanner) (incident.Incident, error) {
	var i incident.Incident
	var opened string
	var resolved sql.NullString
	c := &i.Cause
	err := sc.Scan(&i.ID, &i.Key, &c.Date, &c.Kind, &c.Pipeline, &c.Upstream, &c.Resource, &c.ExternalID,
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
func (s *Store) Incidents(ctx context.Context, f IncidentFilter) ([]incident.Incident, error) {
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
	q := `SELECT ` + incidentColumns + ` FROM incidents`
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
// incident.Place needs.
func (s *Store) OpenIncidents(ctx context.Context) ([]incident.Incident, error) {
	return s.queryIncidents(ctx, `SELECT `+incidentColumns+` FROM incidents WHERE resolved_at IS NULL ORDER BY id`)
}

// Incident returns one incident by its key, or an error wrapping
// sekisho.ErrNotFound.
func (s *Store) Incident(ctx context.Context, key string) (incident.Incident, error) {
	out, err := s.queryIncidents(ctx, `SELECT `+incidentColumns+` FROM incidents WHERE incident_key = ?`, key)
	if err != nil {
		return incident.Incident{}, err
	}
	if len(out) == 0 {
		return incident.Incident{}, fmt.Errorf("no incident %s: %w", key, sekisho.ErrNotFound)
	}
	return out[0], nil
}

func (s *Store) queryIncidents(ctx context.Context, q string, args ...any) ([]incident.Incident, error) {
	// The rows are closed before the members are read: a store on one
	// connection could not run the second query while they are open.
	out, err := queryAll(ctx, s.r, "incidents", scanIncident, q, args...)
	if err != nil {
		return nil, err
	}
	for k := range out {
		if out[k].Members, err = membersOf(ctx, s.r, out[k].ID); err != nil {
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
	if _, err := s.exec(ctx, `UPDATE incidents SET notified_at = ? WHERE incident_key = ?`, ts(at), key); err != nil {
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
	_, err := s.exec(ctx, `INSERT INTO incident_threads (incident_id, channel, ts, created_at)
		SELECT id, ?, ?, ? FROM incidents WHERE incident_key = ? ON CONFLICT (incident_id) DO NOTHING`,
		channel, threadTS, ts(at), key)
	if err != nil {
		return fmt.Errorf("store: save incident thread: %w", err)
	}
	return nil
}

// IncidentRoles tells how a pipeline run takes part in incidents: the key
// of the earliest incident it is affected by ("" if none), and whether it
// is the cause of one. The sender groups a run's own notices by it.
func (s *Store) IncidentRoles(ctx context.Context, pipeline, date string) (affectedBy string, cause bool, err error) {
	rows, err := s.r.QueryContext(ctx, `SELECT i.incident_key, m.role FROM incident_members m JOIN incidents i ON i.id = m.incident_id
		WHERE m.pipeline = ? AND m.logical_date = ? ORDER BY i.id`, pipeline, date)
	if err != nil {
		return "", false, fmt.Errorf("store: incident roles: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var key, role string
		if err := rows.Scan(&key, &role); err != nil {
			return "", false, fmt.Errorf("store: incident roles: %w", err)
		}
		switch {
		case role == incident.RoleCause:
			cause = true
		case affectedBy == "":
			affectedBy = key
		}
	}
	return affectedBy, cause, rows.Err()
}

// AddNoticesWithIncidents queues notices that no state change carries (a
// deadline passing, a second upstream failing while blocked) together with
// the incident changes they cause, in one transaction, so the sender never
// sees such a notice before the membership that groups it. It returns how
// many notices were new (a dedupe key seen before adds nothing).
func (s *Store) AddNoticesWithIncidents(ctx context.Context, ns []sekisho.Notice, changes []incident.Change, at time.Time) (int, error) {
	added := 0
	err := s.withTx(ctx, func(tx *sql.Tx) error {
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

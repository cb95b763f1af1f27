package warehouse

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/policy/budget"
)

// postgres is a PostgreSQL warehouse: a small pgx pool whose sessions are
// named AppName, so the watch can leave them out. Each query waits for a
// slot of the warehouse's budget first.
type postgres struct {
	name   string
	pool   *pgxpool.Pool
	budget *budget.Budget
}

func openPostgres(ctx context.Context, w *config.Warehouse, b *budget.Budget) (*postgres, error) {
	pc, err := pgxpool.ParseConfig(w.DSN.Value())
	if err != nil {
		// pgx's parse errors may quote the DSN: say what to fix without it.
		return nil, fmt.Errorf("warehouse %s: the dsn does not parse as a PostgreSQL URL or key=value settings", w.Name)
	}
	pc.MaxConns = 4
	pc.MinConns = 0
	pc.MaxConnIdleTime = 5 * time.Minute
	pc.ConnConfig.RuntimeParams["application_name"] = AppName
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, fmt.Errorf("warehouse %s: %w", w.Name, redactPG(err))
	}
	return &postgres{name: w.Name, pool: pool, budget: b}, nil
}

func (p *postgres) Check(ctx context.Context, query string) (Result, error) {
	if err := p.budget.Wait(ctx); err != nil {
		return Result{}, err
	}
	rows, err := p.pool.Query(ctx, query)
	if err != nil {
		return Result{}, redactPG(err)
	}
	defer rows.Close()
	var res Result
	if rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			return Result{}, redactPG(err)
		}
		if len(vals) > 0 {
			res = readPG(vals[0])
		}
	}
	rows.Close()
	return res, redactPG(rows.Err())
}

// readPG reads pgx's numeric type as a number before the common rule.
func readPG(v any) Result {
	if n, ok := v.(pgtype.Numeric); ok {
		if !n.Valid || n.NaN || n.Int == nil {
			return Result{}
		}
		f, err := n.Float64Value()
		if err != nil || !f.Valid {
			return Result{Passed: n.Int.Sign() > 0}
		}
		return Result{Passed: n.Int.Sign() > 0, Value: &f.Float64}
	}
	return Read(v)
}

// runningPG lists the active client sessions of the DSN's database other
// than sekisho's own: this one (pg_backend_pid) and every session named
// AppName. Its first column says whether the role may see other roles'
// sessions at all: without superuser or the privileges of
// pg_read_all_stats, their state and query read as NULL, so they would
// silently drop out of the listing. The LEFT JOIN keeps that answer when no
// session is active, in the same round trip.
const runningPG = `WITH me AS (
  SELECT COALESCE((SELECT rolsuper FROM pg_roles WHERE rolname = current_user), false)
      OR pg_has_role(current_user, 'pg_read_all_stats', 'USAGE') AS sees_all,
    current_user AS role
)
SELECT me.sees_all, me.role, a.pid, COALESCE(a.usename, ''), a.query_start, COALESCE(a.query, '')
FROM me LEFT JOIN pg_stat_activity a
  ON a.state = 'active'
  AND a.backend_type = 'client backend'
  AND a.query_start IS NOT NULL
  AND a.datname = current_database()
  AND a.pid <> pg_backend_pid()
  AND COALESCE(a.application_name, '') <> $1
ORDER BY a.query_start`

// ErrHiddenSessions marks a PostgreSQL listing by a role that cannot see
// other roles' queries: the watch would be blind, so it reports this
// instead of an empty list.
var ErrHiddenSessions = errors.New("cannot see other roles' sessions")

func (p *postgres) Running(ctx context.Context) ([]Query, error) {
	if err := p.budget.Wait(ctx); err != nil {
		return nil, err
	}
	rows, err := p.pool.Query(ctx, runningPG, AppName)
	if err != nil {
		return nil, redactPG(err)
	}
	defer rows.Close()
	var qs []Query
	for rows.Next() {
		var seesAll bool
		var role string
		var pid *int32
		var q Query
		var started *time.Time
		if err := rows.Scan(&seesAll, &role, &pid, &q.User, &started, &q.Text); err != nil {
			return nil, redactPG(err)
		}
		if !seesAll {
			return nil, fmt.Errorf("warehouse %s: role %q %w in pg_stat_activity (their state and query read as NULL, so "+
				"long queries would go unseen); run GRANT pg_read_all_stats TO %s", p.name, role, ErrHiddenSessions, pgx.Identifier{role}.Sanitize())
		}
		if pid == nil { // no active session: the LEFT JOIN's empty side
			continue
		}
		q.PID = strconv.Itoa(int(*pid))
		q.StartedAt = started.UTC()
		// A pid is reused; with the query's start it names one query.
		q.Key = q.PID + "@" + q.StartedAt.Format(time.RFC3339Nano)
		qs = append(qs, q)
	}
	return qs, redactPG(rows.Err())
}

func (p *postgres) Close() error { p.pool.Close(); return nil }

// redactPG keeps a connection error from carrying the DSN's password: pgx
// names host and user, never the password, but a wrapped parse error may
// quote the whole string.
func redactPG(err error) error {
	if err == nil {
		return nil
	}
	var pe *pgconn.ParseConfigError
	if errors.As(err, &pe) {
		return errors.New("the dsn does not parse")
	}
	return err
}

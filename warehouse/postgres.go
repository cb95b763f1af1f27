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
// AppName.
const runningPG = `SELECT pid, COALESCE(usename, ''), query_start, COALESCE(query, '')
FROM pg_stat_activity
WHERE state = 'active'
  AND backend_type = 'client backend'
  AND query_start IS NOT NULL
  AND datname = current_database()
  AND pid <> pg_backend_pid()
  AND COALESCE(application_name, '') <> $1
ORDER BY query_start`

func (p *postgres) Running(ctx context.Context) ([]Query, error) {
	if err := p.budget.Wait(ctx); err != nil {
		return nil, err
	}
	rows, err := p.pool.Query(ctx, runningPG, AppName)
	if err != nil {
		return nil, redactPG(err)
	}
	qs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Query, error) {
		var q Query
		var pid int32
		err := r.Scan(&pid, &q.User, &q.StartedAt, &q.Text)
		q.PID = strconv.Itoa(int(pid))
		q.StartedAt = q.StartedAt.UTC()
		// A pid is reused; with the query's start it names one query.
		q.Key = q.PID + "@" + q.StartedAt.Format(time.RFC3339Nano)
		return q, err
	})
	return qs, redactPG(err)
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

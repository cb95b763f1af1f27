package store

import (
	"context"
	"fmt"
	"time"
)

// DataVersion changes whenever another connection — another process, such
// as `sekisho rerun` beside the daemon, or another replica — commits to
// the database. Writes through this Store do not change it. The engine uses
// it to know when the open runs it keeps in memory may be stale.
//
// SQLite answers with PRAGMA data_version on the writer connection.
// PostgreSQL has no such counter, so migration 006 keeps one per writer
// (data_versions), bumped by triggers on runs and notices (and, since
// migration 013, on upstream observations, incidents and their members
// and acknowledgements: all that the status listing reads), and the
// version is the sum of every other writer's count.
func (s *Store) DataVersion(ctx context.Context) (int64, error) {
	var v int64
	var err error
	if s.dialect == Postgres {
		err = s.r.QueryRowContext(ctx, `SELECT COALESCE(SUM(n), 0) FROM data_versions WHERE writer <> ?`, s.writer).Scan(&v)
	} else if s.prepare(ctx); s.stmts.ready.Load() {
		err = s.stmts.dataVersion.QueryRowContext(ctx).Scan(&v)
	} else {
		err = s.w.QueryRowContext(ctx, `PRAGMA data_version`).Scan(&v)
	}
	if err != nil {
		return 0, fmt.Errorf("store: data version: %w", err)
	}
	return v, nil
}

// ListingVersion is what the status listing's cache is keyed by: it
// changes whenever anything the listing reads may have changed, whoever
// wrote it. Equal versions mean the listing's reads would answer the same.
type ListingVersion struct {
	own    int64 // this Store's writes, counted in the process
	others int64 // DataVersion: every other connection's
}

// ListingVersion returns the current ListingVersion. DataVersion alone
// would not do: it leaves out this Store's own writes (PRAGMA data_version
// sees only other connections), so this Store counts its own commits
// itself. Writes to tables no listing reads (the poll schedule, budget
// grants, the lease, pushed events, notice delivery; quietTx) are not
// counted, so a daemon whose pipelines merely wait keeps its listing
// cached. Read it before the data it versions: counts rise only after
// their commit, so a version never describes older data than it names.
func (s *Store) ListingVersion(ctx context.Context) (ListingVersion, error) {
	own := s.changes.Load()
	others, err := s.DataVersion(ctx)
	if err != nil {
		return ListingVersion{}, err
	}
	return ListingVersion{own: own, others: others}, nil
}

// foldDataVersions merges the counts of writers quiet for a day (finished
// commands, replaced replicas) into the anonymous writer, so the table
// stays as small as the set of live writers. Sums seen by live writers do
// not change.
func (s *Store) foldDataVersions(ctx context.Context) error {
	if s.dialect != Postgres {
		return nil
	}
	_, err := s.quietExec(ctx, `WITH old AS (DELETE FROM data_versions WHERE writer <> '' AND at < ? RETURNING n)
		INSERT INTO data_versions (writer, n) SELECT '', COALESCE(SUM(n), 0) FROM old
		ON CONFLICT (writer) DO UPDATE SET n = data_versions.n + EXCLUDED.n`, time.Now().Add(-24*time.Hour))
	if err != nil {
		return fmt.Errorf("store: fold data versions: %w", err)
	}
	return nil
}

// Package store keeps sekisho's record: runs, their append-only
// transitions, upstream observations, and the notice outbox. The embedded
// default is a SQLite file (WAL mode, one writer connection and a pool of
// readers); a postgres:// URL selects a shared PostgreSQL database instead,
// for several replicas (SPEC §14). Both hold the same schema, applied from
// embedded numbered migrations per dialect, and answer every query alike:
// the Go SQL is written once, with `?` placeholders.
package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/sekisho-dev/sekisho"
	_ "modernc.org/sqlite" // registers the pure-Go "sqlite" driver
)

//go:embed migrations/sqlite/*.up.sql migrations/postgres/*.up.sql
var migrations embed.FS

// ErrLocked is returned by LockDaemon when another daemon holds the database.
var ErrLocked = errors.New("database is in use by another sekisho daemon")

// ErrSchemaNewer is returned by Open for a store migrated by a newer sekisho
// than this binary: its queries may no longer fit, so nothing touches it.
var ErrSchemaNewer = errors.New("store schema is newer than this sekisho")

// ErrSchemaOlder is returned by Current for a store this binary has not
// migrated yet: sekisho migrate (or sekisho run) brings it up to date.
var ErrSchemaOlder = errors.New("store schema is older than this sekisho")

// ErrNoStore is returned by Open, without Create, when there is no sekisho
// store at the place given.
var ErrNoStore = errors.New("no sekisho store")

// Dialect names the database behind a Store.
type Dialect string

// The two stores.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// Store is the record of sekisho, on SQLite or PostgreSQL.
type Store struct {
	path    string // file path, or the URL with its password hidden
	url     string // PostgreSQL: the URL itself, for ListenLease; never shown
	dialect Dialect
	writer  string // tags this Store's PostgreSQL writes for DataVersion
	w       *sql.DB
	r       *sql.DB
	lock    *os.File
	// schema is the version the queries read: the store's own when it is
	// opened and not migrated. Below run keys (migration 011) its runs
	// are all daily, and a run's key is read from logical_date (keys.go).
	schema int
	// changes counts this Store's committed writes to what the listings
	// read (ListingVersion), and changeLog what they changed
	// (ChangesBetween).
	changes   atomic.Int64
	changeLog changeLog
	// stmts are the hot SQLite statements, prepared once (prepared.go).
	stmts preparedStmts
}

// Option adjusts Open.
type Option func(*options)

type options struct {
	create bool
}

// Create lets Open create a SQLite store that does not exist yet, and open
// an empty database, for Migrate to fill. Only what owns a store's schema
// passes it: sekisho run and sekisho migrate, the demo and the benchmark
// for the fresh stores they make, and the test kits.
func Create() Option { return func(o *options) { o.create = true } }

// IsPostgresURL reports whether a store.path (or --db) names PostgreSQL.
func IsPostgresURL(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

// Open opens the store at pathOrURL: a SQLite file path (optionally
// written sqlite:PATH), or a postgres:// URL. It never changes the schema
// (Migrate does, and only sekisho run and sekisho migrate call it), so a
// newer `sekisho status` or demo pointed at a daemon's store never
// migrates it behind the daemon's back (SPEC §9). It refuses a schema newer
// than the binary (ErrSchemaNewer), and a store that does not exist yet
// (ErrNoStore) unless Create is given.
func Open(ctx context.Context, pathOrURL string, opts ...Option) (*Store, error) {
	var o options
	for _, fn := range opts {
		fn(&o)
	}
	var s *Store
	var err error
	if IsPostgresURL(pathOrURL) {
		s, err = openPostgresStore(ctx, pathOrURL)
	} else {
		s, err = openSQLite(ctx, strings.TrimPrefix(pathOrURL, "sqlite:"), o.create)
	}
	if err != nil {
		return nil, err
	}
	if err := s.checkSchema(ctx, o); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func openSQLite(ctx context.Context, path string, create bool) (*Store, error) {
	if path == "" {
		return nil, errors.New("store: empty database path")
	}
	if dir := filepath.Dir(path); dir != "" {
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			return nil, fmt.Errorf("store: directory %s of database %s does not exist", dir, path)
		}
	}
	if !create {
		if _, err := os.Stat(path); err != nil {
			return nil, fmt.Errorf("store: %w at %s (the daemon, sekisho run, creates it)", ErrNoStore, path)
		}
	}
	dsn := "file:" + path + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)" +
		"&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_txlock=immediate"
	w, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetConnMaxIdleTime(0)
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("store: open %s: %w (is the path writable?)", path, err)
	}
	r, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)&_pragma=query_only(1)&_pragma=foreign_keys(1)")
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("store: open readers %s: %w", path, err)
	}
	r.SetMaxOpenConns(4)
	return &Store{path: path, dialect: SQLite, w: w, r: r}, nil
}

func openPostgresStore(ctx context.Context, url string) (*Store, error) {
	shown := RedactURL(url)
	w, err := openPostgres(url, false)
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %v", shown, redactErr(err, url))
	}
	r, _ := openPostgres(url, true)
	// Writes are compare-and-set or idempotent inserts, so a few writer
	// connections may run side by side; readers serve the board and reports.
	w.SetMaxOpenConns(4)
	w.SetMaxIdleConns(2)
	r.SetMaxOpenConns(4)
	r.SetMaxIdleConns(2)
	for _, db := range []*sql.DB{w, r} {
		db.SetConnMaxIdleTime(5 * time.Minute)
	}
	if err := pingUntil(ctx, w, 10*time.Second); err != nil {
		w.Close()
		r.Close()
		return nil, fmt.Errorf("store: open %s: %v", shown, redactErr(err, url))
	}
	var b [6]byte
	rand.Read(b[:])
	return &Store{path: shown, url: url, dialect: Postgres, writer: hex.EncodeToString(b[:]), w: w, r: r}, nil
}

// pingUntil pings db until it answers or limit has passed: a replica
// starting while the database restarts or fails over (a few seconds on
// Cloud SQL and RDS) waits for it instead of exiting.
func pingUntil(ctx context.Context, db *sql.DB, limit time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	for {
		err := db.PingContext(ctx)
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// Path returns the database file's path, or the PostgreSQL URL without
// its password.
func (s *Store) Path() string { return s.path }

// Dialect tells which database the store is on.
func (s *Store) Dialect() Dialect { return s.dialect }

// ReadDB returns the read-only pool, for reports and exports. Its queries
// take `?` placeholders on both dialects.
func (s *Store) ReadDB() *sql.DB { return s.r }

// Ping checks that the database answers, for readiness probes.
func (s *Store) Ping(ctx context.Context) error { return s.r.PingContext(ctx) }

// Close releases the database and the daemon lock. Calling it twice is safe.
func (s *Store) Close() error {
	var errs []error
	if s.w != nil {
		s.closeStmts()
	}
	if s.r != nil {
		errs = append(errs, s.r.Close())
		s.r = nil
	}
	if s.w != nil {
		errs = append(errs, s.w.Close())
		s.w = nil
	}
	if s.lock != nil {
		errs = append(errs, s.lock.Close())
		s.lock = nil
	}
	return errors.Join(errs...)
}

// LockDaemon takes an exclusive lock beside a SQLite database, so a second
// daemon on the same file is refused instead of racing the first. Operator
// commands (rerun, skip) do not take it: they are single compare-and-set
// writes. On PostgreSQL any number of daemons share the store and the
// leader lease (lease.go) decides which one acts, so there is nothing to
// lock.
func (s *Store) LockDaemon() error {
	if s.dialect == Postgres {
		return nil
	}
	f, err := os.OpenFile(s.path+".lock", os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return fmt.Errorf("store: lock %s: %w", s.path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return fmt.Errorf("%w: %s (stop the other daemon, or give this one another --db)", ErrLocked, s.path)
		}
		return fmt.Errorf("store: lock %s: %w", s.path, err)
	}
	f.Truncate(0)
	fmt.Fprintf(f, "%d\n", os.Getpid())
	s.lock = f
	return nil
}

// migrationFile is one embedded migration of the store's dialect.
type migrationFile struct {
	num  int
	name string // file name
	path string // in the embedded FS
}

func migrationFiles(d Dialect) ([]migrationFile, error) {
	names, err := fs.Glob(migrations, "migrations/"+string(d)+"/*.up.sql")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	out := make([]migrationFile, 0, len(names))
	for _, name := range names {
		base := filepath.Base(name)
		num, err := strconv.Atoi(strings.SplitN(base, "_", 2)[0])
		if err != nil {
			return nil, fmt.Errorf("store: migration %s: name must start with a number", base)
		}
		out = append(out, migrationFile{num: num, name: base, path: name})
	}
	return out, nil
}

// SchemaVersion returns the highest migration applied to the store (0 for
// an empty database).
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	exists, err := s.tableExists(ctx, "schema_migrations")
	if err != nil || !exists {
		return 0, err
	}
	var v sql.NullInt64
	if err := s.r.QueryRowContext(ctx, `SELECT MAX(version) FROM schema_migrations`).Scan(&v); err != nil {
		return 0, fmt.Errorf("store: schema version: %w", err)
	}
	return int(v.Int64), nil
}

// KnownSchemaVersion is the highest migration this binary carries.
func KnownSchemaVersion() int {
	files, _ := migrationFiles(SQLite)
	if len(files) == 0 {
		return 0
	}
	return files[len(files)-1].num
}

func (s *Store) tableExists(ctx context.Context, name string) (bool, error) {
	q := `SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?`
	if s.dialect == Postgres {
		q = `SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = ?`
	}
	var n int
	if err := s.r.QueryRowContext(ctx, q, name).Scan(&n); err != nil {
		return false, fmt.Errorf("store: look for table %s: %w", name, err)
	}
	return n > 0, nil
}

// checkSchema refuses a schema newer than this binary, and an empty
// database unless Open may create the store.
func (s *Store) checkSchema(ctx context.Context, o options) error {
	have, err := s.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	known := KnownSchemaVersion()
	if have > known {
		return fmt.Errorf("store %s: %w: its schema is at version %d, this binary knows up to %d (upgrade sekisho)",
			s.path, ErrSchemaNewer, have, known)
	}
	if have == 0 && !o.create {
		return fmt.Errorf("store: %w at %s (the daemon, sekisho run, creates it)", ErrNoStore, s.path)
	}
	s.schema = have
	return nil
}

// Init opens the store at pathOrURL, creating it if it does not exist, and
// migrates it: what owns a store's schema calls it (sekisho run and
// sekisho migrate, the demo for a store it makes, the test kits).
func Init(ctx context.Context, pathOrURL string) (*Store, error) {
	s, err := Open(ctx, pathOrURL, Create())
	if err != nil {
		return nil, err
	}
	if err := s.Migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// Migrate applies every migration this binary knows and the store has not
// had yet. It is the one call that changes a store's schema.
func (s *Store) Migrate(ctx context.Context) error { return s.migrate(ctx, 0) }

// Current reports whether the store's schema is the one this binary
// writes; an older one is an error wrapping ErrSchemaOlder that says to
// run sekisho migrate. The daemon checks it before it writes anything.
func (s *Store) Current(ctx context.Context) error {
	have, err := s.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	if known := KnownSchemaVersion(); have < known {
		return fmt.Errorf("store %s: %w: its schema is at version %d, this binary writes version %d (run `sekisho migrate --db %s` first)",
			s.path, ErrSchemaOlder, have, known, s.path)
	}
	return nil
}

// migrate applies every embedded migration not yet recorded, each in its
// own transaction together with its record. On PostgreSQL an advisory lock
// held for the transaction keeps two replicas starting together from
// applying the same migration twice.
func (s *Store) migrate(ctx context.Context, upTo int) error {
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		if err := s.migrationLock(ctx, tx); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: migrations table: %w", err)
	}
	files, err := migrationFiles(s.dialect)
	if err != nil {
		return err
	}
	for _, m := range files {
		if upTo > 0 && m.num > upTo {
			break
		}
		body, err := migrations.ReadFile(m.path)
		if err != nil {
			return err
		}
		err = s.withTx(ctx, func(tx *sql.Tx) error {
			if err := s.migrationLock(ctx, tx); err != nil {
				return err
			}
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations WHERE version = ?`, m.num).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return nil
			}
			if _, err := tx.ExecContext(ctx, string(body)); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
				m.num, m.name, ts(time.Now()))
			return err
		})
		if err != nil {
			return fmt.Errorf("store: migration %s: %w", m.name, err)
		}
	}
	s.schema = upTo
	if upTo == 0 {
		s.schema = KnownSchemaVersion()
	}
	if upTo > 0 {
		return nil
	}
	return s.foldDataVersions(ctx)
}

// migrationLock serialises migrations of replicas starting together on
// PostgreSQL (SQLite's write transaction is exclusive already).
func (s *Store) migrationLock(ctx context.Context, tx *sql.Tx) error {
	if s.dialect != Postgres {
		return nil
	}
	_, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(7305873)`)
	return err
}

// ts is how every time is stored (sekisho.TimeLayout), so text order is
// time order.
func ts(t time.Time) string { return t.UTC().Format(sekisho.TimeLayout) }

// nts stores a zero time as NULL.
func nts(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return ts(t)
}

func parseTS(s sql.NullString) time.Time {
	if !s.Valid || s.String == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, s.String)
	if err != nil {
		return time.Time{}
	}
	return t.UTC()
}

// valueRows is the VALUES list of a multi-row insert: n copies of row.
func valueRows(row string, n int) string {
	return strings.TrimSuffix(strings.Repeat(row+", ", n), ", ")
}

func placeholders(n int) string {
	return valueRows("?", n)
}

func strArgs(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

package main

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"testing"

	"github.com/sekisho-dev/sekisho/store"
	"github.com/sekisho-dev/sekisho/testkit/teststore"
)

// TestDemoMigratesOnlyTheStoreItMakes: `sekisho demo --db` creates and
// migrates a store that does not exist yet, and opens an existing one as
// it is: an older store stays older (daemon.New then refuses it).
func TestDemoMigratesOnlyTheStoreItMakes(t *testing.T) {
	ctx := context.Background()
	fresh := filepath.Join(t.TempDir(), "fresh.db")
	st, err := openDemoStore(ctx, fresh)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Current(ctx); err != nil {
		t.Fatalf("the demo's own store: %v", err)
	}
	st.Close()

	older := filepath.Join(t.TempDir(), "older.db")
	st, err = teststore.Open(ctx, older)
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	db, err := sql.Open("sqlite", older)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`DELETE FROM schema_migrations WHERE version = ?`, store.KnownSchemaVersion()); err != nil {
		t.Fatal(err)
	}
	db.Close()
	st, err = openDemoStore(ctx, older)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Current(ctx); !errors.Is(err, store.ErrSchemaOlder) {
		t.Fatalf("Current = %v, want ErrSchemaOlder", err)
	}
	if v, _ := st.SchemaVersion(ctx); v != store.KnownSchemaVersion()-1 {
		t.Fatalf("the demo moved an existing store to version %d", v)
	}
}

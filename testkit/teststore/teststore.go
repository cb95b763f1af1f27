// Package teststore opens a store for a test or a benchmark the way
// sekisho run does: created if missing and migrated, explicitly, because
// store.Open itself never changes a schema.
package teststore

import (
	"context"

	"github.com/sekisho-dev/sekisho/store"
)

// Open opens (creating it if needed) and migrates the store at location: a
// SQLite path or a postgres:// URL, as store.Open takes.
func Open(ctx context.Context, location string) (*store.Store, error) {
	return store.Init(ctx, location)
}

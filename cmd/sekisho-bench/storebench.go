package main

import (
	"context"
	"os"
	"path/filepath"

	"github.com/sekisho-dev/sekisho/testkit/storebench"
	"github.com/sekisho-dev/sekisho/testkit/teststore"
)

// transitionsPerSecond measures store.Apply on a fresh SQLite store
// (testkit/storebench; cmd/sekisho-habench puts PostgreSQL beside it).
func transitionsPerSecond(ctx context.Context, n int) (float64, int, error) {
	dir, err := os.MkdirTemp("", "sekisho-bench-store-")
	if err != nil {
		return 0, 0, err
	}
	defer os.RemoveAll(dir)
	st, err := teststore.Open(ctx, filepath.Join(dir, "s.db"))
	if err != nil {
		return 0, 0, err
	}
	defer st.Close()
	return storebench.TransitionsPerSecond(ctx, st, n, 0)
}

package main

import (
	"context"
	"errors"
	"os"

	"github.com/sekisho-dev/sekisho/store"
)

// openDemoStore opens the demo's store. A store the demo makes (its own
// temporary one, or a --db path that does not exist yet) is created and
// migrated here, explicitly; an existing --db store is opened as it is:
// the demo never migrates a store it did not make (an older one is refused
// by daemon.New with the advice to run sekisho migrate).
func openDemoStore(ctx context.Context, path string) (*store.Store, error) {
	if _, err := os.Stat(path); err == nil || !errors.Is(err, os.ErrNotExist) {
		return store.Open(ctx, path)
	}
	return store.Init(ctx, path)
}

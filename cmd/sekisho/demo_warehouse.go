package main

import (
	"context"
	"sync"
	"time"

	"github.com/sekisho-dev/sekisho/sim/world"
	"github.com/sekisho-dev/sekisho/warehouse"
)

// demoWarehouse signs the Data API calls with the world's static key (the
// simulator checks SigV4) and polls statements quickly on loopback.
func demoWarehouse() warehouse.Options {
	return warehouse.Options{AWSAccessKey: world.AWSAccessKey, AWSSecretKey: world.AWSSecretKey, StatementPoll: 5 * time.Millisecond}
}

// runWatches runs the daemon's long-query watches while the demo is live
// (not while history fills: the clock jumps there).
func (s *demoSystem) runWatches(ctx context.Context, wg *sync.WaitGroup) {
	r := s.d.Watches()
	if r == nil {
		return
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		_ = r.Run(ctx)
	}()
}

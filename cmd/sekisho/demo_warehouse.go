package main

import (
	"time"

	"github.com/sekisho-dev/sekisho/sim/world"
	"github.com/sekisho-dev/sekisho/warehouse"
)

// demoWarehouse signs the Data API calls with the world's static key (the
// simulator checks SigV4) and polls statements quickly on loopback.
func demoWarehouse() warehouse.Options {
	return warehouse.Options{AWSAccessKey: world.AWSAccessKey, AWSSecretKey: world.AWSSecretKey, StatementPoll: 5 * time.Millisecond}
}

package main

import (
	"time"

	"github.com/sekisho-dev/sekisho/demo"
	"github.com/sekisho-dev/sekisho/warehouse"
)

// demoWarehouse signs the Data API calls with the demo's static key (the
// simulator checks SigV4) and polls statements quickly on loopback.
func demoWarehouse() warehouse.Options {
	return warehouse.Options{AWSAccessKey: demo.AWSAccessKey, AWSSecretKey: demo.AWSSecretKey, StatementPoll: 5 * time.Millisecond}
}

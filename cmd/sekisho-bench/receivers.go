package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"

	"github.com/sekisho-dev/sekisho/testkit/otlptest"
)

// receivers start an OTLP/HTTP trace receiver and an OpenLineage endpoint
// on loopback for the scale run with -observe; count reports what arrived.
func receivers() (otlpURL, lineageURL string, count func() (spans, events int64), stop func()) {
	otlp := otlptest.New(false)
	var events int64
	ol := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		atomic.AddInt64(&events, 1)
		w.WriteHeader(http.StatusCreated)
	}))
	count = func() (int64, int64) { return int64(otlp.Count()), atomic.LoadInt64(&events) }
	return otlp.URL, ol.URL + "/api/v1/lineage", count, func() { otlp.Close(); ol.Close() }
}

package config

import (
	"time"
)

// RateLimit is a connection's request budget (SPEC §13): at most Requests
// calls in any Per, and at most Daily calls a day. Zero fields are unset;
// a connection without rate_limit has none, except TROCCO, whose default
// is its documented account limit.
type RateLimit struct {
	Requests int
	Per      time.Duration
	Daily    int
}

// Set reports whether the limit bounds anything.
func (r RateLimit) Set() bool { return r.Requests > 0 || r.Daily > 0 }

// DefaultTroccoRateLimit is TROCCO's account-wide API limit: 100 calls per
// 15 minutes and 10,000 a day (see docs/trocco.md for the source).
var DefaultTroccoRateLimit = RateLimit{Requests: 100, Per: 15 * time.Minute, Daily: 10000}

// rateLimit reads an optional rate_limit under a connection; def when absent.
func (d *decoder) rateLimit(conn *fields, def RateLimit) RateLimit {
	v, ok := conn.get("rate_limit")
	if !ok {
		return def
	}
	f := d.mapping(v, KnownKeys["connections.*.rate_limit"], nil)
	if f == nil {
		return def
	}
	var r RateLimit
	n, nv, hasN := d.integer(f, "requests")
	if hasN {
		if n < 1 {
			d.fail(nv, "requests must be at least 1")
		} else {
			r.Requests = int(n)
		}
	}
	r.Per = d.duration(f, "per", 0, time.Second)
	pv, hasPer := f.get("per")
	switch {
	case hasN && !hasPer:
		d.errorf(f.v.n, join(f.v.path, "per"), "is required with requests; write per: 15m for \"requests per 15 minutes\"")
	case hasPer && !hasN:
		d.fail(pv, "per needs requests; write requests: 100 beside it, or remove per")
	}
	if day, dv, ok := d.integer(f, "daily"); ok {
		if day < 1 {
			d.fail(dv, "daily must be at least 1")
		} else {
			r.Daily = int(day)
		}
	}
	if !hasN && !f.has("daily") {
		d.fail(v, "is empty; write {requests: N, per: DURATION} and/or daily: N")
	}
	return r
}

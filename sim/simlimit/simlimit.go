// Package simlimit is the request limit the simulators enforce, counted
// the way vendors count theirs: in fixed windows (Per from the UNIX epoch,
// days from midnight in the vendor's zone). sekisho's own budget counts in
// sliding windows, which never exceed fixed ones, so a client within its
// budget never meets this limit: a refusal here is a bug in the client.
package simlimit

import (
	"sync"
	"time"
)

// Limit is at most Requests calls per Per and Daily calls per day, the day
// starting at midnight in DayZone (UTC when nil). Zero fields are unset.
type Limit struct {
	Requests int
	Per      time.Duration
	Daily    int
	DayZone  *time.Location
}

// Counter counts calls against a Limit. The zero Counter is unlimited.
type Counter struct {
	Limit Limit

	mu        sync.Mutex
	window    time.Time
	inWindow  int
	day       time.Time
	inDay     int
	throttled int
}

// Take counts one call at now and reports whether it is within the limit;
// a refused call does not count, and reset is when the refusing window ends.
func (c *Counter) Take(now time.Time) (ok bool, reset time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	l := c.Limit
	perSet := l.Requests > 0 && l.Per > 0
	if perSet {
		if w := now.Truncate(l.Per); !w.Equal(c.window) {
			c.window, c.inWindow = w, 0
		}
	}
	if l.Daily > 0 {
		zone := l.DayZone
		if zone == nil {
			zone = time.UTC
		}
		t := now.In(zone)
		if d := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, zone); !d.Equal(c.day) {
			c.day, c.inDay = d, 0
		}
	}
	switch {
	case l.Daily > 0 && c.inDay >= l.Daily:
		c.throttled++
		return false, c.day.AddDate(0, 0, 1)
	case perSet && c.inWindow >= l.Requests:
		c.throttled++
		return false, c.window.Add(l.Per)
	}
	c.inWindow++
	c.inDay++
	return true, time.Time{}
}

// Throttled is how many calls the limit refused.
func (c *Counter) Throttled() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.throttled
}

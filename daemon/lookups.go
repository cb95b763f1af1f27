package daemon

import (
	"sync/atomic"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/web"
)

// Lookups hands the HTTP side the start-time look-ups of the current
// sensors (SPEC §13); Set replaces them when a reload builds new adapters.
type Lookups struct {
	sensors atomic.Pointer[map[string]sekisho.Sensor]
}

// NewLookups returns the look-ups of sensors.
func NewLookups(sensors map[string]sekisho.Sensor) *Lookups {
	l := &Lookups{}
	l.Set(sensors)
	return l
}

// Set replaces the sensors.
func (l *Lookups) Set(sensors map[string]sekisho.Sensor) { l.sensors.Store(&sensors) }

// For is the look-up of a resource type, nil when its sensor has none;
// it fits web.Options.Lookup.
func (l *Lookups) For(resourceType string) web.RunLookup {
	m := l.sensors.Load()
	if m == nil {
		return nil
	}
	if rl, ok := (*m)[resourceType].(web.RunLookup); ok {
		return rl
	}
	return nil
}

package airflowapi

import (
	"fmt"
	"sort"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/config"
)

// NewClients builds one client per configured connection, keyed by name.
// The airflow_dag sensor and trigger share the map, so both speak to an
// environment with one set of credentials and one token cache.
func NewClients(conns map[string]*config.Airflow, opts ...Option) (map[string]*Client, error) {
	names := make([]string, 0, len(conns))
	for n := range conns {
		names = append(names, n)
	}
	sort.Strings(names)
	out := make(map[string]*Client, len(conns))
	for _, n := range names {
		cfg := *conns[n]
		if cfg.Name == "" {
			cfg.Name = n
		}
		c, err := New(&cfg, opts...)
		if err != nil {
			return nil, err
		}
		out[n] = c
	}
	return out, nil
}

// Lookup returns the client of a named connection, or an error wrapping
// sekisho.ErrNotFound that says where to declare it.
func Lookup(clients map[string]*Client, name string) (*Client, error) {
	if c, ok := clients[name]; ok {
		return c, nil
	}
	return nil, fmt.Errorf("airflow connection %q is not configured; declare it under connections.airflow: %w", name, sekisho.ErrNotFound)
}

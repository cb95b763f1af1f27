package web

import (
	"net/http"
	"time"

	"github.com/sekisho-dev/sekisho"
)

// nextChecksOf maps the run's upstream names to their next scheduled check;
// empty when the schedule or the pipeline is unknown.
func (s *server) nextChecksOf(r *http.Request, run sekisho.Run) map[string]time.Time {
	out := map[string]time.Time{}
	cfg := s.cfg()
	if cfg == nil {
		return out
	}
	p := cfg.Pipeline(run.Pipeline)
	if p == nil {
		return out
	}
	next, err := s.Store.NextChecks(r.Context())
	if err != nil {
		s.Logger.Warn("http: read poll schedule", "err", err)
		return out
	}
	for _, u := range p.Upstreams {
		if at, ok := next[u.Resource().Key()]; ok {
			out[u.Name] = at
		}
	}
	return out
}

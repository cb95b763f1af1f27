package web

import (
	"net/http"
	"time"

	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/status"
)

// today is the board's answer for the request: today's status of every
// pipeline, its summaries in the page's language. ok is false when an
// error page has been written. The caller Releases the board once its
// page is written.
func (s *server) today(w http.ResponseWriter, r *http.Request, page string) (cfg *config.Config, b *status.Board, lang string, now time.Time, ok bool) {
	if cfg, ok = s.needConfig(w); !ok {
		return
	}
	now, lang = s.Clock.Now(), s.lang(r, cfg)
	b, err := s.listing.Build(r.Context(), s.Store, cfg, "", now)
	if err != nil {
		s.internal(w, page, err)
		return cfg, nil, lang, now, false
	}
	if lang != b.Language {
		for _, p := range b.Pipelines {
			p.Summarize(lang, now)
		}
	}
	return cfg, b, lang, now, true
}

package web

import (
	"net/http"
	"time"

	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/status"
)

// today is the board's answer for the request: today's status of every
// pipeline, its summaries in the page's language. ok is false when an
// error page has been written. With cards, only the entries it picks (a
// page of them, from the config and the page's language) get their ETAs
// projected and keep their upstreams (status.Cache.BuildPage); cards
// writing an error answers not ok. The caller Releases the board once its
// page is written.
func (s *server) today(w http.ResponseWriter, r *http.Request, page string,
	cards func(cfg *config.Config, lang string) (from, to int, ok bool)) (cfg *config.Config, b *status.Board, lang string, now time.Time, ok bool) {
	if cfg, ok = s.needConfig(w); !ok {
		return
	}
	now, lang = s.Clock.Now(), s.lang(r, cfg)
	var err error
	if cards == nil {
		b, err = s.listing.Build(r.Context(), s.Store, cfg, "", now)
	} else {
		from, to, ok := cards(cfg, lang)
		if !ok {
			return cfg, nil, lang, now, false
		}
		b, err = s.listing.BuildPage(r.Context(), s.Store, cfg, now, lang, from, to)
	}
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

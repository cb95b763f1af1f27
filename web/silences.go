package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/slackact"
	"github.com/sekisho-dev/sekisho/store"
)

// routes17 registers the endpoints of SPEC §17: silences and incidents.
func (s *server) routes17(mux *http.ServeMux) {
	mux.Handle("GET /api/v1/silences", s.read(s.apiSilences))
	mux.Handle("POST /api/v1/silences", s.write(s.addSilence))
	mux.Handle("DELETE /api/v1/silences/{id}", s.write(s.expireSilence))
	mux.Handle("GET /api/v1/incidents", s.read(s.apiIncidents))
}

// silenceJSON is a silence as the API shows it, with its state now.
type silenceJSON struct {
	store.Silence
	State string `json:"state"` // active | pending | ended
}

func silenceState(sil store.Silence, now time.Time) string {
	switch {
	case sil.ActiveAt(now):
		return "active"
	case now.Before(sil.StartsAt):
		return "pending"
	}
	return "ended"
}

// apiSilences lists the silences not ended yet; ?all=true lists every one.
func (s *server) apiSilences(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.needConfig(w); !ok {
		return
	}
	now := s.Clock.Now()
	since := now
	switch r.URL.Query().Get("all") {
	case "", "false":
	case "true":
		since = time.Time{}
	default:
		writeError(w, http.StatusBadRequest, "all is true or false")
		return
	}
	all, err := s.Store.SilencesEndingAfter(r.Context(), since)
	if err != nil {
		s.internal(w, "silences", err)
		return
	}
	// Maintenance windows from the config are listed while they hold.
	all = append(all, slackact.MaintenanceSilences(s.cfg(), now, now.Add(time.Second))...)
	out := make([]silenceJSON, 0, len(all))
	for _, sil := range all {
		out = append(out, silenceJSON{Silence: sil, State: silenceState(sil, now)})
	}
	writeJSON(w, http.StatusOK, map[string]any{"silences": out})
}

// silenceRequest is the body of POST /api/v1/silences.
type silenceRequest struct {
	Pipelines []string `json:"pipelines"`
	Until     string   `json:"until"`
	Reason    string   `json:"reason"`
}

func (s *server) addSilence(w http.ResponseWriter, r *http.Request) {
	var req silenceRequest
	if !readJSON(w, r, &req) {
		return
	}
	cfg, ok := s.needConfig(w)
	if !ok {
		return
	}
	until, err := time.Parse(time.RFC3339, req.Until)
	if err != nil {
		writeError(w, http.StatusBadRequest, "until must be an RFC 3339 time, like 2026-11-21T06:00:00+09:00")
		return
	}
	if err := store.CheckSilencePipelines(req.Pipelines, func(n string) bool { return cfg.Pipeline(n) != nil }); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	now := s.Clock.Now()
	sil, err := s.Store.AddSilence(r.Context(), store.Silence{Pipelines: req.Pipelines, Reason: req.Reason,
		StartsAt: now, EndsAt: until, CreatedAt: now})
	switch {
	case errors.Is(err, store.ErrBadSilence):
		writeError(w, http.StatusBadRequest, err.Error())
	case err != nil:
		s.internal(w, "add silence", err)
	default:
		s.Logger.Info("http: silence added", "silence", sil.ID, "pipelines", sil.Pipelines, "until", sil.EndsAt.UTC().Format(time.RFC3339))
		writeJSON(w, http.StatusCreated, map[string]string{"id": sil.ID})
	}
}

func (s *server) expireSilence(w http.ResponseWriter, r *http.Request) {
	if !drainBody(w, r) {
		return
	}
	if _, ok := s.needConfig(w); !ok {
		return
	}
	now := s.Clock.Now()
	sil, err := s.Store.ExpireSilence(r.Context(), r.PathValue("id"), now)
	switch {
	case errors.Is(err, sekisho.ErrNotFound):
		writeError(w, http.StatusNotFound, err.Error())
	case err != nil:
		s.internal(w, "expire silence", err)
	default:
		s.Logger.Info("http: silence expired", "silence", sil.ID)
		writeJSON(w, http.StatusOK, silenceJSON{Silence: sil, State: silenceState(sil, now)})
	}
}

// readJSON decodes a write's body into v: 413 over the limit, 400 for bad
// JSON, unknown fields or trailing data. It reports whether v is filled.
func readJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	body, ok := readBody(w, r)
	if !ok {
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		writeError(w, http.StatusBadRequest, "bad JSON: "+err.Error())
		return false
	}
	if dec.More() {
		writeError(w, http.StatusBadRequest, "bad JSON: more than one value in the body")
		return false
	}
	return true
}

// readBody reads a write's body: 413 over the limit, 400 when it cannot
// be read. It reports whether the body is there.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	body, err := io.ReadAll(r.Body)
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		writeError(w, http.StatusRequestEntityTooLarge, "request body over 1 MiB")
		return nil, false
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, "could not read the body")
		return nil, false
	}
	return body, true
}

// drainBody reads a body that carries nothing, so an oversized one is
// refused (413) before the action instead of being ignored after it.
func drainBody(w http.ResponseWriter, r *http.Request) bool {
	if _, err := io.Copy(io.Discard, r.Body); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeError(w, http.StatusRequestEntityTooLarge, "request body over 1 MiB")
			return false
		}
		writeError(w, http.StatusBadRequest, "could not read the body")
		return false
	}
	return true
}

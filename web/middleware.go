package web

import (
	"crypto/subtle"
	"encoding/json"
	"net/http"
	"strings"
)

// secure sets the headers every answer carries. The CSP allows no inline
// script or style: the board's one script and stylesheet are files under
// /static/, and its charts are SVG with presentation attributes.
func secure(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		next.ServeHTTP(w, r)
	})
}

// limitBody refuses bodies over MaxBodyBytes: at once when the length is
// declared, and while reading otherwise.
func limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > MaxBodyBytes {
			writeError(w, http.StatusRequestEntityTooLarge, "request body over 1 MiB")
			return
		}
		if r.Body != nil {
			r.Body = http.MaxBytesReader(w, r.Body, MaxBodyBytes)
		}
		next.ServeHTTP(w, r)
	})
}

// read guards a read endpoint: open unless server.read_token is set, then
// the read token or the write token is needed. Browsers can send it as the
// password of HTTP basic auth, so the board works behind a read token.
func (s *server) read(next http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cfg := s.cfg()
		if cfg == nil || cfg.Server.ReadToken == "" {
			next(w, r)
			return
		}
		got := presented(r)
		if got != "" && (tokenEqual(got, cfg.Server.ReadToken.Value()) || tokenEqual(got, cfg.Server.Token.Value())) {
			next(w, r)
			return
		}
		if strings.HasPrefix(r.URL.Path, "/api/") || r.URL.Path == "/metrics" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="sekisho"`)
		} else {
			w.Header().Set("WWW-Authenticate", `Basic realm="sekisho", charset="UTF-8"`)
		}
		writeError(w, http.StatusUnauthorized, "this sekisho needs a token to read: send Authorization: Bearer <server.read_token>")
	})
}

// write guards writes and event ingestion: never open. Without a
// configured server.token they are refused.
func (s *server) write(next http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cfg := s.cfg()
		if cfg == nil || cfg.Server.Token == "" {
			writeError(w, http.StatusForbidden, "writes and events are disabled: set server.token in pipelines.yaml")
			return
		}
		got, ok := bearer(r)
		if !ok || !tokenEqual(got, cfg.Server.Token.Value()) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="sekisho"`)
			writeError(w, http.StatusUnauthorized, "missing or wrong token: send Authorization: Bearer <server.token>")
			return
		}
		next(w, r)
	})
}

func bearer(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:]), true
	}
	return "", false
}

// presented is the token of a read: a bearer token or a basic-auth password.
func presented(r *http.Request) string {
	if t, ok := bearer(r); ok {
		return t
	}
	if _, pw, ok := r.BasicAuth(); ok {
		return pw
	}
	return ""
}

// tokenEqual compares in constant time, so the answer's timing does not
// reveal how much of a guess was right.
func tokenEqual(got, want string) bool {
	if want == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	jsonHeader(w, code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// jsonHeader writes the header of a JSON answer, uncached, with code:
// writeJSON's, and the status answer's, which streams its body itself.
func jsonHeader(w http.ResponseWriter, code int) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
}

func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, map[string]string{"error": msg})
}

package troccoapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/sekisho-dev/sekisho"
)

// APIError is an answer other than 2xx. It wraps sekisho.ErrRejected for
// answers retrying cannot fix (400, 401, 403, 404, 422) and also
// sekisho.ErrNotFound for 403 and 404: TROCCO answers 403 for a resource
// that was deleted.
type APIError struct {
	Method     string
	Path       string
	StatusCode int
	Message    string    // TROCCO's message, or the HTTP status text
	RetryAt    time.Time // from X-Rate-Limit-Reset on a 429
}

func (e *APIError) Error() string {
	msg := fmt.Sprintf("trocco %s %s: %d %s", e.Method, e.Path, e.StatusCode, e.Message)
	switch {
	case e.StatusCode == http.StatusUnauthorized:
		msg += " (check connections.trocco.api_key and that the key is still active)"
	case e.StatusCode == http.StatusTooManyRequests && !e.RetryAt.IsZero():
		msg += fmt.Sprintf(" (rate limited until %s)", e.RetryAt.UTC().Format(time.RFC3339))
	}
	return msg
}

// Unwrap lets errors.Is find sekisho.ErrRejected and sekisho.ErrNotFound.
func (e *APIError) Unwrap() []error {
	var errs []error
	if Rejected(e.StatusCode) {
		errs = append(errs, sekisho.ErrRejected)
	}
	if e.StatusCode == http.StatusNotFound || e.StatusCode == http.StatusForbidden {
		errs = append(errs, sekisho.ErrNotFound)
	}
	return errs
}

// Rejected reports whether a status code is a permanent refusal.
func Rejected(code int) bool {
	switch code {
	case http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden,
		http.StatusNotFound, http.StatusUnprocessableEntity:
		return true
	}
	return false
}

// errorBody covers both error shapes TROCCO uses:
// {"message":…,"errors":[…]} and {"error":…}.
type errorBody struct {
	Message string          `json:"message"`
	Error   json.RawMessage `json:"error"`
	Errors  json.RawMessage `json:"errors"`
}

func parseError(method, path string, code int, body []byte) *APIError {
	e := &APIError{Method: method, Path: path, StatusCode: code}
	var eb errorBody
	if json.Unmarshal(body, &eb) == nil {
		parts := []string{}
		if eb.Message != "" {
			parts = append(parts, eb.Message)
		}
		if s := flatten(eb.Error); s != "" {
			parts = append(parts, s)
		}
		if s := flatten(eb.Errors); s != "" {
			parts = append(parts, s)
		}
		e.Message = strings.Join(parts, ": ")
	}
	if e.Message == "" {
		e.Message = http.StatusText(code)
	}
	if len(e.Message) > 500 {
		e.Message = e.Message[:500] + "…"
	}
	return e
}

// flatten turns a string, a list of strings or any JSON into one line.
func flatten(raw json.RawMessage) string {
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var list []any
	if json.Unmarshal(raw, &list) == nil {
		out := make([]string, 0, len(list))
		for _, v := range list {
			if str, ok := v.(string); ok {
				out = append(out, str)
			} else {
				b, _ := json.Marshal(v)
				out = append(out, string(b))
			}
		}
		return strings.Join(out, "; ")
	}
	return string(raw)
}

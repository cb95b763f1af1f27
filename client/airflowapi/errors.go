package airflowapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/sekisho-dev/sekisho"
)

// APIError is a non-2xx answer from Airflow. It wraps sekisho.ErrRejected
// for the answers retrying cannot fix (400, 401, 403, 404, 422 and other
// 4xx but 408, 409, 429), and also sekisho.ErrNotFound for 404.
type APIError struct {
	Connection string
	Method     string
	Path       string // API path, without host or query
	Status     int
	Message    string // the server's explanation, secrets removed
}

// Error names the connection, the call and the status, with the server's
// explanation and, for the usual permission problems, what to check.
func (e *APIError) Error() string {
	msg := fmt.Sprintf("airflow %s: %s %s: %d %s", e.Connection, e.Method, e.Path, e.Status, http.StatusText(e.Status))
	if e.Message != "" {
		msg += ": " + e.Message
	}
	if hint := hint(e.Status); hint != "" {
		msg += " (" + hint + ")"
	}
	return msg
}

// Unwrap lets errors.Is find sekisho.ErrRejected and sekisho.ErrNotFound.
func (e *APIError) Unwrap() []error {
	var errs []error
	if Permanent(e.Status) {
		errs = append(errs, sekisho.ErrRejected)
	}
	if e.Status == http.StatusNotFound {
		errs = append(errs, sekisho.ErrNotFound)
	}
	return errs
}

// Permanent reports whether an HTTP status is final: a client error other
// than a timeout, a conflict or a rate limit.
func Permanent(status int) bool {
	switch status {
	case http.StatusRequestTimeout, http.StatusConflict, http.StatusTooManyRequests:
		return false
	}
	return status >= 400 && status < 500
}

func hint(status int) string {
	switch status {
	case http.StatusUnauthorized:
		return "check the connection's auth settings and credentials"
	case http.StatusForbidden:
		return "grant the caller roles/composer.user and an Airflow role that may trigger DAGs (Op or User)"
	case http.StatusNotFound:
		return "check dag_id and base_url; the DAG may not be parsed yet"
	}
	return ""
}

// errorMessage extracts the explanation from an error body: v1's problem
// JSON {"detail","status","title","type"}, v2's {"detail": "…"} or
// {"detail": [{"loc","msg","type"}…]}, or plain text.
func errorMessage(status int, body []byte) string {
	var p struct {
		Detail json.RawMessage `json:"detail"`
		Title  string          `json:"title"`
	}
	if err := json.Unmarshal(body, &p); err != nil {
		s := strings.TrimSpace(string(body))
		if len(s) > 200 || strings.HasPrefix(s, "<") {
			return "" // an HTML error page says nothing the status does not
		}
		return s
	}
	detail := detailText(p.Detail)
	switch {
	case detail != "" && p.Title != "" && !strings.EqualFold(p.Title, http.StatusText(status)):
		return p.Title + ": " + detail
	case detail != "":
		return detail
	}
	return p.Title
}

func detailText(raw json.RawMessage) string {
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var list []struct {
		Loc []any  `json:"loc"`
		Msg string `json:"msg"`
	}
	if json.Unmarshal(raw, &list) == nil && len(list) > 0 {
		parts := make([]string, 0, len(list))
		for _, v := range list {
			loc := make([]string, 0, len(v.Loc))
			for _, l := range v.Loc {
				loc = append(loc, fmt.Sprint(l))
			}
			parts = append(parts, strings.Join(loc, ".")+": "+v.Msg)
		}
		return strings.Join(parts, "; ")
	}
	return string(raw)
}

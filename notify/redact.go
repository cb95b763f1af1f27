package notify

import (
	"errors"
	"net/url"
	"strings"
)

// RedactURL keeps a URL's scheme and host and hides the rest: the path of
// an incoming-webhook URL is its secret (alertmanager's notify.RedactURL
// does the same).
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "[redacted]"
	}
	return u.Scheme + "://" + u.Host + "/[redacted]"
}

// redactor removes secrets from error texts before they reach a log line
// or the store's last_error.
type redactor struct {
	pairs []string // old, new, …
}

func newRedactor(webhookURL, token string) redactor {
	var r redactor
	if webhookURL != "" {
		r.pairs = append(r.pairs, webhookURL, RedactURL(webhookURL))
		if u, err := url.Parse(webhookURL); err == nil && len(u.Path) > 1 {
			r.pairs = append(r.pairs, u.Path, "/[redacted]")
			if u.RawQuery != "" {
				r.pairs = append(r.pairs, u.RawQuery, "[redacted]")
			}
		}
	}
	if token != "" {
		r.pairs = append(r.pairs, token, "[redacted]")
	}
	return r
}

// text returns err's message with every secret replaced. A *url.Error has
// its URL redacted first, so even a secret spelled differently there (an
// escaped form) does not get through.
func (r redactor) text(err error) string {
	if err == nil {
		return ""
	}
	var ue *url.Error
	if errors.As(err, &ue) && len(r.pairs) > 0 {
		cp := *ue
		cp.URL = RedactURL(ue.URL)
		msg := err.Error()
		msg = strings.ReplaceAll(msg, ue.Error(), cp.Error())
		return r.replace(msg)
	}
	return r.replace(err.Error())
}

func (r redactor) replace(s string) string {
	if len(r.pairs) == 0 {
		return s
	}
	return strings.NewReplacer(r.pairs...).Replace(s)
}

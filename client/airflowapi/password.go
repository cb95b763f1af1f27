package airflowapi

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"
)

// renewBefore is how long before its exp a token is replaced, so a request
// never leaves with a token that expires on the way.
const renewBefore = 5 * time.Minute

// passwordAuth is Airflow 3's auth: POST {base_url}/auth/token with JSON
// {"username","password"} answers {"access_token": JWT}; the API takes the
// JWT as a bearer token until its exp (24 h by default).
type passwordAuth struct {
	base, user, pass string
	hc               *http.Client // the connection's, so token calls draw from its budget
	clock            clockwork.Clock

	mu    sync.Mutex
	token string
	renew time.Time // when to get a new one
}

func (p *passwordAuth) authorize(r *http.Request) error {
	tok, err := p.get(r.Context())
	if err != nil {
		return err
	}
	r.Header.Set("Authorization", "Bearer "+tok)
	return nil
}

// get returns the cached token, or a new one once the old one is near its exp.
func (p *passwordAuth) get(ctx context.Context) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.token != "" && p.clock.Now().Before(p.renew) {
		return p.token, nil
	}
	tok, exp, err := p.fetch(ctx)
	if err != nil {
		return "", err
	}
	p.token = tok
	life := exp.Sub(p.clock.Now())
	p.renew = exp.Add(-min(renewBefore, life/10))
	return tok, nil
}

// invalidate drops the cached token after the server refused it (a
// restart with a new jwt_secret, a revoked token).
func (p *passwordAuth) invalidate() {
	p.mu.Lock()
	p.token = ""
	p.mu.Unlock()
}

func (p *passwordAuth) fetch(ctx context.Context) (string, time.Time, error) {
	body, _ := json.Marshal(map[string]string{"username": p.user, "password": p.pass})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.base+"/auth/token", bytes.NewReader(body))
	if err != nil {
		return "", time.Time{}, fmt.Errorf("auth token: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := p.hc.Do(req)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("auth token: %s", p.redactPass(transportMessage(err)))
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return "", time.Time{}, fmt.Errorf("auth token: POST /auth/token answered %d: %s (check username and password)",
			resp.StatusCode, p.redactPass(errorMessage(resp.StatusCode, data)))
	}
	var out struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(data, &out); err != nil || out.AccessToken == "" {
		return "", time.Time{}, fmt.Errorf("auth token: POST /auth/token answered without an access_token")
	}
	return out.AccessToken, p.expiry(out.AccessToken), nil
}

// expiry reads a JWT's exp claim; a token without one is kept an hour.
func (p *passwordAuth) expiry(tok string) time.Time {
	parts := strings.Split(tok, ".")
	if len(parts) == 3 {
		if raw, err := base64.RawURLEncoding.DecodeString(parts[1]); err == nil {
			var c struct {
				Exp float64 `json:"exp"`
			}
			if json.Unmarshal(raw, &c) == nil && c.Exp > 0 {
				return time.Unix(int64(c.Exp), 0)
			}
		}
	}
	return p.clock.Now().Add(time.Hour)
}

// redactPass hides the password; fetch runs under p.mu, so it cannot use redact.
func (p *passwordAuth) redactPass(s string) string {
	if p.pass == "" {
		return s
	}
	return strings.ReplaceAll(s, p.pass, "[redacted]")
}

func (p *passwordAuth) redact(s string) string {
	p.mu.Lock()
	tok := p.token
	p.mu.Unlock()
	if p.pass != "" {
		s = strings.ReplaceAll(s, p.pass, "[redacted]")
	}
	if tok != "" {
		s = strings.ReplaceAll(s, tok, "[redacted]")
	}
	return s
}

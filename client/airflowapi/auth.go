package airflowapi

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/google"

	"github.com/sekisho-dev/sekisho/config"
)

// Auth modes of a connection.
const (
	AuthGoogle = "google"
	AuthBasic  = "basic"
	AuthBearer = "bearer"
	AuthNone   = "none"
	// AuthPassword trades username and password for Airflow 3 JWTs.
	AuthPassword = "password"
)

// authorizer puts credentials on a request and knows which strings of its
// own must never be repeated.
type authorizer interface {
	authorize(r *http.Request) error
	redact(s string) string
}

func newAuthorizer(cfg *config.Airflow, ts oauth2.TokenSource) (authorizer, error) {
	switch cfg.Auth {
	case AuthGoogle:
		g := &googleAuth{}
		if ts != nil {
			g.ts = oauth2.ReuseTokenSource(nil, ts)
		}
		return g, nil
	case AuthBasic:
		if cfg.Username == "" {
			return nil, fmt.Errorf("airflow %s: auth basic needs username and password", cfg.Name)
		}
		return basicAuth{user: cfg.Username, pass: cfg.Password.Value()}, nil
	case AuthBearer:
		if cfg.Token == "" {
			return nil, fmt.Errorf("airflow %s: auth bearer needs a token", cfg.Name)
		}
		return bearerAuth{token: cfg.Token.Value()}, nil
	case AuthPassword:
		if cfg.Username == "" {
			return nil, fmt.Errorf("airflow %s: auth password needs username and password", cfg.Name)
		}
		// base, hc and clock are set by New once the HTTP client is built.
		return &passwordAuth{user: cfg.Username, pass: cfg.Password.Value()}, nil
	case AuthNone, "":
		return noAuth{}, nil
	}
	return nil, fmt.Errorf("airflow %s: auth %q: want google, basic, bearer, password or none", cfg.Name, cfg.Auth)
}

type noAuth struct{}

func (noAuth) authorize(*http.Request) error { return nil }
func (noAuth) redact(s string) string        { return s }

type basicAuth struct{ user, pass string }

func (b basicAuth) authorize(r *http.Request) error { r.SetBasicAuth(b.user, b.pass); return nil }
func (b basicAuth) redact(s string) string          { return s }

type bearerAuth struct{ token string }

func (b bearerAuth) authorize(r *http.Request) error {
	r.Header.Set("Authorization", "Bearer "+b.token)
	return nil
}
func (b bearerAuth) redact(s string) string { return s }

// googleAuth sends an OAuth access token of Application Default Credentials
// (a service account key, workload identity, or gcloud's user login), which
// is what Cloud Composer's Airflow web server accepts. Tokens are cached
// and refreshed shortly before they expire by oauth2.ReuseTokenSource.
type googleAuth struct {
	mu   sync.Mutex
	ts   oauth2.TokenSource
	last string // last token sent, redacted from messages
}

func (g *googleAuth) source(ctx context.Context) (oauth2.TokenSource, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.ts != nil {
		return g.ts, nil
	}
	// A failed lookup is not cached: credentials may be mounted later.
	ts, err := google.DefaultTokenSource(context.WithoutCancel(ctx), CloudPlatformScope)
	if err != nil {
		return nil, fmt.Errorf("google credentials not found (set GOOGLE_APPLICATION_CREDENTIALS or run as a service account): %w", err)
	}
	g.ts = oauth2.ReuseTokenSource(nil, ts)
	return g.ts, nil
}

func (g *googleAuth) authorize(r *http.Request) error {
	ts, err := g.source(r.Context())
	if err != nil {
		return err
	}
	tok, err := ts.Token()
	if err != nil {
		return fmt.Errorf("google token: %s", g.redact(err.Error()))
	}
	g.mu.Lock()
	g.last = tok.AccessToken
	g.mu.Unlock()
	tok.SetAuthHeader(r)
	return nil
}

func (g *googleAuth) redact(s string) string {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.last != "" {
		s = strings.ReplaceAll(s, g.last, "[redacted]")
	}
	return s
}

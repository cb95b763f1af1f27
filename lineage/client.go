package lineage

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-retryablehttp"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/google"

	"github.com/sekisho-dev/sekisho/config"
)

// ErrRefused marks an event the endpoint refused for good (a 4xx other than
// 408 and 429): sending it again cannot help, so the caller moves on.
var ErrRefused = errors.New("lineage event refused")

// cloudPlatformScope is the OAuth scope of Google's Data Lineage API.
const cloudPlatformScope = "https://www.googleapis.com/auth/cloud-platform"

// Client posts RunEvents to one OpenLineage HTTP endpoint.
type Client struct {
	mu     sync.Mutex // guards ts, found on first use
	url    string
	token  string             // bearer
	ts     oauth2.TokenSource // auth: google
	google bool
	http   *retryablehttp.Client
}

// Options tune a Client; zero values take defaults.
type Options struct {
	HTTPClient   *http.Client
	Retries      int           // default 4
	RetryWaitMin time.Duration // default 1s
	RetryWaitMax time.Duration // default 30s
	// TokenSource replaces Application Default Credentials for auth: google.
	TokenSource oauth2.TokenSource
}

// New builds a client for cfg. auth: google takes Application Default
// Credentials (cloud-platform scope), as Google's Data Lineage API wants,
// found when the first event goes out.
func New(cfg config.Lineage, o Options) (*Client, error) {
	if cfg.URL == "" {
		return nil, errors.New("lineage: no url")
	}
	c := &Client{url: cfg.URL, token: cfg.Token.Value()}
	switch cfg.Auth {
	case "", "none":
	case "bearer":
	case "google":
		c.google = true
		if o.TokenSource != nil {
			c.ts = oauth2.ReuseTokenSource(nil, o.TokenSource)
		}
	default:
		return nil, fmt.Errorf("lineage: auth %q: want none, bearer or google", cfg.Auth)
	}
	hc := o.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	c.http = &retryablehttp.Client{
		HTTPClient:   hc,
		RetryWaitMin: or(o.RetryWaitMin, time.Second),
		RetryWaitMax: or(o.RetryWaitMax, 30*time.Second),
		RetryMax:     4,
		CheckRetry:   retryablehttp.DefaultRetryPolicy, // transport errors, 429, 5xx but 501
		Backoff:      retryablehttp.DefaultBackoff,
		ErrorHandler: retryablehttp.PassthroughErrorHandler,
		PrepareRetry: c.authorize, // a google token may expire between attempts
	}
	if o.Retries > 0 {
		c.http.RetryMax = o.Retries
	}
	return c, nil
}

func or(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// source finds Application Default Credentials on first use; a failed
// lookup is not kept, so credentials mounted later are found, and until
// then the events wait in the outbox.
func (c *Client) source(ctx context.Context) (oauth2.TokenSource, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ts == nil {
		ts, err := google.DefaultTokenSource(context.WithoutCancel(ctx), cloudPlatformScope)
		if err != nil {
			return nil, fmt.Errorf("google credentials not found (set GOOGLE_APPLICATION_CREDENTIALS or run as a service account): %w", err)
		}
		c.ts = oauth2.ReuseTokenSource(nil, ts)
	}
	return c.ts, nil
}

func (c *Client) authorize(r *http.Request) error {
	switch {
	case c.google:
		ts, err := c.source(r.Context())
		if err != nil {
			return err
		}
		tok, err := ts.Token()
		if err != nil {
			return fmt.Errorf("google token: %w", err)
		}
		tok.SetAuthHeader(r)
	case c.token != "":
		r.Header.Set("Authorization", "Bearer "+c.token)
	}
	return nil
}

// Send posts one event, retrying transport errors, 429 and 5xx with backoff.
// An answer the endpoint will never accept wraps ErrRefused.
func (c *Client) Send(ctx context.Context, ev RunEvent) error {
	body, err := json.Marshal(ev)
	if err != nil {
		return fmt.Errorf("lineage: %w", err)
	}
	target := c.url
	if c.google {
		// Data Lineage API: a repeated requestId is the same request, so a
		// retry after a lost answer creates nothing twice.
		sep := "?"
		if strings.Contains(target, "?") {
			sep = "&"
		}
		target += sep + "requestId=" + url.QueryEscape(requestID(ev.Run.RunID, ev.EventType))
	}
	req, err := retryablehttp.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("lineage: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	if err := c.authorize(req.Request); err != nil {
		return fmt.Errorf("lineage: %w", err)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("lineage: post %s: %s", redactURL(c.url), c.redact(err.Error()))
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return nil
	case resp.StatusCode >= 400 && resp.StatusCode < 500 && resp.StatusCode != 408 && resp.StatusCode != 429:
		return fmt.Errorf("lineage: %w: %s %s: %s", ErrRefused, resp.Status, redactURL(c.url), c.redact(strings.TrimSpace(string(msg))))
	}
	return fmt.Errorf("lineage: post %s: %s", redactURL(c.url), resp.Status)
}

func (c *Client) redact(s string) string {
	if c.token != "" {
		s = strings.ReplaceAll(s, c.token, "[redacted]")
	}
	return s
}

// redactURL drops the query and user info, where a key could hide.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(lineage url)"
	}
	u.User, u.RawQuery = nil, ""
	return u.String()
}

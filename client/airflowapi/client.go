// Package airflowapi is the one place that knows Airflow's REST API on the
// wire: the v1 API of Airflow 2 (Cloud Composer 2) and the v2 API of
// Airflow 3, their auth headers, JSON shapes and error bodies. The
// airflow_dag sensor and trigger both speak to Airflow through it.
package airflowapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/hashicorp/go-retryablehttp"
	"github.com/jonboulle/clockwork"
	"golang.org/x/oauth2"

	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/policy/budget"
)

// API versions.
const (
	V1 = "v1" // Airflow 2, /api/v1
	V2 = "v2" // Airflow 3, /api/v2
)

// CloudPlatformScope is the OAuth scope Cloud Composer's web server accepts.
const CloudPlatformScope = "https://www.googleapis.com/auth/cloud-platform"

// maxBody bounds what is read from one answer: a DAG run list page is a few
// hundred kilobytes at most.
const maxBody = 8 << 20

// Client talks to one Airflow environment. It is safe for concurrent use.
type Client struct {
	name     string
	base     string // scheme://host[/prefix], no trailing slash
	version  string
	auth     authorizer
	http     *retryablehttp.Client
	log      *slog.Logger
	pageSize int
	secrets  []string // redacted from any server message we repeat
}

type options struct {
	retryMin time.Duration
	retryMax time.Duration
	retries  int
	timeout  time.Duration
	tokens   oauth2.TokenSource
	logger   *slog.Logger
	pageSize int
	budget   *budget.Budget
	clock    clockwork.Clock
}

// Option adjusts a Client.
type Option func(*options)

// WithBackoff sets the retry schedule: waits grow from min to max, and at
// most retries extra attempts are made. Tests use a tiny one.
func WithBackoff(min, max time.Duration, retries int) Option {
	return func(o *options) { o.retryMin, o.retryMax, o.retries = min, max, retries }
}

// WithTimeout bounds each HTTP attempt; a timed-out attempt is retried.
func WithTimeout(d time.Duration) Option { return func(o *options) { o.timeout = d } }

// WithTokenSource replaces the Application Default Credentials of auth
// google, for tests or for a caller that already holds a token source.
func WithTokenSource(ts oauth2.TokenSource) Option { return func(o *options) { o.tokens = ts } }

// WithLogger sets where retries and odd answers are logged.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// WithBudget makes every request of the client, token requests and
// retries included, draw from b instead of a budget of the connection's
// own rate_limit (SPEC §13).
func WithBudget(b *budget.Budget) Option { return func(o *options) { o.budget = b } }

// WithClock sets the clock of the connection's request budget and of
// token lifetimes (default the real clock).
func WithClock(c clockwork.Clock) Option { return func(o *options) { o.clock = c } }

// WithPageSize sets the page size of DAG run listings (Airflow caps it at
// its maximum_page_limit, 100 by default).
func WithPageSize(n int) Option { return func(o *options) { o.pageSize = n } }

// New builds a client for one configured Airflow environment. For auth
// google the credentials are looked up on first use, so a daemon starts
// (and reports the problem per request) even before they are in place.
func New(cfg *config.Airflow, opts ...Option) (*Client, error) {
	if cfg == nil {
		return nil, errors.New("airflow: no connection config")
	}
	o := options{retryMin: 500 * time.Millisecond, retryMax: 30 * time.Second, retries: 5,
		timeout: 30 * time.Second, pageSize: 100}
	for _, f := range opts {
		f(&o)
	}
	if o.logger == nil {
		o.logger = slog.New(slog.DiscardHandler)
	}
	version := cfg.APIVersion
	if version == "" {
		version = V1
	}
	if version != V1 && version != V2 {
		return nil, fmt.Errorf("airflow %s: api_version %q: want v1 (Airflow 2) or v2 (Airflow 3)", cfg.Name, cfg.APIVersion)
	}
	u, err := url.Parse(strings.TrimRight(cfg.BaseURL, "/"))
	if err != nil || u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("airflow %s: base_url must be an absolute URL such as https://example-dot-asia-northeast1.composer.googleusercontent.com", cfg.Name)
	}
	auth, err := newAuthorizer(cfg, o.tokens)
	if err != nil {
		return nil, err
	}
	hc := &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	if o.clock == nil {
		o.clock = clockwork.NewRealClock()
	}
	if o.budget == nil {
		o.budget = budget.New("airflow "+cfg.Name, budget.Limit(cfg.RateLimit), o.clock)
	}
	hc = budget.Client(hc, o.budget)
	if o.timeout > 0 {
		c := *hc
		c.Timeout = o.timeout
		hc = &c
	}
	c := &Client{name: cfg.Name, base: u.String(), version: version, auth: auth, log: o.logger,
		pageSize: o.pageSize}
	for _, s := range []string{cfg.Password.Value(), cfg.Token.Value()} {
		if s != "" {
			c.secrets = append(c.secrets, s)
		}
	}
	rc := &retryablehttp.Client{
		HTTPClient:   hc,
		RetryWaitMin: o.retryMin,
		RetryWaitMax: o.retryMax,
		RetryMax:     o.retries,
		CheckRetry:   checkRetry,
		Backoff: func(min, max time.Duration, n int, resp *http.Response) time.Duration {
			// Retry-After may ask for longer than we are willing to
			// block a poke; the next poke will try again anyway.
			return boundedBackoff(min, max, n, resp)
		},
		ErrorHandler: retryablehttp.PassthroughErrorHandler,
		RequestLogHook: func(_ retryablehttp.Logger, r *http.Request, n int) {
			if n > 0 {
				c.log.Debug("airflow retry", "connection", c.name, "method", r.Method, "path", r.URL.Path, "attempt", n+1)
			}
		},
		PrepareRetry: func(r *http.Request) error {
			// A google token may expire between attempts.
			return c.auth.authorize(r)
		},
	}
	c.http = rc
	if pa, ok := auth.(*passwordAuth); ok {
		pa.base, pa.hc, pa.clock = c.base, hc, o.clock
	}
	return c, nil
}

// Name is the connection name the client was built for.
func (c *Client) Name() string { return c.name }

// Version is the API version, V1 or V2.
func (c *Client) Version() string { return c.version }

func boundedBackoff(min, max time.Duration, n int, resp *http.Response) time.Duration {
	d := retryablehttp.DefaultBackoff(min, max, n, resp)
	if d > max {
		d = max
	}
	return d
}

// checkRetry retries transport errors, timeouts, 429 and 5xx (but 501);
// every other answer is final.
func checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	if err != nil {
		return retryablehttp.DefaultRetryPolicy(ctx, resp, err)
	}
	switch {
	case resp.StatusCode == http.StatusTooManyRequests:
		return true, nil
	case resp.StatusCode >= 500 && resp.StatusCode != http.StatusNotImplemented:
		return true, nil
	}
	return false, nil
}

func (c *Client) prefix() string { return "/api/" + c.version }

// do sends one request and decodes a 2xx JSON answer into out. It returns
// an *APIError for any other status.
func (c *Client) do(ctx context.Context, method, path string, query url.Values, body any, out any) error {
	full := c.base + c.prefix() + path
	if len(query) > 0 {
		full += "?" + query.Encode()
	}
	var raw []byte
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("airflow %s: %s %s: encode body: %w", c.name, method, c.prefix()+path, err)
		}
		raw = b
	}
	// A GET whose answer does not parse is asked again: the body was cut
	// or garbled on the way, and reading is free of side effects.
	attempts := 1
	if method == http.MethodGet {
		attempts = 3
	}
	var lastErr error
	renewed := false
	for i := 0; i < attempts; i++ {
		lastErr = c.once(ctx, method, path, full, raw, out)
		var ae *APIError
		if pa, ok := c.auth.(*passwordAuth); ok && !renewed && errors.As(lastErr, &ae) && ae.Status == http.StatusUnauthorized {
			// The token was refused before its exp: get a new one and
			// send this request once more.
			renewed = true
			pa.invalidate()
			lastErr = c.once(ctx, method, path, full, raw, out)
		}
		var de *decodeError
		if !errors.As(lastErr, &de) || ctx.Err() != nil {
			return lastErr
		}
		c.log.Debug("airflow answer did not parse", "connection", c.name, "method", method, "path", c.prefix()+path)
	}
	return lastErr
}

type decodeError struct{ err error }

func (e *decodeError) Error() string { return "decode answer: " + e.err.Error() }
func (e *decodeError) Unwrap() error { return e.err }

func (c *Client) once(ctx context.Context, method, path, full string, raw []byte, out any) error {
	display := c.prefix() + path
	var rdr io.Reader
	if raw != nil {
		rdr = bytes.NewReader(raw)
	}
	req, err := retryablehttp.NewRequestWithContext(ctx, method, full, rdr)
	if err != nil {
		return fmt.Errorf("airflow %s: %s %s: %w", c.name, method, display, err)
	}
	req.Header.Set("Accept", "application/json")
	if raw != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if err := c.auth.authorize(req.Request); err != nil {
		return fmt.Errorf("airflow %s: %s %s: %w", c.name, method, display, err)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("airflow %s: %s %s: %s", c.name, method, display, c.redact(transportMessage(err)))
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return fmt.Errorf("airflow %s: %s %s: read answer: %s", c.name, method, display, c.redact(err.Error()))
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return &APIError{Connection: c.name, Method: method, Path: display, Status: resp.StatusCode,
			Message: c.redact(errorMessage(resp.StatusCode, data))}
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("airflow %s: %s %s: %w", c.name, method, display, &decodeError{err})
	}
	return nil
}

// transportMessage drops the URL from a transport error: it carries no
// secret today, but the cause is what a reader needs.
func transportMessage(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		if errors.Is(ue.Err, context.DeadlineExceeded) || ue.Timeout() {
			return "timed out: " + ue.Err.Error()
		}
		return ue.Err.Error()
	}
	return err.Error()
}

func (c *Client) redact(s string) string {
	for _, sec := range c.secrets {
		s = strings.ReplaceAll(s, sec, "[redacted]")
	}
	return c.auth.redact(s)
}

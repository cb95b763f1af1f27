// Package troccoapi is the one place that knows how TROCCO's REST API looks
// on the wire: the token header, the cursor pages, the error shapes, the
// status words and the rate limit. The trocco sensor and trigger share it.
package troccoapi

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
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/go-retryablehttp"
	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/policy/budget"
	"go.opentelemetry.io/otel/propagation"
)

// DefaultBaseURL is TROCCO's Japanese region; in.trocco.io and kr.trocco.io
// serve the other regions.
const DefaultBaseURL = "https://trocco.io"

// Defaults for retries and rate limits. TROCCO allows 100 calls per 15
// minutes, so a 429 can ask for a long wait: the client waits at most
// DefaultMaxRateLimitWait and otherwise gives the error back, so the next
// poke, not a blocked goroutine, tries again.
const (
	DefaultRetryMax         = 4
	DefaultRetryWaitMin     = 500 * time.Millisecond
	DefaultRetryWaitMax     = 15 * time.Second
	DefaultMaxRateLimitWait = 30 * time.Second
	DefaultPageSize         = 100
	DefaultTimeout          = 30 * time.Second
)

// Client calls the TROCCO API with an API key.
type Client struct {
	base     *url.URL
	key      string
	hc       *retryablehttp.Client
	clock    sekisho.Clock
	maxWait  time.Duration
	pageSize int
	log      *slog.Logger
	budget   *budget.Budget
	timeout  time.Duration
}

// Option configures a Client.
type Option func(*Client)

// WithRetry sets the retry count and the backoff bounds; tests use tiny ones.
func WithRetry(max int, waitMin, waitMax time.Duration) Option {
	return func(c *Client) {
		c.hc.RetryMax, c.hc.RetryWaitMin, c.hc.RetryWaitMax = max, waitMin, waitMax
	}
}

// WithTimeout sets how long one HTTP request may take (DefaultTimeout).
func WithTimeout(d time.Duration) Option { return func(c *Client) { c.hc.HTTPClient.Timeout = d } }

// Timeout is how long one HTTP request may take before the client gives
// up on it: also how long a request already sent can take to reach
// TROCCO, the bound the trigger waits out after a crash.
func (c *Client) Timeout() time.Duration { return c.timeout }

// WithClock sets the clock against which X-Rate-Limit-Reset is read.
func WithClock(clk sekisho.Clock) Option { return func(c *Client) { c.clock = clk } }

// WithMaxRateLimitWait caps how long a 429 answer may hold a call.
func WithMaxRateLimitWait(d time.Duration) Option { return func(c *Client) { c.maxWait = d } }

// WithPageSize sets the limit asked for per list page (TROCCO allows 1..100).
func WithPageSize(n int) Option { return func(c *Client) { c.pageSize = n } }

// WithLogger sets the logger for retries and odd answers.
func WithLogger(l *slog.Logger) Option { return func(c *Client) { c.log = l } }

// WithBudget makes every request, retries included, draw from b: the
// connection's request budget (SPEC §13).
func WithBudget(b *budget.Budget) Option { return func(c *Client) { c.budget = b } }

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

// New returns a client for baseURL (DefaultBaseURL when empty) that
// authenticates with apiKey.
func New(baseURL, apiKey string, opts ...Option) (*Client, error) {
	if baseURL == "" {
		baseURL = DefaultBaseURL
	}
	u, err := url.Parse(strings.TrimRight(baseURL, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("trocco base url %q: want https://trocco.io, https://in.trocco.io or https://kr.trocco.io", baseURL)
	}
	if apiKey == "" {
		return nil, errors.New("trocco api key is empty: set connections.trocco.api_key (e.g. ${TROCCO_API_KEY})")
	}
	hc := retryablehttp.NewClient()
	hc.Logger = nil // it would log every retry at its own level; we log with slog
	hc.HTTPClient = &http.Client{Timeout: DefaultTimeout}
	hc.RetryMax, hc.RetryWaitMin, hc.RetryWaitMax = DefaultRetryMax, DefaultRetryWaitMin, DefaultRetryWaitMax
	hc.ErrorHandler = retryablehttp.PassthroughErrorHandler
	c := &Client{base: u, key: apiKey, hc: hc, clock: realClock{}, maxWait: DefaultMaxRateLimitWait,
		pageSize: DefaultPageSize, log: slog.New(slog.DiscardHandler)}
	for _, o := range opts {
		o(c)
	}
	c.timeout = hc.HTTPClient.Timeout
	hc.HTTPClient = budget.Client(hc.HTTPClient, c.budget)
	hc.CheckRetry = c.checkRetry
	hc.Backoff = c.backoff
	return c, nil
}

// retryableKey marks requests that may be sent again: GETs, and a POST only
// when the server said it did not process it (429).
type retryableKey struct{}

func (c *Client) checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	idempotent, _ := ctx.Value(retryableKey{}).(bool)
	if err != nil {
		// A transport error or an unreadable 2xx body: a GET is safe to
		// repeat; a POST may have been applied, so its outcome stays unknown.
		return idempotent, nil
	}
	switch {
	case resp.StatusCode == http.StatusTooManyRequests:
		if wait, ok := c.rateLimitWait(resp); ok && wait > c.maxWait {
			return false, nil // give the error back rather than block for minutes
		}
		return true, nil
	case resp.StatusCode >= 500:
		return idempotent, nil
	}
	return false, nil
}

// rateLimitWait reads X-Rate-Limit-Reset (UNIX seconds) against the clock.
func (c *Client) rateLimitWait(resp *http.Response) (time.Duration, bool) {
	at, ok := resetTime(resp)
	if !ok {
		return 0, false
	}
	return at.Sub(c.clock.Now()), true
}

func resetTime(resp *http.Response) (time.Time, bool) {
	if resp == nil {
		return time.Time{}, false
	}
	v := strings.TrimSpace(resp.Header.Get("X-Rate-Limit-Reset"))
	if v == "" {
		return time.Time{}, false
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f <= 0 {
		return time.Time{}, false
	}
	sec := int64(f)
	return time.Unix(sec, int64((f-float64(sec))*1e9)), true
}

func (c *Client) backoff(min, max time.Duration, attempt int, resp *http.Response) time.Duration {
	if resp != nil && resp.StatusCode == http.StatusTooManyRequests {
		if wait, ok := c.rateLimitWait(resp); ok {
			if wait < min {
				wait = min
			}
			if wait > c.maxWait {
				wait = c.maxWait
			}
			return wait
		}
	}
	return retryablehttp.LinearJitterBackoff(min, max, attempt+1, resp)
}

// do sends one call and decodes a 2xx JSON answer into out. Every other
// answer becomes an *APIError.
func (c *Client) do(ctx context.Context, method, path string, query url.Values, body any, out any) error {
	u := *c.base
	u.Path = c.base.Path + path
	u.RawQuery = query.Encode()
	var payload []byte
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("trocco %s %s: encode body: %w", method, path, err)
		}
		payload = b
	}
	idempotent := method == http.MethodGet
	ctx = context.WithValue(ctx, retryableKey{}, idempotent)
	var raw interface{} = nil
	if payload != nil {
		raw = bytes.NewReader(payload)
	}
	req, err := retryablehttp.NewRequestWithContext(ctx, method, u.String(), raw)
	if err != nil {
		return fmt.Errorf("trocco %s %s: %w", method, path, err)
	}
	req.Header.Set("Authorization", "Token "+c.key)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "sekisho")
	// The W3C trace context of the caller's span, when it has one: the
	// trigger sends its attempt's, so a proxy's or TROCCO's request log
	// can be tied to the attempt that asked for a workflow job.
	propagation.TraceContext{}.Inject(ctx, propagation.HeaderCarrier(req.Header))
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	var decodeErr error
	req.SetResponseHandler(func(resp *http.Response) error {
		if resp.StatusCode < 200 || resp.StatusCode > 299 {
			return nil
		}
		decodeErr = decodeBody(resp.Body, out)
		resp.Body.Close()
		if decodeErr != nil && idempotent {
			return decodeErr // a GET with a garbled answer is asked again
		}
		return nil
	})
	resp, err := c.hc.Do(req)
	if err != nil {
		if resp != nil && resp.Body != nil {
			resp.Body.Close()
		}
		if ctx.Err() != nil {
			return fmt.Errorf("trocco %s %s: %w", method, path, ctx.Err())
		}
		return fmt.Errorf("trocco %s %s: %s", method, path, c.redact(err.Error()))
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 200 && resp.StatusCode <= 299 {
		if decodeErr != nil {
			return fmt.Errorf("trocco %s %s: unreadable answer: %w", method, path, decodeErr)
		}
		return nil
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	apiErr := parseError(method, path, resp.StatusCode, b)
	apiErr.Message = c.redact(apiErr.Message)
	if resp.StatusCode == http.StatusTooManyRequests {
		apiErr.RetryAt, _ = resetTime(resp)
	}
	c.log.Debug("trocco api error", "method", method, "path", path, "status", resp.StatusCode)
	return apiErr
}

func decodeBody(r io.Reader, out any) error {
	b, err := io.ReadAll(io.LimitReader(r, 16<<20))
	if err != nil {
		return err
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("decode json: %w", err)
	}
	return nil
}

// redact removes the API key from text that may echo a request.
func (c *Client) redact(s string) string {
	if c.key == "" {
		return s
	}
	return strings.ReplaceAll(s, c.key, "[redacted]")
}

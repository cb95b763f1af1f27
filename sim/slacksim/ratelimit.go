package slacksim

import (
	"io"
	"net/http"
	"strconv"
	"time"
)

// DefaultPostInterval and DefaultPostBurst are Slack's message posting
// limit as the simulator enforces it by default. Slack: "chat.postMessage
// generally allows posting one message per second per channel", an
// incoming webhook the same, and its rate-limit table says "Posting
// messages: 1 per second. Short bursts >1 allowed" (Web API rate limits,
// https://docs.slack.dev/apis/web-api/rate-limits). Slack does not size the
// burst; the simulator takes a small one (a token bucket of DefaultPostBurst
// posts refilled one per DefaultPostInterval), so two posts measured 0.99 s
// apart on arrival pass as on Slack, while a client that keeps posting
// faster than one a second is refused.
const (
	DefaultPostInterval = time.Second
	DefaultPostBurst    = 3
)

// WithPostBurst sets how many posts a channel's bucket holds: how many may
// go back to back after a quiet spell. Less than 1 means 1: no burst, every
// post at least the interval after the one before.
func WithPostBurst(n int) Option { return func(s *Sim) { s.postBurst = n } }

// Throttled is how many posts the per-channel limit refused.
func (s *Sim) Throttled() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.throttled
}

// bucket is one channel's posting allowance: tokens at the time at.
type bucket struct {
	tokens float64
	at     time.Time
}

// admitPost reports whether a post to channel may go now, taking a token
// if so; if not, wait is when the next token is in. Callers hold s.mu.
func (s *Sim) admitPost(channel string) (ok bool, wait time.Duration) {
	if s.postInterval <= 0 {
		return true, 0
	}
	burst := float64(max(s.postBurst, 1))
	now := s.clock.Now()
	if s.buckets == nil {
		s.buckets = map[string]bucket{}
	}
	b, seen := s.buckets[channel]
	if !seen {
		b = bucket{tokens: burst, at: now}
	}
	if now.After(b.at) {
		b.tokens = min(burst, b.tokens+float64(now.Sub(b.at))/float64(s.postInterval))
		b.at = now
	}
	if b.tokens < 1 {
		s.buckets[channel] = b
		s.throttled++
		return false, time.Duration((1 - b.tokens) * float64(s.postInterval))
	}
	b.tokens--
	s.buckets[channel] = b
	return true, 0
}

// writeRateLimited answers as Slack does past a rate limit: HTTP 429 with
// Retry-After in whole seconds, rounded up, and
// {"ok":false,"error":"ratelimited"}.
func writeRateLimited(w http.ResponseWriter, retryAfter time.Duration) {
	secs := int((retryAfter + time.Second - 1) / time.Second)
	if secs < 1 {
		secs = 1
	}
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusTooManyRequests)
	io.WriteString(w, `{"ok":false,"error":"ratelimited"}`)
}

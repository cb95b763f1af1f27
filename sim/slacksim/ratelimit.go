package slacksim

import (
	"io"
	"net/http"
	"strconv"
	"time"
)

// DefaultPostInterval is Slack's message posting limit the simulator
// enforces by default: one message per second per channel ("chat.postMessage
// generally allows posting one message per second per channel", and an
// incoming webhook the same: Web API rate limits,
// https://docs.slack.dev/apis/web-api/rate-limits). Slack tolerates short
// bursts it does not size; the simulator allows none, so a client that
// passes it stays within Slack's limit.
const DefaultPostInterval = time.Second

// WithPostInterval sets the least time between two posts to one channel
// (chat.postMessage, incoming webhook); a post sooner is answered 429
// ratelimited with Retry-After, and counted (Throttled). Zero turns the
// limit off.
func WithPostInterval(d time.Duration) Option { return func(s *Sim) { s.postInterval = d } }

// Throttled is how many posts the per-channel limit refused.
func (s *Sim) Throttled() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.throttled
}

// admitPost reports whether a post to channel may go now, and if so
// records it; callers hold s.mu.
func (s *Sim) admitPost(channel string) bool {
	if s.postInterval <= 0 {
		return true
	}
	now := s.clock.Now()
	if last, ok := s.lastPost[channel]; ok && now.Sub(last) < s.postInterval {
		s.throttled++
		return false
	}
	if s.lastPost == nil {
		s.lastPost = map[string]time.Time{}
	}
	s.lastPost[channel] = now
	return true
}

// writeRateLimited answers as Slack does past a rate limit: HTTP 429 with
// Retry-After in seconds and {"ok":false,"error":"ratelimited"}.
func writeRateLimited(w http.ResponseWriter, retryAfter time.Duration) {
	secs := int(retryAfter / time.Second)
	if secs < 1 {
		secs = 1
	}
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusTooManyRequests)
	io.WriteString(w, `{"ok":false,"error":"ratelimited"}`)
}

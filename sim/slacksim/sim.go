// Package slacksim is a Slack double for the demo and end-to-end tests: an
// http.Handler serving an incoming webhook and the Web API methods sekisho
// uses (chat.postMessage, chat.update, conversations.history,
// conversations.replies, auth.test) in Slack's wire format. It records
// every message, can print each one as a line on a terminal, and can
// misbehave like Slack on a bad day (outage windows answering 5xx, rate
// limits answering 429 with Retry-After) on an injected clock. Like Slack it
// takes one post per second per channel on average, with a short burst
// (ratelimit.go).
package slacksim

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/sekisho-dev/sekisho"
)

// Identities the simulated workspace reports.
const (
	TeamID = "T0SEKISHO"
	BotID  = "B0SEKISHO"
	UserID = "U0SEKISHO"
	// WebhookPath is the incoming-webhook path the simulator answers; the
	// last part plays the secret.
	WebhookPath = "/services/" + TeamID + "/" + BotID + "/sim0secret0webhook0path"
	// WebhookChannel is where webhook messages land.
	WebhookChannel = "C0WEBHOOK"
)

// Message is one message the simulator holds, as Slack would store it.
type Message struct {
	Channel  string          // channel id
	TS       string          // message timestamp, unique per channel
	ThreadTS string          // the root's ts for a reply; empty for a root
	Text     string          // plain-text fallback
	Blocks   json.RawMessage // Block Kit layout as posted, or nil
	Metadata json.RawMessage // message metadata as posted, or nil
	Webhook  bool            // posted through the incoming webhook
	Updates  int             // how many chat.update calls changed it
	At       time.Time       // when it was posted (simulator clock)
}

// Fault makes requests in [From, To) fail.
type Fault struct {
	From, To time.Time
	// Status is the HTTP status to answer: 500 and 503 for an outage,
	// 429 for a rate limit.
	Status int
	// RetryAfter goes into the Retry-After header of a 429.
	RetryAfter time.Duration
	// Accept stores the message before failing: Slack got it but the
	// answer was lost, the case that tests exactly-once delivery.
	Accept bool
	// Word is a refusal as an incoming webhook writes it: a 4xx Status
	// with this error word as the plain-text body (invalid_blocks, no_text,
	// channel_is_archived, …).
	Word string
}

// Option configures a Sim.
type Option func(*Sim)

// WithToken makes the Web API accept only this bot token (default: any
// token starting with "xoxb-").
func WithToken(token string) Option { return func(s *Sim) { s.token = token } }

// WithChannels makes chat.postMessage answer channel_not_found for a
// channel name other than these (by default every name exists).
func WithChannels(names ...string) Option {
	return func(s *Sim) {
		s.known = map[string]bool{}
		for _, n := range names {
			s.known[strings.TrimPrefix(n, "#")] = true
		}
	}
}

// WithOutput prints every posted or updated message as one readable line.
func WithOutput(w io.Writer) Option { return func(s *Sim) { s.out = w } }

// WithOnMessage calls fn with every posted or updated message.
func WithOnMessage(fn func(Message)) Option { return func(s *Sim) { s.onMessage = fn } }

// Sim is the Slack double. It is safe for concurrent use.
type Sim struct {
	clock     sekisho.Clock
	token     string
	out       io.Writer
	onMessage func(Message)
	known     map[string]bool // channel names that exist; nil: all

	mu       sync.Mutex
	msgs     []Message
	names    map[string]string // channel id → name, for printing
	faults   []Fault
	lastTS   int64 // microseconds of the last ts handed out
	requests int
	faulted  int
	// Per-channel posting limit (ratelimit.go).
	postInterval time.Duration
	postBurst    int
	buckets      map[string]bucket // channel id → its posting allowance
	throttled    int

	// Socket Mode and user groups (socket.go).
	appToken  string
	groups    map[string][]string
	sock      socketState
	pingEvery time.Duration
	responses []Response // answers to clicks' response_urls (press.go)
}

// New returns a simulator on clock (a clockwork fake clock in tests).
func New(clock sekisho.Clock, opts ...Option) *Sim {
	s := &Sim{clock: clock, names: map[string]string{WebhookChannel: "webhook"}, postInterval: DefaultPostInterval, postBurst: DefaultPostBurst}
	for _, o := range opts {
		o(s)
	}
	return s
}

// AddFault schedules a fault window.
func (s *Sim) AddFault(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, f)
}

// ClearFaults removes every fault window.
func (s *Sim) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
}

// Messages returns every message held, in posting order.
func (s *Sim) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.msgs...)
}

// Stats reports how many requests arrived and how many got a fault.
func (s *Sim) Stats() (requests, faulted int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests, s.faulted
}

// ChannelID returns the id the simulator gives a channel name ("#x" or "x");
// ids pass through.
func ChannelID(name string) string {
	name = strings.TrimPrefix(name, "#")
	if isChannelID(name) {
		return name
	}
	h := fnv.New32a()
	h.Write([]byte(name))
	return fmt.Sprintf("C%08X", h.Sum32())
}

func isChannelID(s string) bool {
	if len(s) < 9 || (s[0] != 'C' && s[0] != 'G' && s[0] != 'D') {
		return false
	}
	for _, r := range s[1:] {
		if !(r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// ServeHTTP routes the webhook path and /api/<method>.
func (s *Sim) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.requests++
	f, faulty := s.fault()
	if faulty {
		s.faulted++
	}
	s.mu.Unlock()
	if faulty && !f.Accept {
		writeFault(w, f)
		return
	}
	if faulty {
		// The request takes effect, the answer is lost.
		rec := discardWriter{header: http.Header{}}
		s.route(&rec, r)
		writeFault(w, f)
		return
	}
	s.route(w, r)
}

func (s *Sim) route(w http.ResponseWriter, r *http.Request) {
	switch {
	case strings.HasPrefix(r.URL.Path, "/services/"):
		s.webhook(w, r)
	case strings.HasPrefix(r.URL.Path, "/api/"):
		s.api(w, r, strings.TrimPrefix(r.URL.Path, "/api/"))
	case r.URL.Path == SocketPath:
		s.socket(w, r)
	case strings.HasPrefix(r.URL.Path, ResponsePath):
		s.respond(w, r)
	default:
		http.NotFound(w, r)
	}
}

// fault returns the fault window covering now; callers hold s.mu.
func (s *Sim) fault() (Fault, bool) {
	now := s.clock.Now()
	for _, f := range s.faults {
		if !now.Before(f.From) && now.Before(f.To) {
			return f, true
		}
	}
	return Fault{}, false
}

func writeFault(w http.ResponseWriter, f Fault) {
	if f.Word != "" {
		plain(w, f.Status, f.Word)
		return
	}
	if f.Status == http.StatusTooManyRequests {
		writeRateLimited(w, f.RetryAfter)
		return
	}
	// Slack sends an HTML page with its 5xx answers.
	w.Header().Set("Content-Type", "text/html")
	w.WriteHeader(f.Status)
	io.WriteString(w, "<html><body><h1>Slack is having trouble</h1></body></html>")
}

// nextTS hands out a strictly increasing ts from the clock; callers hold s.mu.
func (s *Sim) nextTS() string {
	us := s.clock.Now().UnixMicro()
	if us <= s.lastTS {
		us = s.lastTS + 1
	}
	s.lastTS = us
	return fmt.Sprintf("%d.%06d", us/1e6, us%1e6)
}

// record stores a new message and prints it; callers hold s.mu.
func (s *Sim) record(m Message) Message {
	m.TS = s.nextTS()
	m.At = s.clock.Now()
	s.msgs = append(s.msgs, m)
	s.announce(m, false)
	return m
}

func (s *Sim) announce(m Message, updated bool) {
	if s.out != nil {
		name := s.names[m.Channel]
		if name == "" {
			name = m.Channel
		}
		head, _, _ := strings.Cut(m.Text, "\n")
		where := "#" + name
		switch {
		case updated:
			where += " (root updated)"
		case m.ThreadTS != "":
			where += " ↳ thread"
		}
		fmt.Fprintf(s.out, "slack %s %s: %s\n", m.At.Format("2006-01-02 15:04:05"), where, head)
	}
	if s.onMessage != nil {
		s.onMessage(m)
	}
}

type discardWriter struct{ header http.Header }

func (d *discardWriter) Header() http.Header         { return d.header }
func (d *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (d *discardWriter) WriteHeader(int)             {}

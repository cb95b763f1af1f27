package slacksim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// Socket Mode, as Slack documents it (docs.slack.dev, "Using Socket
// Mode"): apps.connections.open, called with an app-level token (xapp-…),
// answers a single-use wss URL; on that WebSocket Slack first sends
// {"type":"hello"}, then delivers envelopes {"envelope_id","type",
// "payload","accepts_response_payload"} that the app must acknowledge by
// sending back {"envelope_id"} (within 3 seconds, or Slack retries the
// envelope, with retry_attempt counting up). Slack pings the socket; an app
// hears no ping for long and reconnects.

// SocketPath is where the simulator's Socket Mode WebSocket is served.
const SocketPath = "/socket-mode"

// WithAppToken makes apps.connections.open accept only this app-level
// token (default: any token starting with "xapp-").
func WithAppToken(token string) Option { return func(s *Sim) { s.appToken = token } }

// WithUserGroup gives the workspace a user group and its members, for
// usergroups.users.list.
func WithUserGroup(id string, members ...string) Option {
	return func(s *Sim) {
		if s.groups == nil {
			s.groups = map[string][]string{}
		}
		s.groups[id] = members
	}
}

type envelope struct {
	id      string
	kind    string // interactive | events_api | slash_commands
	payload json.RawMessage
	acked   bool
	tries   int
	done    chan struct{} // closed at the first acknowledgement
}

type socketState struct {
	opened    int // apps.connections.open answers
	tickets   map[string]bool
	conns     map[*websocket.Conn]*sync.Mutex // open sockets, each with its write lock
	envelopes []*envelope
	next      int
}

func (s *Sim) groupMembers(w http.ResponseWriter, p url.Values) {
	members, ok := s.groups[p.Get("usergroup")]
	if !ok {
		reply(w, map[string]any{"ok": false, "error": "no_such_subteam"})
		return
	}
	reply(w, map[string]any{"ok": true, "users": members})
}

// openConnection answers apps.connections.open with a one-time socket URL.
func (s *Sim) openConnection(w http.ResponseWriter, r *http.Request) {
	tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	switch {
	case tok == "" || tok == r.Header.Get("Authorization"):
		reply(w, map[string]any{"ok": false, "error": "not_authed"})
		return
	case !strings.HasPrefix(tok, "xapp-"):
		reply(w, map[string]any{"ok": false, "error": "not_allowed_token_type"})
		return
	case s.appToken != "" && tok != s.appToken:
		reply(w, map[string]any{"ok": false, "error": "invalid_auth"})
		return
	}
	s.mu.Lock()
	s.sock.opened++
	ticket := fmt.Sprintf("ticket-%d", s.sock.opened)
	if s.sock.tickets == nil {
		s.sock.tickets = map[string]bool{}
	}
	s.sock.tickets[ticket] = true
	s.mu.Unlock()
	reply(w, map[string]any{"ok": true, "url": "ws://" + r.Host + SocketPath + "?ticket=" + ticket})
}

var upgrader = websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}

// socket serves one Socket Mode connection: hello, every envelope not yet
// acknowledged, then acknowledgements until the connection ends.
func (s *Sim) socket(w http.ResponseWriter, r *http.Request) {
	ticket := r.URL.Query().Get("ticket")
	s.mu.Lock()
	valid := s.sock.tickets[ticket]
	delete(s.sock.tickets, ticket) // a socket URL works once
	s.mu.Unlock()
	if !valid {
		http.Error(w, "invalid ticket", http.StatusUnauthorized)
		return
	}
	conn, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	wmu := &sync.Mutex{}
	write := func(v any) error {
		wmu.Lock()
		defer wmu.Unlock()
		conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
		return conn.WriteJSON(v)
	}
	if err := write(map[string]any{"type": "hello", "num_connections": 1,
		"connection_info": map[string]any{"app_id": "A0SEKISHO"},
		"debug_info":      map[string]any{"host": "sekisho-sim", "approximate_connection_time": 3600}}); err != nil {
		conn.Close()
		return
	}
	s.mu.Lock()
	if s.sock.conns == nil {
		s.sock.conns = map[*websocket.Conn]*sync.Mutex{}
	}
	s.sock.conns[conn] = wmu
	var pending []*envelope
	for _, e := range s.sock.envelopes {
		if !e.acked {
			e.tries++
			pending = append(pending, e)
		}
	}
	ping := s.pingEvery
	s.mu.Unlock()
	for _, e := range pending {
		write(wireEnvelope(e))
	}
	done := make(chan struct{})
	defer close(done)
	if ping <= 0 {
		ping = 5 * time.Second
	}
	go func() { // Slack pings its sockets; slack-go reconnects after 30s without one
		t := time.NewTicker(ping)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				wmu.Lock()
				err := conn.WriteControl(websocket.PingMessage, []byte("ping"), time.Now().Add(5*time.Second))
				wmu.Unlock()
				if err != nil {
					return
				}
			}
		}
	}()
	defer func() {
		s.mu.Lock()
		delete(s.sock.conns, conn)
		s.mu.Unlock()
		conn.Close()
	}()
	conn.SetPingHandler(nil)
	for {
		var ack struct {
			EnvelopeID string `json:"envelope_id"`
		}
		if err := conn.ReadJSON(&ack); err != nil {
			return
		}
		s.mu.Lock()
		for _, e := range s.sock.envelopes {
			if e.id == ack.EnvelopeID && !e.acked {
				e.acked = true
				close(e.done)
			}
		}
		s.mu.Unlock()
	}
}

func wireEnvelope(e *envelope) map[string]any {
	m := map[string]any{"envelope_id": e.id, "type": e.kind, "payload": e.payload,
		"accepts_response_payload": false}
	if e.tries > 1 {
		m["retry_attempt"] = e.tries - 1
		m["retry_reason"] = "timeout"
	}
	return m
}

// Interact delivers an interaction payload (a block_actions click) as an
// "interactive" envelope over an open Socket Mode connection, or over the
// next one if none is open, and returns its envelope id.
func (s *Sim) Interact(payload any) (string, error) {
	raw, err := json.Marshal(payload)
	if err != nil {
		return "", err
	}
	s.mu.Lock()
	s.sock.next++
	e := &envelope{id: fmt.Sprintf("env-%04d", s.sock.next), kind: "interactive", payload: raw, tries: 1, done: make(chan struct{})}
	s.sock.envelopes = append(s.sock.envelopes, e)
	var conn *websocket.Conn
	var wmu *sync.Mutex
	for c, m := range s.sock.conns {
		conn, wmu = c, m
		break
	}
	s.mu.Unlock()
	if conn != nil {
		wmu.Lock()
		conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
		conn.WriteJSON(wireEnvelope(e))
		wmu.Unlock()
	}
	return e.id, nil
}

// Redeliver sends an unacknowledged envelope again, as Slack does when an
// app did not acknowledge it in time; an acknowledged one too when force
// is set (a retry racing the acknowledgement).
func (s *Sim) Redeliver(id string, force bool) {
	s.mu.Lock()
	var e *envelope
	for _, x := range s.sock.envelopes {
		if x.id == id && (!x.acked || force) {
			e = x
			e.tries++
		}
	}
	conns := make(map[*websocket.Conn]*sync.Mutex, len(s.sock.conns))
	for c, m := range s.sock.conns {
		conns[c] = m
	}
	s.mu.Unlock()
	if e == nil {
		return
	}
	for c, m := range conns {
		m.Lock()
		c.SetWriteDeadline(time.Now().Add(5 * time.Second))
		c.WriteJSON(wireEnvelope(e))
		m.Unlock()
		break
	}
}

// Acked reports whether the app acknowledged an envelope.
func (s *Sim) Acked(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range s.sock.envelopes {
		if e.id == id {
			return e.acked
		}
	}
	return false
}

// AckDone is closed when the app acknowledges the envelope (nil for an
// unknown id).
func (s *Sim) AckDone(id string) <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range s.sock.envelopes {
		if e.id == id {
			return e.done
		}
	}
	return nil
}

// SocketStats reports how many Socket Mode URLs were handed out and how
// many sockets are open.
func (s *Sim) SocketStats() (opened, open int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sock.opened, len(s.sock.conns)
}

// DropSockets closes every open Socket Mode connection, as a network drop
// or a Slack deploy does; the app is expected to reconnect.
func (s *Sim) DropSockets() {
	s.mu.Lock()
	conns := make([]*websocket.Conn, 0, len(s.sock.conns))
	for c := range s.sock.conns {
		conns = append(conns, c)
		// Gone at once, as on Slack's side: an envelope sent after the
		// drop goes to the app's next connection, never to a closed
		// one whose read loop has not noticed yet (TestSocketMode
		// waited 10 s for an acknowledgement under a loaded test run).
		delete(s.sock.conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		c.Close()
	}
}

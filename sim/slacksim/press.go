package slacksim

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Interactivity over HTTP, as Slack does it (docs.slack.dev, "Handling user
// interaction"; "Verifying requests from Slack"): a click on a button or a
// menu of a message is POSTed to the app's Request URL as a form with one
// field, payload, a block_actions JSON; the request carries
// X-Slack-Request-Timestamp and X-Slack-Signature, "v0=" and the hex
// HMAC-SHA256 of "v0:{timestamp}:{body}" keyed with the app's signing
// secret. The payload's response_url takes the app's answers to the
// clicking user (ephemeral messages); the simulator serves it and keeps them.

// ResponsePath is where the simulator's response_urls point.
const ResponsePath = "/actions/"

// Press is one click of a user on an element of a message the simulator
// holds.
type Press struct {
	User, UserName string
	ActionID       string // the element's action_id
	Value          string // a button's value, or the chosen option's value
	// Match picks the message (default: any); the last matching message
	// that carries an element with ActionID and Value is pressed.
	Match func(Message) bool
	// Base is the simulator's own base URL, for the response_url.
	Base string
}

// Response is an answer an app posted to a click's response_url.
type Response struct {
	ResponseType, Text string
}

// Press posts a click to requestURL as Slack would, signed with secret at
// the simulator's clock, and returns the HTTP status the app answered.
func (s *Sim) Press(ctx context.Context, hc *http.Client, requestURL, secret string, p Press) (int, error) {
	s.mu.Lock()
	var m *Message
	for i := len(s.msgs) - 1; i >= 0; i-- {
		c := s.msgs[i]
		if (p.Match == nil || p.Match(c)) && carriesElement(c.Blocks, p.ActionID, p.Value) {
			m = &c
			break
		}
	}
	s.sock.next++
	n := s.sock.next
	now := s.clock.Now()
	s.mu.Unlock()
	if m == nil {
		return 0, fmt.Errorf("slacksim: no message carries %s with value %q", p.ActionID, p.Value)
	}
	act := map[string]any{"action_id": p.ActionID, "block_id": "sekisho_actions", "type": "button", "value": p.Value,
		"action_ts": fmt.Sprintf("%d.%06d", now.Unix(), now.Nanosecond()/1000)}
	if strings.Contains(p.Value, "|") {
		act["type"] = "static_select"
		delete(act, "value")
		act["selected_option"] = map[string]any{"value": p.Value, "text": map[string]any{"type": "plain_text", "text": p.Value}}
	}
	payload := map[string]any{"type": "block_actions", "api_app_id": "A0SEKISHO", "token": "deprecated",
		"team": map[string]any{"id": TeamID}, "trigger_id": fmt.Sprintf("%d.%d", now.Unix(), n),
		"user":         map[string]any{"id": p.User, "username": p.UserName, "name": p.UserName, "team_id": TeamID},
		"container":    map[string]any{"type": "message", "message_ts": m.TS, "channel_id": m.Channel, "is_ephemeral": false},
		"channel":      map[string]any{"id": m.Channel},
		"message":      map[string]any{"type": "message", "ts": m.TS, "text": m.Text},
		"response_url": strings.TrimRight(p.Base, "/") + ResponsePath + strconv.Itoa(n),
		"actions":      []any{act}}
	raw, err := json.Marshal(payload)
	if err != nil {
		return 0, err
	}
	body := "payload=" + url.QueryEscape(string(raw))
	ts := strconv.FormatInt(now.Unix(), 10)
	mac := hmac.New(sha256.New, []byte(secret))
	io.WriteString(mac, "v0:"+ts+":"+body)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, requestURL, strings.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Slack-Request-Timestamp", ts)
	req.Header.Set("X-Slack-Signature", "v0="+hex.EncodeToString(mac.Sum(nil)))
	resp, err := hc.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, nil
}

// carriesElement reports whether Block Kit blocks hold an element with the
// action_id and the value (its own, or one of its options').
func carriesElement(blocks json.RawMessage, actionID, value string) bool {
	var bs []struct {
		Elements []struct {
			ActionID string `json:"action_id"`
			Value    string `json:"value"`
			Options  []struct {
				Value string `json:"value"`
			} `json:"options"`
		} `json:"elements"`
	}
	if json.Unmarshal(blocks, &bs) != nil {
		return false
	}
	for _, b := range bs {
		for _, e := range b.Elements {
			if e.ActionID != actionID {
				continue
			}
			if e.Value == value {
				return true
			}
			for _, o := range e.Options {
				if o.Value == value {
					return true
				}
			}
		}
	}
	return false
}

// respond keeps an app's answer to a click.
func (s *Sim) respond(w http.ResponseWriter, r *http.Request) {
	var m struct {
		ResponseType string `json:"response_type"`
		Text         string `json:"text"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&m); err != nil {
		plain(w, http.StatusBadRequest, "invalid_payload")
		return
	}
	s.mu.Lock()
	s.responses = append(s.responses, Response{ResponseType: m.ResponseType, Text: m.Text})
	s.mu.Unlock()
	plain(w, http.StatusOK, "ok")
}

// Responses returns the answers apps posted to response_urls.
func (s *Sim) Responses() []Response {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Response(nil), s.responses...)
}

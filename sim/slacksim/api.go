package slacksim

import (
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// webhook answers an incoming-webhook post the way Slack does: 200 "ok" as
// plain text, or a 4xx with a short plain-text error code.
func (s *Sim) webhook(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		plain(w, http.StatusMethodNotAllowed, "invalid_method")
		return
	}
	if r.URL.Path != WebhookPath {
		plain(w, http.StatusNotFound, "no_service")
		return
	}
	var body struct {
		Text     string          `json:"text"`
		Blocks   json.RawMessage `json:"blocks"`
		ThreadTS string          `json:"thread_ts"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&body); err != nil {
		plain(w, http.StatusBadRequest, "invalid_payload")
		return
	}
	blocks := nonEmpty(body.Blocks)
	if body.Text == "" && blocks == nil {
		plain(w, http.StatusBadRequest, "no_text")
		return
	}
	s.mu.Lock()
	if ok, wait := s.admitPost(WebhookChannel); !ok {
		s.mu.Unlock()
		writeRateLimited(w, wait)
		return
	}
	s.record(Message{Channel: WebhookChannel, Text: body.Text, Blocks: blocks, Webhook: true})
	s.mu.Unlock()
	plain(w, http.StatusOK, "ok")
}

// api serves the Web API methods over form or JSON bodies; like Slack it
// answers 200 with {"ok":false,"error":…} for method-level errors.
func (s *Sim) api(w http.ResponseWriter, r *http.Request, method string) {
	if method == "apps.connections.open" {
		s.openConnection(w, r)
		return
	}
	p, err := params(r)
	if err != nil {
		reply(w, map[string]any{"ok": false, "error": "invalid_form_data"})
		return
	}
	if method != "api.test" {
		tok := p.Get("token")
		if h := r.Header.Get("Authorization"); strings.HasPrefix(h, "Bearer ") {
			tok = strings.TrimPrefix(h, "Bearer ")
		}
		switch {
		case tok == "":
			reply(w, map[string]any{"ok": false, "error": "not_authed"})
			return
		case strings.HasPrefix(tok, "xapp-"):
			// An app-level token only opens Socket Mode connections.
			reply(w, map[string]any{"ok": false, "error": "not_allowed_token_type"})
			return
		case s.token != "" && tok != s.token, s.token == "" && !strings.HasPrefix(tok, "xoxb-"):
			reply(w, map[string]any{"ok": false, "error": "invalid_auth"})
			return
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch method {
	case "auth.test":
		reply(w, map[string]any{"ok": true, "url": "https://sekisho-sim.slack.com/", "team": "sekisho-sim",
			"user": "sekisho", "team_id": TeamID, "user_id": UserID, "bot_id": BotID})
	case "api.test":
		reply(w, map[string]any{"ok": true, "args": map[string]string{}})
	case "chat.postMessage":
		if ch := p.Get("channel"); ch != "" {
			if ok, wait := s.admitPost(ChannelID(ch)); !ok {
				writeRateLimited(w, wait)
				return
			}
		}
		s.postMessage(w, p)
	case "chat.update":
		s.update(w, p)
	case "conversations.history":
		s.history(w, p)
	case "conversations.replies":
		s.replies(w, p)
	case "usergroups.users.list":
		s.groupMembers(w, p)
	default:
		reply(w, map[string]any{"ok": false, "error": "unknown_method"})
	}
}

func (s *Sim) postMessage(w http.ResponseWriter, p url.Values) {
	name := p.Get("channel")
	if name == "" {
		reply(w, map[string]any{"ok": false, "error": "channel_not_found"})
		return
	}
	if bare := strings.TrimPrefix(name, "#"); s.known != nil && !isChannelID(bare) && !s.known[bare] {
		reply(w, map[string]any{"ok": false, "error": "channel_not_found"})
		return
	}
	ch := ChannelID(name)
	if !isChannelID(strings.TrimPrefix(name, "#")) {
		s.names[ch] = strings.TrimPrefix(name, "#")
	}
	blocks := nonEmpty(json.RawMessage(p.Get("blocks")))
	if p.Get("text") == "" && blocks == nil {
		reply(w, map[string]any{"ok": false, "error": "no_text"})
		return
	}
	thread := p.Get("thread_ts")
	if thread != "" {
		if i := s.find(ch, thread); i < 0 || s.msgs[i].ThreadTS != "" {
			reply(w, map[string]any{"ok": false, "error": "thread_not_found"})
			return
		}
	}
	m := s.record(Message{Channel: ch, ThreadTS: thread, Text: p.Get("text"), Blocks: blocks,
		Metadata: nonEmpty(json.RawMessage(p.Get("metadata")))})
	reply(w, map[string]any{"ok": true, "channel": ch, "ts": m.TS, "message": wire(m)})
}

func (s *Sim) update(w http.ResponseWriter, p url.Values) {
	ch := p.Get("channel")
	if !isChannelID(ch) {
		reply(w, map[string]any{"ok": false, "error": "channel_not_found"})
		return
	}
	i := s.find(ch, p.Get("ts"))
	if i < 0 {
		reply(w, map[string]any{"ok": false, "error": "message_not_found"})
		return
	}
	m := &s.msgs[i]
	if t := p.Get("text"); t != "" {
		m.Text = t
	}
	if b := nonEmpty(json.RawMessage(p.Get("blocks"))); b != nil {
		m.Blocks = b
	}
	m.Updates++
	s.announce(*m, true)
	reply(w, map[string]any{"ok": true, "channel": ch, "ts": m.TS, "text": m.Text, "message": wire(*m)})
}

// history lists a channel's top-level messages, newest first. Like Slack,
// it needs the channel id: a name is channel_not_found.
func (s *Sim) history(w http.ResponseWriter, p url.Values) {
	ch := p.Get("channel")
	if !isChannelID(ch) {
		reply(w, map[string]any{"ok": false, "error": "channel_not_found"})
		return
	}
	oldest, latest := p.Get("oldest"), p.Get("latest")
	var list []Message
	for _, m := range s.msgs {
		if m.Channel != ch || m.ThreadTS != "" {
			continue
		}
		if oldest != "" && tsLess(m.TS, oldest) || latest != "" && !tsLess(m.TS, latest) {
			continue
		}
		list = append(list, m)
	}
	sort.SliceStable(list, func(i, j int) bool { return tsLess(list[j].TS, list[i].TS) })
	s.page(w, list, p, p.Get("include_all_metadata") == "1")
}

// replies lists a thread, root first, then replies oldest first.
func (s *Sim) replies(w http.ResponseWriter, p url.Values) {
	ch, ts := p.Get("channel"), p.Get("ts")
	if !isChannelID(ch) {
		reply(w, map[string]any{"ok": false, "error": "channel_not_found"})
		return
	}
	i := s.find(ch, ts)
	if i < 0 {
		reply(w, map[string]any{"ok": false, "error": "thread_not_found"})
		return
	}
	list := []Message{s.msgs[i]}
	for _, m := range s.msgs {
		if m.Channel == ch && m.ThreadTS == ts {
			list = append(list, m)
		}
	}
	s.page(w, list, p, p.Get("include_all_metadata") == "1")
}

// page answers a list with Slack's cursor pagination: the cursor is an
// opaque offset.
func (s *Sim) page(w http.ResponseWriter, list []Message, p url.Values, meta bool) {
	limit, _ := strconv.Atoi(p.Get("limit"))
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	start, _ := strconv.Atoi(strings.TrimPrefix(p.Get("cursor"), "off_"))
	if start < 0 || start > len(list) {
		start = len(list)
	}
	end := min(start+limit, len(list))
	out := make([]map[string]any, 0, end-start)
	for _, m := range list[start:end] {
		wm := wire(m)
		if !meta {
			delete(wm, "metadata")
		}
		out = append(out, wm)
	}
	next := ""
	if end < len(list) {
		next = "off_" + strconv.Itoa(end)
	}
	reply(w, map[string]any{"ok": true, "messages": out, "has_more": next != "",
		"response_metadata": map[string]string{"next_cursor": next}})
}

// find returns the index of the message with ts in channel, or -1;
// callers hold s.mu.
func (s *Sim) find(ch, ts string) int {
	for i, m := range s.msgs {
		if m.Channel == ch && m.TS == ts {
			return i
		}
	}
	return -1
}

// wire is a message as the Web API returns it.
func wire(m Message) map[string]any {
	out := map[string]any{"type": "message", "user": UserID, "bot_id": BotID, "text": m.Text, "ts": m.TS,
		"team": TeamID}
	if m.ThreadTS != "" {
		out["thread_ts"] = m.ThreadTS
	}
	if m.Blocks != nil {
		out["blocks"] = m.Blocks
	}
	if m.Metadata != nil {
		out["metadata"] = m.Metadata
	}
	return out
}

func params(r *http.Request) (url.Values, error) {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct == "application/json" {
		var body map[string]any
		if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&body); err != nil {
			return nil, err
		}
		v := url.Values{}
		for k, x := range body {
			switch t := x.(type) {
			case string:
				v.Set(k, t)
			case bool:
				v.Set(k, map[bool]string{true: "1", false: "0"}[t])
			default:
				b, _ := json.Marshal(t)
				v.Set(k, string(b))
			}
		}
		for k, vs := range r.URL.Query() {
			v[k] = vs
		}
		return v, nil
	}
	r.Body = http.MaxBytesReader(nil, r.Body, 1<<20)
	if err := r.ParseForm(); err != nil {
		return nil, err
	}
	return r.Form, nil
}

// tsLess compares Slack timestamps ("seconds.micros") numerically.
func tsLess(a, b string) bool {
	as, af, _ := strings.Cut(a, ".")
	bs, bf, _ := strings.Cut(b, ".")
	ai, _ := strconv.ParseInt(as, 10, 64)
	bi, _ := strconv.ParseInt(bs, 10, 64)
	if ai != bi {
		return ai < bi
	}
	af = (af + "000000")[:6]
	bf = (bf + "000000")[:6]
	return af < bf
}

func nonEmpty(b json.RawMessage) json.RawMessage {
	s := strings.TrimSpace(string(b))
	if s == "" || s == "null" || s == "[]" {
		return nil
	}
	return json.RawMessage(s)
}

func reply(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	json.NewEncoder(w).Encode(v)
}

func plain(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "text/plain")
	w.WriteHeader(status)
	io.WriteString(w, body)
}

package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"
)

// PostInterval is how far apart sekisho posts two messages to one channel:
// Slack's limit plus postMargin. Slack: "chat.postMessage generally allows
// posting one message per second per channel, while also maintaining a
// workspace-wide limit" (Web API rate limits,
// https://docs.slack.dev/apis/web-api/rate-limits; "Posting messages: 1 per
// second. Short bursts >1 allowed", with no promise for the bursts). An
// incident storm is therefore spread out here instead of running into 429s
// and the pause they cost every channel.
const PostInterval = time.Second + postMargin

// postMargin is the slack on top of Slack's second. The pacer spaces posts
// when they leave, Slack counts them when they arrive: a post held up 20 ms
// on the way (a slow TLS handshake, a GC pause, a busy proxy) followed by
// one that is not would arrive 0.98 s apart if the pacer spaced them by
// exactly a second.
const postMargin = 100 * time.Millisecond

// pacer is an http.RoundTripper that spaces the messages sekisho posts to
// one channel (chat.postMessage, by channel; an incoming webhook, by its
// URL: Slack limits a webhook to the same one per second) at least
// interval apart, on the sender's clock. Other calls pass straight through.
// A post waits for its channel's slot; a cancelled context gives the slot
// up with the wait.
type pacer struct {
	base     http.RoundTripper
	clock    clockwork.Clock
	interval time.Duration

	mu    sync.Mutex
	next  map[string]time.Time // channel → earliest time of its next post
	alias map[string]string    // "#name" → channel id, from Slack's answers
}

func newPacer(base http.RoundTripper, clock clockwork.Clock, interval time.Duration) *pacer {
	if base == nil {
		base = http.DefaultTransport
	}
	return &pacer{base: base, clock: clock, interval: interval, next: map[string]time.Time{}, alias: map[string]string{}}
}

// client is hc with its transport paced.
func (p *pacer) client(hc *http.Client) *http.Client {
	c := *hc
	p.base = hc.Transport
	if p.base == nil {
		p.base = http.DefaultTransport
	}
	c.Transport = p
	return &c
}

func (p *pacer) RoundTrip(req *http.Request) (*http.Response, error) {
	key, named, err := p.channelOf(req)
	if err != nil || key == "" || p.interval <= 0 {
		return p.base.RoundTrip(req)
	}
	if err := p.wait(req.Context(), key); err != nil {
		return nil, err
	}
	resp, err := p.base.RoundTrip(req)
	if err == nil && named {
		p.learn(key, resp)
	}
	return resp, err
}

// channelOf is the pacing key of a request: the channel of a
// chat.postMessage (its id when known), or the incoming webhook's URL; ""
// for any other call. named reports a channel given by name, whose id the
// answer teaches.
func (p *pacer) channelOf(req *http.Request) (key string, named bool, err error) {
	switch {
	case strings.HasSuffix(req.URL.Path, "/chat.postMessage"):
	case strings.HasPrefix(req.URL.Path, "/services/") && req.Method == http.MethodPost:
		return req.URL.String(), false, nil
	default:
		return "", false, nil
	}
	if req.Body == nil {
		return "", false, nil
	}
	body, err := io.ReadAll(req.Body)
	req.Body.Close()
	if err != nil {
		return "", false, err
	}
	req.Body = io.NopCloser(bytes.NewReader(body))
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	var ch string
	if strings.HasPrefix(req.Header.Get("Content-Type"), "application/json") {
		var v struct {
			Channel string `json:"channel"`
		}
		_ = json.Unmarshal(body, &v)
		ch = v.Channel
	} else if vals, err := url.ParseQuery(string(body)); err == nil {
		ch = vals.Get("channel")
	}
	if ch == "" {
		return "", false, nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if id, ok := p.alias[ch]; ok {
		return id, false, nil
	}
	return ch, strings.HasPrefix(ch, "#") || !looksLikeID(ch), nil
}

// wait takes key's next slot and sleeps until it on the clock.
func (p *pacer) wait(ctx context.Context, key string) error {
	p.mu.Lock()
	now := p.clock.Now()
	at := p.next[key]
	if at.Before(now) {
		at = now
	}
	p.next[key] = at.Add(p.interval)
	p.mu.Unlock()
	d := at.Sub(now)
	if d <= 0 {
		return nil
	}
	t := p.clock.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.Chan():
		return nil
	}
}

// learn reads the channel id from a chat.postMessage answer to a post by
// name, so a thread reply by id waits for the same slot as the root.
func (p *pacer) learn(name string, resp *http.Response) {
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if err != nil {
		return
	}
	var v struct {
		OK      bool   `json:"ok"`
		Channel string `json:"channel"`
	}
	if json.Unmarshal(body, &v) != nil || !v.OK || v.Channel == "" || v.Channel == name {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.alias[name] = v.Channel
	if at, ok := p.next[name]; ok && p.next[v.Channel].Before(at) {
		p.next[v.Channel] = at
	}
	delete(p.next, name)
}

// looksLikeID reports a Slack conversation id (C…, G…, D… in capitals and
// digits), as opposed to a bare channel name.
func looksLikeID(s string) bool {
	if len(s) < 9 || !strings.ContainsRune("CGD", rune(s[0])) {
		return false
	}
	for _, r := range s {
		if !(r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// leaderOnly is hc whose requests go out only while leading answers nil
// (WithLeader); otherwise they fail with its error, as a failed try.
func leaderOnly(hc *http.Client, leading func(context.Context) error) *http.Client {
	c := *hc
	base := hc.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	c.Transport = leaderTransport{base: base, leading: leading}
	return &c
}

type leaderTransport struct {
	base    http.RoundTripper
	leading func(context.Context) error
}

func (t leaderTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := t.leading(req.Context()); err != nil {
		if req.Body != nil {
			req.Body.Close() // a RoundTripper closes the body, even on an error
		}
		return nil, fmt.Errorf("not sent: this replica no longer leads: %w", err)
	}
	return t.base.RoundTrip(req)
}

package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/slack-go/slack"
)

// RefusedPrefix starts the stored text of a notice Slack refused for good
// (invalid_blocks, no_text, channel_not_found, …) after maxRefusedTries: it
// is marked done, with Slack's word, so the run's later notices go out.
const RefusedPrefix = "(refused by slack: "

// maxRefusedTries is how many times a notice Slack refuses for its own
// content or address is tried before it is marked refused.
const maxRefusedTries = 3

// refusedText is the stored text of a notice refused with word.
func refusedText(word, text string) string {
	if word == "" {
		word = "refused"
	}
	return RefusedPrefix + word + ") " + text
}

// webhookError is an incoming webhook's refusal: its HTTP status and the
// error word Slack writes as the plain-text body (invalid_blocks, no_text,
// invalid_token, channel_is_archived, …), which slack-go's webhook client
// drops.
type webhookError struct {
	Code       int
	Word       string
	RetryAfter time.Duration
}

func (e *webhookError) Error() string {
	if e.Word == "" {
		return fmt.Sprintf("slack webhook: %d %s", e.Code, http.StatusText(e.Code))
	}
	return fmt.Sprintf("slack webhook: %d %s", e.Code, e.Word)
}

// postWebhook posts msg to an incoming webhook and keeps Slack's error
// word when it refuses.
func postWebhook(ctx context.Context, hc *http.Client, url string, msg *slack.WebhookMessage) error {
	body, err := json.Marshal(msg)
	if err != nil {
		return fmt.Errorf("slack webhook: encode: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return errors.New("slack webhook: bad webhook_url")
	}
	req.Header.Set("Content-Type", "application/json")
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		var ue interface{ Unwrap() error }
		if errors.As(err, &ue) {
			err = ue.Unwrap() // drop the URL, which is the secret
		}
		return fmt.Errorf("slack webhook: %w", err)
	}
	defer resp.Body.Close()
	text, _ := io.ReadAll(io.LimitReader(resp.Body, 256))
	if resp.StatusCode == http.StatusOK {
		return nil
	}
	e := &webhookError{Code: resp.StatusCode, Word: errorWord(string(text))}
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s >= 0 {
		e.RetryAfter = time.Duration(s) * time.Second
	}
	return e
}

// errorWord keeps a body that looks like one of Slack's error words, and
// nothing else: a body is never logged whole.
func errorWord(body string) string {
	w := strings.TrimSpace(body)
	if w == "" || len(w) > 64 {
		return ""
	}
	for _, c := range w {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return ""
		}
	}
	return w
}

// slackWord is Slack's error word in err, empty when it has none.
func slackWord(err error) string {
	var we *webhookError
	if errors.As(err, &we) {
		return we.Word
	}
	var se slack.SlackErrorResponse
	if errors.As(err, &se) {
		return se.Err
	}
	return ""
}

// classifyWebhook is classify for a webhook refusal.
func classifyWebhook(e *webhookError) verdict {
	switch {
	case e.Code == http.StatusTooManyRequests:
		return verdict{retryAfter: e.RetryAfter, rateLimited: true, global: true}
	case e.Code >= 500, e.Code == http.StatusRequestTimeout:
		return verdict{global: true}
	case e.Code == http.StatusUnauthorized, e.Code == http.StatusForbidden, e.Code == http.StatusNotFound,
		e.Code == http.StatusGone:
		// invalid_token, no_service, channel_is_archived: every notice
		// would fail the same way.
		return verdict{global: true, config: true}
	}
	return verdict{config: true} // invalid_blocks, no_text, invalid_payload, …
}

package slackact

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// MaxSkew is how far a request's timestamp may be from now: Slack's advice
// against replays (docs.slack.dev, "Verifying requests from Slack").
const MaxSkew = 5 * time.Minute

// ErrUnverified marks a request that does not prove it comes from Slack.
var ErrUnverified = errors.New("request not signed by Slack")

// Verify checks a request's v0 signature: X-Slack-Signature is "v0=" and the
// hex HMAC-SHA256, keyed with the signing secret, of "v0:{timestamp}:{body}",
// and X-Slack-Request-Timestamp is within MaxSkew of now. slack-go's
// NewSecretsVerifier computes the same signature but reads the wall clock;
// sekisho checks the timestamp on its injected clock, so a test (or the
// demo's accelerated clock) sees the same rule the daemon applies.
func Verify(h http.Header, body []byte, secret string, now time.Time) error {
	if secret == "" {
		return fmt.Errorf("%w: no signing secret configured", ErrUnverified)
	}
	sig, tsText := h.Get("X-Slack-Signature"), h.Get("X-Slack-Request-Timestamp")
	if sig == "" || tsText == "" {
		return fmt.Errorf("%w: missing X-Slack-Signature or X-Slack-Request-Timestamp", ErrUnverified)
	}
	secs, err := strconv.ParseInt(tsText, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: bad timestamp", ErrUnverified)
	}
	if d := now.Sub(time.Unix(secs, 0)); d > MaxSkew || d < -MaxSkew {
		return fmt.Errorf("%w: timestamp %s is more than %s from now", ErrUnverified, tsText, MaxSkew)
	}
	got, ok := strings.CutPrefix(sig, "v0=")
	raw, err := hex.DecodeString(got)
	if !ok || err != nil {
		return fmt.Errorf("%w: signature is not v0=<hex>", ErrUnverified)
	}
	if !hmac.Equal(raw, sign(secret, tsText, body)) {
		return fmt.Errorf("%w: signature does not match", ErrUnverified)
	}
	return nil
}

// Sign returns the X-Slack-Signature value of a body sent at ts, as Slack
// computes it: the Slack double and the tests sign with it.
func Sign(secret string, ts time.Time, body []byte) (timestamp, signature string) {
	timestamp = strconv.FormatInt(ts.Unix(), 10)
	return timestamp, "v0=" + hex.EncodeToString(sign(secret, timestamp, body))
}

func sign(secret, ts string, body []byte) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte("v0:" + ts + ":"))
	m.Write(body)
	return m.Sum(nil)
}

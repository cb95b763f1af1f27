package notify

import (
	"errors"
	"math/rand/v2"
	"net/http"
	"time"

	"github.com/slack-go/slack"
)

// verdict is what a failed delivery means for the next try.
type verdict struct {
	// retryAfter is Slack's own wait (429 Retry-After); zero otherwise.
	retryAfter time.Duration
	// rateLimited marks Slack's 429: the notice is fine, Slack wants us
	// slower. The try is not the notice's failure, so it does not count
	// towards its backoff (store.ThrottledNoticeTry), and the retry is at
	// Slack's Retry-After.
	rateLimited bool
	// global pauses every delivery, not only this notice's run: Slack is
	// down, rate limiting us, or refusing our credentials.
	global bool
	// config marks a problem a person has to fix (bad token, unknown
	// channel): the notice waits the longest backoff and is logged as an
	// error. It is never dropped.
	config bool
}

// authErrors are Slack error codes about the token itself: nothing will
// get through until someone fixes it.
var authErrors = map[string]bool{
	"invalid_auth": true, "not_authed": true, "account_inactive": true, "token_revoked": true,
	"token_expired": true, "no_permission": true, "missing_scope": true, "org_login_required": true,
	"ekm_access_denied": true, "team_access_not_granted": true, "not_allowed_token_type": true,
}

// transientErrors are Slack error codes that mean "try again later".
var transientErrors = map[string]bool{
	"ratelimited": true, "internal_error": true, "fatal_error": true, "service_unavailable": true,
	"request_timeout": true, "team_added_to_org": true,
}

// classify decides how to retry after err, from the status code or the
// Slack error code.
func classify(err error) verdict {
	var we *webhookError
	if errors.As(err, &we) {
		return classifyWebhook(we)
	}
	var rl *slack.RateLimitedError
	if errors.As(err, &rl) {
		return verdict{retryAfter: rl.RetryAfter, rateLimited: true, global: true}
	}
	var sc slack.StatusCodeError
	if errors.As(err, &sc) {
		switch {
		case sc.Code == http.StatusTooManyRequests:
			return verdict{rateLimited: true, global: true}
		case sc.Code >= 500, sc.Code == http.StatusRequestTimeout:
			return verdict{global: true}
		case sc.Code == http.StatusUnauthorized, sc.Code == http.StatusForbidden, sc.Code == http.StatusNotFound,
			sc.Code == http.StatusGone:
			// A webhook answers 403 invalid_token, 404 no_service, 410
			// channel_is_archived: every notice would fail the same way.
			return verdict{global: true, config: true}
		}
		return verdict{config: true}
	}
	var se slack.SlackErrorResponse
	if errors.As(err, &se) {
		switch {
		case authErrors[se.Err]:
			return verdict{global: true, config: true}
		case se.Err == "ratelimited":
			return verdict{rateLimited: true, global: true}
		case transientErrors[se.Err]:
			return verdict{global: true}
		}
		return verdict{config: true} // channel_not_found, not_in_channel, is_archived, invalid_blocks, …
	}
	// Transport errors, timeouts, bodies that do not parse: Slack or the
	// network is unwell.
	return verdict{global: true}
}

// backoff is the wait before try number tries+1: exponential from base,
// capped, with equal jitter so many notices do not retry in step.
type backoff struct {
	base, max time.Duration
	rand      func() float64
}

func (b backoff) delay(tries int) time.Duration {
	d := b.base
	for i := 1; i < tries && d < b.max; i++ {
		d *= 2
	}
	if d > b.max {
		d = b.max
	}
	r := b.rand
	if r == nil {
		r = rand.Float64
	}
	return d/2 + time.Duration(r()*float64(d/2))
}

// after returns when to try again after the given verdict.
func (b backoff) after(now time.Time, tries int, v verdict) time.Time {
	d := b.delay(tries)
	if v.config {
		d = b.max
	}
	switch {
	case v.retryAfter > 0:
		// Slack said when: waiting longer only delays the backlog.
		d = v.retryAfter
	case v.rateLimited:
		// A 429 without a usable Retry-After: Slack's limits are per
		// second or per minute; the first backoff step, not the grown one.
		d = b.delay(1)
	}
	return now.Add(d)
}

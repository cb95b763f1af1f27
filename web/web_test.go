package web_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/config"
)

const glueEvent = `{"version":"0","id":"abcd","detail-type":"Glue Job State Change","source":"aws.glue",
 "account":"123456789012","time":"2026-11-03T02:50:00Z","region":"ap-northeast-1","resources":[],
 "detail":{"jobName":"%s","severity":"INFO","state":"SUCCEEDED","jobRunId":"jr_abc","message":"Job run succeeded"}}`

func TestEndpoints(t *testing.T) {
	f := newFixture(t)
	big := strings.Repeat("x", 1<<20+10)
	tests := []struct {
		name        string
		method, url string
		token       string
		ctype, body string
		code        int
		want        []string // substrings of the body
		notWant     []string
	}{
		{"board", "GET", "/", "", "", "", 200, []string{"Some data may be missing or late", "broken", "mart", "Service dashboard (reverse ETL)",
			"2026-10-30: late (06:42, deadline 06:00)"}, []string{`<script>alert`}},
		{"board in japanese", "GET", "/?lang=ja", "", "", "", 200, []string{"一部のデータが遅延・欠損している可能性があります", "影響を受けているデータ"}, nil},
		{"board escapes config strings", "GET", "/", "", "", "", 200, []string{`&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; sales mart`}, nil},
		{"pipeline page", "GET", "/pipelines/normal", "", "", "", 200, []string{"Recent runs", "jr_abc", "<svg", "gate_opened", "2026-10-28"}, nil},
		{"unknown pipeline page", "GET", "/pipelines/nope", "", "", "", 404, []string{"Page not found"}, nil},
		{"unknown page", "GET", "/nope", "", "", "", 404, []string{"Page not found"}, nil},
		{"static css", "GET", "/static/style.css", "", "", "", 200, []string{".banner"}, nil},
		{"status", "GET", "/api/v1/status", "", "", "", 200, []string{`"overall": "outage"`, `"affected_by": [`, `"broken"`}, nil},
		{"status of a date", "GET", "/api/v1/status?date=2026-10-30", "", "", "", 200, []string{`"date": "2026-10-30"`, `"slo_met": false`}, nil},
		{"status bad date", "GET", "/api/v1/status?date=2026-02-30", "", "", "", 400, []string{`"error": "date \"2026-02-30\" is not a date`}, nil},
		{"runs", "GET", "/api/v1/runs?pipeline=normal&limit=2", "", "", "", 200, []string{`"logical_date": "2026-11-03"`, `"logical_date": "2026-11-01"`},
			[]string{`"logical_date": "2026-10-31"`, `"spec"`}},
		{"runs from after to", "GET", "/api/v1/runs?from=2026-11-03&to=2026-11-01", "", "", "", 400, []string{"swap them"}, nil},
		{"runs bad from", "GET", "/api/v1/runs?from=yesterday", "", "", "", 400, []string{"not a date"}, nil},
		{"runs bad limit", "GET", "/api/v1/runs?limit=-1", "", "", "", 400, []string{"limit"}, nil},
		{"runs unknown pipeline", "GET", "/api/v1/runs?pipeline=nope", "", "", "", 404, []string{"unknown pipeline"}, nil},
		{"run", "GET", "/api/v1/runs/normal/2026-11-03", "", "", "", 200, []string{`"transitions": [`, `"reason": "gate_opened"`,
			`"observations": [`, `"external_id": "jr_abc"`, `"notices": [`, `"kind": "recovery"`, `"slo_met": true`, `"upstreams": [`}, nil},
		{"run bad date", "GET", "/api/v1/runs/normal/20261103", "", "", "", 400, []string{"not a date"}, nil},
		{"run missing", "GET", "/api/v1/runs/normal/2026-01-01", "", "", "", 404, []string{"no run of normal on 2026-01-01"}, nil},
		{"run unknown pipeline", "GET", "/api/v1/runs/nope/2026-01-01", "", "", "", 404, []string{"unknown pipeline"}, nil},
		{"slo", "GET", "/api/v1/slo?from=2026-10-28&to=2026-11-03", "", "", "", 200, []string{`"from": "2026-10-28"`, `"pipeline": "normal"`}, nil},
		{"slo bad range", "GET", "/api/v1/slo?from=2026-11-03&to=2026-10-01", "", "", "", 400, []string{"error"}, nil},
		{"slo unknown pipeline", "GET", "/api/v1/slo?pipeline=nope", "", "", "", 404, []string{"unknown pipeline"}, nil},
		{"unknown api", "GET", "/api/v1/nope", "", "", "", 404, []string{`"error"`}, nil},
		{"rerun without token", "POST", "/api/v1/runs/broken/2026-11-03/rerun", "", "", "", 401, []string{"Bearer"}, nil},
		{"rerun wrong token", "POST", "/api/v1/runs/broken/2026-11-03/rerun", "guess", "", "", 401, []string{"Bearer"}, []string{writeToken}},
		{"rerun", "POST", "/api/v1/runs/broken/2026-11-03/rerun", writeToken, "", "", 200, []string{`"attempt": 2`, `"state": "waiting"`}, nil},
		{"skip", "POST", "/api/v1/runs/broken/2026-11-03/skip", writeToken, "", "", 200, []string{`"state": "skipped"`}, nil},
		{"rerun bad date", "POST", "/api/v1/runs/broken/03-11-2026/rerun", writeToken, "", "", 400, []string{"not a date"}, nil},
		{"glue event", "POST", "/api/v1/events/glue", writeToken, "application/json", fmt.Sprintf(glueEvent, "hegel-rds-export"), 202, []string{"accepted"}, nil},
		{"glue event unknown job", "POST", "/api/v1/events/glue", writeToken, "application/json", fmt.Sprintf(glueEvent, "other-job"), 202, []string{"ignored"}, nil},
		{"glue event bad json", "POST", "/api/v1/events/glue", writeToken, "application/json", `{"detail-type":`, 400, []string{"bad json"}, nil},
		{"glue event not glue", "POST", "/api/v1/events/glue", writeToken, "application/json", `{"detail-type":"x","source":"aws.s3"}`, 400, []string{"error"}, nil},
		{"glue event too large", "POST", "/api/v1/events/glue", writeToken, "application/json", big, 413, []string{"1 MiB"}, nil},
		{"glue event without token", "POST", "/api/v1/events/glue", "", "application/json", fmt.Sprintf(glueEvent, "hegel-rds-export"), 401, nil, nil},
		{"trocco event json", "POST", "/api/v1/events/trocco", writeToken, "application/json", `{"pipeline_definition_id":1234,"job_id":77,"status":"succeeded"}`, 202, []string{"accepted"}, nil},
		{"trocco event form", "POST", "/api/v1/events/trocco", writeToken, "application/x-www-form-urlencoded", `pipeline_definition_id=1234&job_id=78&status=error`, 202, []string{"accepted"}, nil},
		{"trocco event query", "POST", "/api/v1/events/trocco?pipeline_definition_id=1234&job_id=79&status=executing", writeToken, "", "", 202, []string{"accepted"}, nil},
		{"trocco event unknown definition", "POST", "/api/v1/events/trocco", writeToken, "application/json", `{"pipeline_definition_id":9,"job_id":1,"status":"succeeded"}`, 202, []string{"ignored"}, nil},
		{"trocco event bad json", "POST", "/api/v1/events/trocco", writeToken, "application/json", `{"pipeline_definition_id":`, 400, []string{"error"}, nil},
		{"trocco event missing job", "POST", "/api/v1/events/trocco", writeToken, "application/json", `{"pipeline_definition_id":1234,"status":"succeeded"}`, 400, []string{"job_id"}, nil},
		{"trocco event too large", "POST", "/api/v1/events/trocco", writeToken, "application/json", big, 413, nil, nil},
		{"healthz", "GET", "/healthz", "", "", "", 200, []string{"ok"}, nil},
		{"readyz", "GET", "/readyz", "", "", "", 200, []string{"ready"}, nil},
		{"metrics", "GET", "/metrics", "", "", "", 200, []string{`sekisho_runs{pipeline="broken",state="failed"} 1`, "sekisho_outbox_backlog"}, nil},
		{"method not allowed", "DELETE", "/api/v1/status", "", "", "", 405, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, h, body := f.do(t, tt.method, tt.url, tt.token, tt.ctype, tt.body)
			if code != tt.code {
				t.Fatalf("status %d, want %d: %.400s", code, tt.code, body)
			}
			for _, w := range tt.want {
				if !strings.Contains(body, w) {
					t.Errorf("body lacks %q: %.1500s", w, body)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(body, w) {
					t.Errorf("body has %q", w)
				}
			}
			if !strings.Contains(h.Get("Content-Security-Policy"), "default-src 'self'") || h.Get("X-Content-Type-Options") != "nosniff" ||
				h.Get("X-Frame-Options") != "DENY" || h.Get("Referrer-Policy") == "" {
				t.Errorf("security headers missing: %v", h)
			}
			if code >= 400 && strings.HasPrefix(tt.url, "/api/") && code != 405 {
				var e struct{ Error string }
				if json.Unmarshal([]byte(body), &e) != nil || e.Error == "" {
					t.Errorf("error answer is not {\"error\":…}: %s", body)
				}
			}
		})
	}
	if got := strings.Join(f.op.calls, ","); got != "rerun broken 2026-11-03 by api,skip broken 2026-11-03 by api" {
		t.Errorf("operator calls %q", got)
	}
	if got := strings.Join(f.ev.ingests, ","); got != "glue_job:hegel-rds-export jr_abc succeeded,trocco_workflow:1234 77 succeeded,trocco_workflow:1234 78 failed" {
		t.Errorf("ingests %q", got)
	}
	if got := strings.Join(f.ev.learns, ","); got != "trocco_workflow:1234 77,trocco_workflow:1234 78,trocco_workflow:1234 79" {
		t.Errorf("learns %q", got)
	}
}

func TestOperatorErrors(t *testing.T) {
	tests := []struct {
		name string
		err  error
		code int
	}{
		{"not found", fmt.Errorf("no run of broken on 2026-11-03: %w", sekisho.ErrNotFound), 404},
		{"conflict", fmt.Errorf("run is waiting, not terminal: %w", sekisho.ErrConflict), 409},
		{"state does not allow", fmt.Errorf("cannot skip a succeeded run: %w", sekisho.ErrRejected), 409},
		{"other", errors.New("disk full at /var/lib/x"), 500},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.op.err = tt.err
			code, _, body := f.do(t, "POST", "/api/v1/runs/broken/2026-11-03/skip", writeToken, "", "")
			if code != tt.code {
				t.Fatalf("status %d, want %d: %s", code, tt.code, body)
			}
			if tt.code == 500 && strings.Contains(body, "/var/lib") {
				t.Errorf("internal error leaked: %s", body)
			}
			if tt.code == 409 && !strings.Contains(body, "not") {
				t.Errorf("409 should carry the message: %s", body)
			}
		})
	}
}

func TestEventIngestFailures(t *testing.T) {
	f := newFixture(t)
	f.ev.err = fmt.Errorf("no such job: %w", sekisho.ErrNotFound)
	if code, _, body := f.do(t, "POST", "/api/v1/events/glue", writeToken, "application/json", fmt.Sprintf(glueEvent, "hegel-rds-export")); code != 202 {
		t.Errorf("unknown job: status %d %s, want 202", code, body)
	}
	f.ev.err = errors.New("database is locked")
	if code, _, body := f.do(t, "POST", "/api/v1/events/glue", writeToken, "application/json", fmt.Sprintf(glueEvent, "hegel-rds-export")); code != 503 || strings.Contains(body, "locked") {
		t.Errorf("store failure: status %d %s, want 503 without detail", code, body)
	}
}

func TestAuth(t *testing.T) {
	t.Run("no write token configured", func(t *testing.T) {
		f := newFixture(t, func(c *config.Config) { c.Server.Token = "" })
		for _, url := range []string{"/api/v1/runs/broken/2026-11-03/rerun", "/api/v1/events/glue", "/api/v1/events/trocco"} {
			code, _, body := f.do(t, "POST", url, "anything", "application/json", "{}")
			if code != 403 || !strings.Contains(body, "set server.token") {
				t.Errorf("%s: status %d %s, want 403 naming server.token", url, code, body)
			}
		}
		if len(f.op.calls)+len(f.ev.ingests) > 0 {
			t.Error("a refused write reached the engine")
		}
	})
	t.Run("read token", func(t *testing.T) {
		f := newFixture(t, func(c *config.Config) { c.Server.ReadToken = "r-secret" })
		tests := []struct {
			url, token string
			code       int
		}{
			{"/", "", 401}, {"/api/v1/status", "", 401}, {"/api/v1/status", "wrong", 401}, {"/metrics", "", 401},
			{"/pipelines/normal", "", 401}, {"/api/v1/status", "r-secret", 200}, {"/api/v1/status", writeToken, 200},
			{"/", "r-secret", 200}, {"/healthz", "", 200}, {"/readyz", "", 200},
		}
		for _, tt := range tests {
			code, h, body := f.do(t, "GET", tt.url, tt.token, "", "")
			if code != tt.code {
				t.Errorf("GET %s with %q: status %d, want %d", tt.url, tt.token, code, tt.code)
			}
			if code == 401 && (h.Get("WWW-Authenticate") == "" || strings.Contains(body, "r-secret")) {
				t.Errorf("GET %s: 401 without a challenge or with the token: %v %s", tt.url, h, body)
			}
		}
		// A browser sends the read token as a basic-auth password.
		req := "/"
		rec := f.do
		_ = rec
		r := newBasic(req, "r-secret")
		w := newRecorder()
		f.h.ServeHTTP(w, r)
		if w.Code != 200 {
			t.Errorf("basic auth with the read token: %d", w.Code)
		}
	})
}

func TestReadyz(t *testing.T) {
	f := newFixture(t)
	f.cfg = nil
	code, _, body := f.do(t, "GET", "/readyz", "", "", "")
	if code != 503 || !strings.Contains(body, "config not loaded") {
		t.Errorf("readyz without config: %d %s", code, body)
	}
	if code, _, _ := f.do(t, "GET", "/api/v1/status", "", "", ""); code != 503 {
		t.Errorf("status without config: %d, want 503", code)
	}
}

func TestSecretsNeverShown(t *testing.T) {
	f := newFixture(t, func(c *config.Config) {
		c.Server.ReadToken = "r-secret"
		c.Slack.WebhookURL = "https://hooks.slack.com/services/T/B/XYZ"
	})
	for _, url := range []string{"/", "/pipelines/normal", "/api/v1/status", "/api/v1/runs", "/api/v1/runs/normal/2026-11-03", "/api/v1/slo", "/metrics"} {
		_, _, body := f.do(t, "GET", url, writeToken, "", "")
		for _, secret := range []string{writeToken, "r-secret", "hooks.slack.com"} {
			if strings.Contains(body, secret) {
				t.Errorf("%s shows a secret", url)
			}
		}
	}
}

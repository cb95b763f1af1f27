package web_test

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/engine"
	"github.com/sekisho-dev/sekisho/metrics"
	"github.com/sekisho-dev/sekisho/web"
)

// badReq is one hostile or broken request and the status SPEC §8 documents
// for it.
type badReq struct {
	name   string
	method string
	target string
	auth   string // the whole Authorization header
	ctype  string
	body   io.Reader
	length int64 // declared Content-Length; -1 for a chunked body of unknown length
	want   int
}

// endpoint is one route of web/, with a target that would succeed if the
// request were well formed and authorised.
type endpoint struct {
	method, target string
	write          bool
}

// endpoints lists every route of web.New. The write targets point at runs
// whose state allows the action, so a request that slipped through a check
// would change the store and fail the dump comparison.
var endpoints = []endpoint{
	{"GET", "/", false},
	{"GET", "/pipelines/normal", false},
	{"GET", "/api/v1/status", false},
	{"GET", "/api/v1/runs?pipeline=normal", false},
	{"GET", "/api/v1/runs/normal/" + day, false},
	{"GET", "/api/v1/slo", false},
	{"GET", "/metrics", false},
	{"POST", "/api/v1/runs/broken/" + day + "/rerun", true},
	{"POST", "/api/v1/runs/mart/" + day + "/skip", true},
	{"POST", "/api/v1/events/glue", true},
	{"POST", "/api/v1/events/trocco", true},
	{"GET", "/api/v1/silences", false},
	{"GET", "/api/v1/incidents", false},
	{"POST", "/api/v1/silences", true},
	{"DELETE", "/api/v1/silences/" + seededSilence, true},
}

const badGlueEvent = `{"version":"0","id":"e1","detail-type":"Glue Job State Change","source":"aws.glue","account":"1","time":"2026-11-03T01:00:00Z","region":"ap-northeast-1","resources":[],"detail":{"jobName":"hegel-rds-export","severity":"INFO","state":"SUCCEEDED","jobRunId":"jr_1","message":"ok"}}`

// newRealFixture serves the seeded store with the real engine behind the
// operator and event endpoints, so anything let through writes to SQLite.
func newRealFixture(t *testing.T, mutate ...func(*config.Config)) *fixture {
	f := newFixture(t, mutate...)
	eng, err := engine.New(f.cfg, engine.Options{Store: f.st, Clock: f.clock, Sync: true})
	if err != nil {
		t.Fatal(err)
	}
	f.h = web.New(web.Options{Config: func() *config.Config { return f.cfg }, Store: f.st, Operator: eng, Events: eng,
		Metrics: metrics.New(), Clock: f.clock})
	return f
}

// dump is every row of the tables a request could change, in order.
func dump(t *testing.T, db *sql.DB) string {
	t.Helper()
	var b strings.Builder
	for _, table := range []string{"runs", "transitions", "upstream_observations", "notices", "slack_threads", "learned_jobs",
		"silences", "silence_pipelines", "incidents", "incident_members"} {
		rows, err := db.Query("SELECT * FROM " + table + " ORDER BY rowid")
		if err != nil {
			t.Fatalf("dump %s: %v", table, err)
		}
		cols, _ := rows.Columns()
		fmt.Fprintf(&b, "== %s %v\n", table, cols)
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&b, "%q\n", fmt.Sprint(vals...))
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		rows.Close()
	}
	return b.String()
}

// send serves r and checks the documented status and that errors come as
// JSON {"error": …} (or the HTML page for a browser route).
func send(t *testing.T, h http.Handler, r badReq) {
	t.Helper()
	req := httptest.NewRequest(r.method, r.target, r.body)
	req.ContentLength = r.length
	if r.length < 0 {
		req.TransferEncoding = []string{"chunked"}
	}
	if r.auth != "" {
		req.Header.Set("Authorization", r.auth)
	}
	if r.ctype != "" {
		req.Header.Set("Content-Type", r.ctype)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != r.want {
		t.Errorf("%s %s %s: status %d, want %d: %.200s", r.name, r.method, r.target, rec.Code, r.want, rec.Body.String())
		return
	}
	if strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") && rec.Code >= 400 {
		var e struct{ Error string }
		if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Error == "" {
			t.Errorf("%s %s %s: error body is not {\"error\":…}: %.200s", r.name, r.method, r.target, rec.Body.String())
		}
	}
	if strings.Contains(rec.Body.String(), writeToken) || strings.Contains(rec.Body.String(), "r-secret-token") {
		t.Errorf("%s %s %s: a token appears in the answer", r.name, r.method, r.target)
	}
	if rec.Code == http.StatusUnauthorized && rec.Header().Get("WWW-Authenticate") == "" {
		t.Errorf("%s %s %s: 401 without WWW-Authenticate", r.name, r.method, r.target)
	}
}

func str(s string) (io.Reader, int64) { return strings.NewReader(s), int64(len(s)) }

// chunked streams n bytes without declaring a length, the way a client
// that does not know its body's size sends it.
func chunked(n int) io.Reader { return io.LimitReader(neverEnding('x'), int64(n)) }

type neverEnding byte

func (b neverEnding) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(b)
	}
	return len(p), nil
}

// checkUnchanged runs the requests and checks the store did not move.
func checkUnchanged(t *testing.T, f *fixture, reqs []badReq) {
	t.Helper()
	before := dump(t, f.st.ReadDB())
	for _, r := range reqs {
		send(t, f.h, r)
	}
	if after := dump(t, f.st.ReadDB()); after != before {
		t.Errorf("bad requests changed the store:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}

// TestUnauthenticatedWritesChangeNothing sends every write endpoint a
// request with no token, a wrong one, the token in the wrong place, and a
// read token: all 401, nothing written.
func TestUnauthenticatedWritesChangeNothing(t *testing.T) {
	f := newRealFixture(t, func(c *config.Config) { c.Server.ReadToken = "r-secret-token" })
	auths := []struct{ name, header string }{
		{"no token", ""},
		{"wrong token", "Bearer nope"},
		{"token with a suffix", "Bearer " + writeToken + "x"},
		{"token prefix", "Bearer " + writeToken[:len(writeToken)-1]},
		{"empty bearer", "Bearer "},
		{"bare token", writeToken},
		{"basic auth password", "Basic " + basic("sekisho", writeToken)},
		{"token scheme", "Token " + writeToken},
		{"read token", "Bearer r-secret-token"},
	}
	var reqs []badReq
	for _, e := range endpoints {
		if !e.write {
			continue
		}
		for _, a := range auths {
			body, n := str(badGlueEvent)
			reqs = append(reqs, badReq{name: a.name, method: e.method, target: e.target, auth: a.header,
				ctype: "application/json", body: body, length: n, want: http.StatusUnauthorized})
		}
		// A token in the query string is not a credential: it would end up
		// in access logs.
		body, n := str(badGlueEvent)
		reqs = append(reqs, badReq{name: "token in query", method: e.method, target: e.target + "?token=" + writeToken,
			body: body, length: n, want: http.StatusUnauthorized})
	}
	checkUnchanged(t, f, reqs)
}

// TestWritesRefusedWithoutServerToken: with no server.token configured,
// writes are refused (403) whatever the client sends, never open.
func TestWritesRefusedWithoutServerToken(t *testing.T) {
	f := newRealFixture(t, func(c *config.Config) { c.Server.Token = "" })
	var reqs []badReq
	for _, e := range endpoints {
		if !e.write {
			continue
		}
		for _, auth := range []string{"", "Bearer ", "Bearer " + writeToken, "Bearer anything"} {
			body, n := str(badGlueEvent)
			reqs = append(reqs, badReq{name: "no server token", method: e.method, target: e.target, auth: auth,
				ctype: "application/json", body: body, length: n, want: http.StatusForbidden})
		}
	}
	checkUnchanged(t, f, reqs)
}

// TestUnauthenticatedReads: with server.read_token set, every read endpoint
// answers 401 to a client without it; probes and static files stay open.
func TestUnauthenticatedReads(t *testing.T) {
	f := newRealFixture(t, func(c *config.Config) { c.Server.ReadToken = "r-secret-token" })
	var reqs []badReq
	for _, e := range endpoints {
		if e.write {
			continue
		}
		for _, auth := range []string{"", "Bearer wrong", "Basic " + basic("u", "wrong"), "Basic !!!", "r-secret-token"} {
			reqs = append(reqs, badReq{name: "read without token", method: e.method, target: e.target, auth: auth, want: http.StatusUnauthorized})
		}
		reqs = append(reqs, badReq{name: "read token", method: e.method, target: e.target, auth: "Bearer r-secret-token", want: http.StatusOK},
			badReq{name: "read token as basic password", method: e.method, target: e.target, auth: "Basic " + basic("x", "r-secret-token"), want: http.StatusOK})
	}
	for _, target := range []string{"/healthz", "/readyz", "/static/style.css"} {
		reqs = append(reqs, badReq{name: "open probe", method: "GET", target: target, want: http.StatusOK})
	}
	checkUnchanged(t, f, reqs)
}

// TestOversizedBodies sends every endpoint, GET and POST, a body just over
// 1 MiB, declared and chunked: 413 and nothing written, even for the
// operator actions that read no body at all.
func TestOversizedBodies(t *testing.T) {
	f := newRealFixture(t)
	big := web.MaxBodyBytes + 1
	var reqs []badReq
	for _, e := range endpoints {
		auth := ""
		if e.write {
			auth = "Bearer " + writeToken
		}
		reqs = append(reqs,
			badReq{name: "declared over 1 MiB", method: e.method, target: e.target, auth: auth, ctype: "application/json",
				body: chunked(big), length: int64(big), want: http.StatusRequestEntityTooLarge},
		)
		if e.write {
			reqs = append(reqs, badReq{name: "chunked over 1 MiB", method: e.method, target: e.target, auth: auth,
				ctype: "application/json", body: chunked(big), length: -1, want: http.StatusRequestEntityTooLarge})
		}
	}
	// A JSON event padded past the limit, and a form of the same size.
	pad := strings.Repeat(" ", big)
	body, n := str(badGlueEvent[:len(badGlueEvent)-1] + pad + "}")
	reqs = append(reqs, badReq{name: "padded glue event", method: "POST", target: "/api/v1/events/glue", auth: "Bearer " + writeToken,
		ctype: "application/json", body: body, length: n, want: http.StatusRequestEntityTooLarge})
	form := "pipeline_definition_id=1234&job_id=9&status=succeeded&junk=" + strings.Repeat("a", big)
	reqs = append(reqs, badReq{name: "big trocco form", method: "POST", target: "/api/v1/events/trocco", auth: "Bearer " + writeToken,
		ctype: "application/x-www-form-urlencoded", body: strings.NewReader(form), length: -1, want: http.StatusRequestEntityTooLarge})
	checkUnchanged(t, f, reqs)
}

// TestMalformedRequests sends well-authenticated requests that make no
// sense: bad JSON, wrong event kinds, bad dates and names, wrong methods.
func TestMalformedRequests(t *testing.T) {
	f := newRealFixture(t)
	w := "Bearer " + writeToken
	j := "application/json"
	form := "application/x-www-form-urlencoded"
	cases := []struct {
		name, method, target, auth, ctype, body string
		want                                    int
	}{
		// Glue events.
		{"glue: empty body", "POST", "/api/v1/events/glue", w, j, "", 400},
		{"glue: not JSON", "POST", "/api/v1/events/glue", w, j, "detail-type=Glue", 400},
		{"glue: truncated", "POST", "/api/v1/events/glue", w, j, badGlueEvent[:len(badGlueEvent)/2], 400},
		{"glue: JSON array", "POST", "/api/v1/events/glue", w, j, "[" + badGlueEvent + "]", 400},
		{"glue: null", "POST", "/api/v1/events/glue", w, j, "null", 400},
		{"glue: two documents", "POST", "/api/v1/events/glue", w, j, badGlueEvent + badGlueEvent, 400},
		{"glue: other detail-type", "POST", "/api/v1/events/glue", w, j, strings.Replace(badGlueEvent, "Glue Job State Change", "Glue Job Run Status", 1), 400},
		{"glue: other source", "POST", "/api/v1/events/glue", w, j, strings.Replace(badGlueEvent, `"aws.glue"`, `"aws.s3"`, 1), 400},
		{"glue: no job name", "POST", "/api/v1/events/glue", w, j, strings.Replace(badGlueEvent, `"jobName":"hegel-rds-export",`, "", 1), 400},
		{"glue: no run id", "POST", "/api/v1/events/glue", w, j, strings.Replace(badGlueEvent, `"jobRunId":"jr_1",`, "", 1), 400},
		{"glue: detail is a string", "POST", "/api/v1/events/glue", w, j, `{"detail-type":"Glue Job State Change","source":"aws.glue","detail":"SUCCEEDED"}`, 400},
		{"glue: invalid UTF-8", "POST", "/api/v1/events/glue", w, j, "{\"detail-type\":\"\xff\xfe\"}", 400},
		{"glue: NUL bytes", "POST", "/api/v1/events/glue", w, j, "\x00\x00\x00", 400},
		{"glue: deep nesting", "POST", "/api/v1/events/glue", w, j, strings.Repeat("[", 100000) + strings.Repeat("]", 100000), 400},
		// TROCCO events.
		{"trocco: two documents", "POST", "/api/v1/events/trocco", w, j, `{"pipeline_definition_id":1234,"job_id":1,"status":"succeeded"}{"pipeline_definition_id":1234,"job_id":2,"status":"error"}`, 400},
		{"trocco: empty body", "POST", "/api/v1/events/trocco", w, j, "", 400},
		{"trocco: not JSON", "POST", "/api/v1/events/trocco", w, j, "{job_id: 1", 400},
		{"trocco: ids as words", "POST", "/api/v1/events/trocco", w, j, `{"pipeline_definition_id":"many","job_id":1,"status":"succeeded"}`, 400},
		{"trocco: negative id", "POST", "/api/v1/events/trocco", w, j, `{"pipeline_definition_id":-1,"job_id":1,"status":"succeeded"}`, 400},
		{"trocco: no job id", "POST", "/api/v1/events/trocco", w, j, `{"pipeline_definition_id":1234,"status":"succeeded"}`, 400},
		{"trocco: no definition", "POST", "/api/v1/events/trocco", w, j, `{"job_id":1,"status":"succeeded"}`, 400},
		{"trocco: huge number", "POST", "/api/v1/events/trocco", w, j, `{"pipeline_definition_id":1e400,"job_id":1,"status":"succeeded"}`, 400},
		{"trocco: bad form", "POST", "/api/v1/events/trocco", w, form, "pipeline_definition_id=%zz&job_id=1", 400},
		{"trocco: form without ids", "POST", "/api/v1/events/trocco", w, form, "status=succeeded", 400},
		// Operator actions.
		{"rerun: not a date", "POST", "/api/v1/runs/broken/yesterday/rerun", w, "", "", 400},
		{"rerun: impossible date", "POST", "/api/v1/runs/broken/2026-02-30/rerun", w, "", "", 400},
		{"rerun: date with time", "POST", "/api/v1/runs/broken/2026-11-03T00:00:00Z/rerun", w, "", "", 400},
		{"skip: escaped slash", "POST", "/api/v1/runs/broken%2F..%2F/" + day + "/skip", w, "", "", 404},
		{"rerun: unknown pipeline", "POST", "/api/v1/runs/nope/" + day + "/rerun", w, "", "", 404},
		{"rerun: no run that day", "POST", "/api/v1/runs/broken/2020-01-01/rerun", w, "", "", 404},
		{"rerun: run still waiting", "POST", "/api/v1/runs/mart/" + day + "/rerun", w, "", "", 409},
		{"skip: run already succeeded", "POST", "/api/v1/runs/normal/" + day + "/skip", w, "", "", 409},
		{"rerun: GET", "GET", "/api/v1/runs/broken/" + day + "/rerun", w, "", "", 404},
		{"skip: PUT", "PUT", "/api/v1/runs/mart/" + day + "/skip", w, "", "", 405},
		{"rerun: DELETE", "DELETE", "/api/v1/runs/broken/" + day + "/rerun", w, "", "", 405},
		{"events: GET", "GET", "/api/v1/events/glue", "", "", "", 404},
		// Reads.
		{"status: bad date", "GET", "/api/v1/status?date=2026-13-01", "", "", "", 400},
		{"runs: bad from", "GET", "/api/v1/runs?from=" + url.QueryEscape("'; DROP TABLE runs; --"), "", "", "", 400},
		{"runs: from after to", "GET", "/api/v1/runs?from=2026-11-03&to=2026-11-01", "", "", "", 400},
		{"runs: limit zero", "GET", "/api/v1/runs?limit=0", "", "", "", 400},
		{"runs: limit huge", "GET", "/api/v1/runs?limit=99999999999999999999", "", "", "", 400},
		{"runs: unknown pipeline", "GET", "/api/v1/runs?pipeline=" + url.QueryEscape("normal' OR 1=1 --"), "", "", "", 404},
		{"run: bad date", "GET", "/api/v1/runs/normal/11-03-2026", "", "", "", 400},
		{"run: none that day", "GET", "/api/v1/runs/normal/2001-01-01", "", "", "", 404},
		{"slo: bad to", "GET", "/api/v1/slo?to=tomorrow", "", "", "", 400},
		{"slo: unknown pipeline", "GET", "/api/v1/slo?pipeline=%3Cscript%3E", "", "", "", 404},
		{"page: unknown pipeline", "GET", "/pipelines/%3Cscript%3Ealert(1)%3C%2Fscript%3E", "", "", "", 404},
		{"api: unknown endpoint", "GET", "/api/v2/status", "", "", "", 404},
		{"status: POST", "POST", "/api/v1/status", w, j, "{}", 405},
		{"metrics: DELETE", "DELETE", "/metrics", "", "", "", 405},
	}
	var reqs []badReq
	for _, c := range cases {
		body, n := str(c.body)
		reqs = append(reqs, badReq{name: c.name, method: c.method, target: c.target, auth: c.auth, ctype: c.ctype,
			body: body, length: n, want: c.want})
	}
	checkUnchanged(t, f, reqs)
}

// FuzzEventBodies posts arbitrary bodies, as JSON and as a form, to both
// event endpoints with the right token: the answer is 202, 400 or 413 (or
// TROCCO's test send answered 200 {"test":true}) with a JSON body, never a
// server error, and nothing but a parsed event reaches the engine.
func FuzzEventBodies(f *testing.F) {
	for _, s := range []string{badGlueEvent, `{"pipeline_definition_id":1234,"job_id":9,"status":"succeeded"}`,
		"pipeline_definition_id=1234&job_id=9&status=error", "", "null", "[]", `{"detail":{}}`, "\xff"} {
		f.Add(s, true)
		f.Add(s, false)
	}
	fx := newFixture(f)
	f.Fuzz(func(t *testing.T, body string, asJSON bool) {
		ctype := "application/x-www-form-urlencoded"
		if asJSON {
			ctype = "application/json"
		}
		for _, target := range []string{"/api/v1/events/glue", "/api/v1/events/trocco"} {
			req := httptest.NewRequest("POST", target, bytes.NewReader([]byte(body)))
			req.Header.Set("Authorization", "Bearer "+writeToken)
			req.Header.Set("Content-Type", ctype)
			rec := httptest.NewRecorder()
			fx.h.ServeHTTP(rec, req)
			switch {
			case rec.Code == http.StatusAccepted, rec.Code == http.StatusBadRequest, rec.Code == http.StatusRequestEntityTooLarge:
			case rec.Code == http.StatusOK && target == "/api/v1/events/trocco" && strings.Contains(rec.Body.String(), `"test": true`):
				// TROCCO's test send (an all-zero or placeholder job_id), SPEC §13.
			default:
				t.Fatalf("%s with %q: status %d: %s", target, body, rec.Code, rec.Body.String())
			}
			if !json.Valid(rec.Body.Bytes()) {
				t.Fatalf("%s with %q: answer is not JSON: %q", target, body, rec.Body.String())
			}
		}
	})
}

func basic(user, pw string) string {
	req, _ := http.NewRequest("GET", "/", nil)
	req.SetBasicAuth(user, pw)
	return strings.TrimPrefix(req.Header.Get("Authorization"), "Basic ")
}

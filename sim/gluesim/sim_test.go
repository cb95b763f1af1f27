package gluesim_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/jonboulle/clockwork"

	"github.com/sekisho-dev/sekisho/sim/gluesim"
)

var t0 = time.Date(2025, 3, 10, 2, 0, 0, 0, time.UTC)

const (
	accessKey = "AKIDSIMTEST"
	secretKey = "sim-secret"
)

type client struct {
	t    *testing.T
	url  string
	sign bool
}

// call posts one awsJson1_1 request, signed with SigV4 like the SDK does.
func (c client) call(target string, in any) (int, map[string]any, []byte) {
	c.t.Helper()
	body, _ := json.Marshal(in)
	req, _ := http.NewRequest(http.MethodPost, c.url+"/", bytes.NewReader(body))
	req.Header.Set("Content-Type", gluesim.ContentType)
	req.Header.Set("X-Amz-Target", "AWSGlue."+target)
	if c.sign {
		sum := sha256.Sum256(body)
		err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: accessKey, SecretAccessKey: secretKey},
			req, hex.EncodeToString(sum[:]), "glue", "us-east-1", time.Now())
		if err != nil {
			c.t.Fatal(err)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	_ = json.Unmarshal(raw, &out)
	return resp.StatusCode, out, raw
}

func setup(t *testing.T) (*gluesim.Sim, *clockwork.FakeClock, client) {
	clock := clockwork.NewFakeClockAt(t0)
	sim := gluesim.New(clock, gluesim.WithRegion("us-east-1"), gluesim.WithCredentials(accessKey, secretKey))
	srv := sim.NewServer()
	t.Cleanup(srv.Close)
	return sim, clock, client{t: t, url: srv.URL, sign: true}
}

func TestAuthentication(t *testing.T) {
	sim, _, c := setup(t)
	sim.AddJob("etl")
	c.sign = false
	status, out, _ := c.call("GetJobRuns", map[string]any{"JobName": "etl"})
	if status != http.StatusBadRequest || out["__type"] != "MissingAuthenticationTokenException" {
		t.Errorf("unsigned: %d %v", status, out)
	}
	req, _ := http.NewRequest(http.MethodPost, c.url+"/", strings.NewReader(`{"JobName":"etl"}`))
	req.Header.Set("Content-Type", gluesim.ContentType)
	req.Header.Set("X-Amz-Target", "AWSGlue.GetJobRuns")
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=garbage")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("malformed signature: %d", resp.StatusCode)
	}
	c.sign = true
	if status, out, _ := c.call("GetJobRuns", map[string]any{"JobName": "etl"}); status != http.StatusOK {
		t.Errorf("signed: %d %v", status, out)
	}
	if st := sim.Requests(); st.Rejected != 2 {
		t.Errorf("rejected %d, want 2", st.Rejected)
	}
}

func TestWireShapes(t *testing.T) {
	sim, _, c := setup(t)
	start := t0.Add(-90 * time.Minute).Add(123 * time.Millisecond)
	id := sim.PlanRun("etl", gluesim.Run{Start: start, Duration: time.Hour, Outcome: gluesim.Failed, Message: "boom"})
	status, _, raw := c.call("GetJobRuns", map[string]any{"JobName": "etl"})
	if status != http.StatusOK {
		t.Fatalf("status %d: %s", status, raw)
	}
	var out struct {
		JobRuns []map[string]json.RawMessage
	}
	if err := json.Unmarshal(raw, &out); err != nil || len(out.JobRuns) != 1 {
		t.Fatalf("%s: %v", raw, err)
	}
	r := out.JobRuns[0]
	// Epoch seconds with a fraction: a millisecond number would read as 2061.
	if got, want := string(r["StartedOn"]), "1741566600.123"; got != want {
		t.Errorf("StartedOn %s, want %s", got, want)
	}
	if got := string(r["CompletedOn"]); got != "1741570200.123" {
		t.Errorf("CompletedOn %s", got)
	}
	for k, want := range map[string]string{"Id": `"` + id + `"`, "JobRunState": `"FAILED"`, "ErrorMessage": `"boom"`, "JobName": `"etl"`} {
		if string(r[k]) != want {
			t.Errorf("%s = %s, want %s", k, r[k], want)
		}
	}
	if !strings.HasPrefix(id, "jr_") || len(id) != 67 {
		t.Errorf("run id %q is not shaped like Glue's", id)
	}
}

func TestErrors(t *testing.T) {
	sim, _, c := setup(t)
	sim.AddJob("etl")
	tests := []struct {
		name, target string
		in           map[string]any
		want         string
	}{
		{"unknown job", "GetJobRuns", map[string]any{"JobName": "nope"}, "EntityNotFoundException"},
		{"unknown workflow", "GetWorkflowRuns", map[string]any{"Name": "nope"}, "EntityNotFoundException"},
		{"unknown run", "GetJobRun", map[string]any{"JobName": "etl", "RunId": "jr_x"}, "EntityNotFoundException"},
		{"page too large", "GetJobRuns", map[string]any{"JobName": "etl", "MaxResults": 201}, "ValidationException"},
		{"missing job name", "GetJobRuns", map[string]any{}, "ValidationException"},
		{"bad token", "GetJobRuns", map[string]any{"JobName": "etl", "NextToken": "%%%"}, "InvalidInputException"},
		{"unknown target", "DeleteJob", map[string]any{"JobName": "etl"}, "UnknownOperationException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, out, raw := c.call(tt.target, tt.in)
			if status != http.StatusBadRequest || out["__type"] != tt.want {
				t.Errorf("got %d %s, want 400 %s", status, raw, tt.want)
			}
		})
	}
}

func TestPaginationIsStableWhileRunsArrive(t *testing.T) {
	sim, clock, c := setup(t)
	for d := range 5 {
		sim.PlanRun("etl", gluesim.Run{Start: t0.Add(-time.Duration(d+1) * time.Hour), Duration: time.Minute})
	}
	var seen []string
	tok := ""
	for range 10 {
		in := map[string]any{"JobName": "etl", "MaxResults": 2}
		if tok != "" {
			in["NextToken"] = tok
		}
		_, out, raw := c.call("GetJobRuns", in)
		for _, r := range out["JobRuns"].([]any) {
			seen = append(seen, r.(map[string]any)["Id"].(string))
		}
		// A new run arriving between pages must not shift later pages.
		sim.PlanRun("etl", gluesim.Run{Start: clock.Now()})
		clock.Advance(time.Second)
		next, _ := out["NextToken"].(string)
		if next == "" {
			break
		}
		if tok == next {
			t.Fatalf("token repeats: %s", raw)
		}
		tok = next
	}
	// Runs newer than the first page belong to the next listing, not to
	// later pages: exactly the five planned runs, each once.
	uniq := map[string]bool{}
	for _, id := range seen {
		uniq[id] = true
	}
	if len(seen) != 5 || len(uniq) != 5 {
		t.Errorf("saw %d runs (%d distinct): %v", len(seen), len(uniq), seen)
	}
}

func TestStartJobRun(t *testing.T) {
	sim, clock, c := setup(t)
	first := sim.PlanRun("etl", gluesim.Run{Start: t0.Add(-time.Hour), Duration: 10 * time.Minute, Outcome: gluesim.Failed})
	sim.SetRerun("etl", gluesim.Rerun{Duration: 5 * time.Minute})
	status, out, raw := c.call("StartJobRun", map[string]any{"JobName": "etl", "JobRunId": first})
	if status != http.StatusOK {
		t.Fatalf("%d %s", status, raw)
	}
	id := out["JobRunId"].(string)
	if status, out, _ := c.call("StartJobRun", map[string]any{"JobName": "etl"}); status != http.StatusBadRequest ||
		out["__type"] != "ConcurrentRunsExceededException" {
		t.Errorf("second start while running: %d %v", status, out)
	}
	clock.Advance(5 * time.Minute)
	_, out, _ = c.call("GetJobRun", map[string]any{"JobName": "etl", "RunId": id})
	jr := out["JobRun"].(map[string]any)
	if jr["JobRunState"] != gluesim.Succeeded || jr["PreviousRunId"] != first || jr["Attempt"] != 2.0 {
		t.Errorf("rerun: %v", jr)
	}
}

func TestWorkflowStatisticsEvolve(t *testing.T) {
	sim, clock, c := setup(t)
	sim.PlanWorkflowRun("wf", gluesim.WorkflowRun{Start: t0, Duration: 4 * time.Hour, Actions: 4, Failed: 1})
	stats := func() (string, map[string]any) {
		_, out, _ := c.call("GetWorkflowRuns", map[string]any{"Name": "wf"})
		r := out["Runs"].([]any)[0].(map[string]any)
		return r["Status"].(string), r["Statistics"].(map[string]any)
	}
	clock.Advance(2 * time.Hour)
	status, st := stats()
	if status != "RUNNING" || st["SucceededActions"] != 2.0 || st["RunningActions"] != 1.0 {
		t.Errorf("midway: %s %v", status, st)
	}
	clock.Advance(2 * time.Hour)
	status, st = stats()
	if status != "COMPLETED" || st["SucceededActions"] != 3.0 || st["FailedActions"] != 1.0 || st["TotalActions"] != 4.0 {
		t.Errorf("ended: %s %v", status, st)
	}
}

func TestFaultsAreReproducible(t *testing.T) {
	run := func() (types []string) {
		sim, _, c := setup(t)
		sim.AddJob("etl")
		sim.SetFaults(gluesim.Faults{ErrorRate: 0.2, ThrottleRate: 0.2, MalformedRate: 0.2, Seed: 7})
		for range 40 {
			status, out, raw := c.call("GetJobRuns", map[string]any{"JobName": "etl"})
			switch {
			case status == http.StatusOK && json.Valid(raw):
				types = append(types, "ok")
			case status == http.StatusOK:
				types = append(types, "truncated")
			default:
				types = append(types, out["__type"].(string))
			}
		}
		if st := sim.Requests(); st.ByResource["glue_job:etl"] != 40 || st.ByTarget["GetJobRuns"] != 40 {
			t.Errorf("counters: %+v", st)
		}
		return types
	}
	a, b := run(), run()
	if strings.Join(a, ",") != strings.Join(b, ",") {
		t.Errorf("same seed, different faults:\n%v\n%v", a, b)
	}
	kinds := map[string]bool{}
	for _, k := range a {
		kinds[k] = true
	}
	for _, k := range []string{"ok", "truncated", "ThrottlingException", "InternalServiceException"} {
		if !kinds[k] {
			t.Errorf("no %s in %v", k, a)
		}
	}
}

package bigquerysim

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestRESTRules: legacy SQL, a missing query and an unknown call are
// refused in the Google API error envelope.
func TestRESTRules(t *testing.T) {
	sim := New()
	srv := sim.NewServer()
	defer srv.Close()
	call := func(method, path, body string) (int, string) {
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		var e struct {
			Error struct {
				Code   int
				Errors []struct{ Reason string }
			}
		}
		json.Unmarshal(b, &e)
		reason := ""
		if len(e.Error.Errors) > 0 {
			reason = e.Error.Errors[0].Reason
		}
		return resp.StatusCode, reason
	}
	if code, r := call("POST", "/bigquery/v2/projects/p/queries", `{"query":"SELECT 1"}`); code != 400 || r != "invalidQuery" {
		t.Errorf("legacy SQL by default: %d %s", code, r)
	}
	if code, r := call("POST", "/bigquery/v2/projects/p/queries", `{"useLegacySql":false}`); code != 400 || r != "invalid" {
		t.Errorf("no query: %d %s", code, r)
	}
	if code, r := call("GET", "/bigquery/v2/projects/p/queries/job_nope", ""); code != 404 || r != "notFound" {
		t.Errorf("unknown job: %d %s", code, r)
	}
	if code, _ := call("POST", "/bigquery/v2/projects/p/jobs", `{}`); code != 404 {
		t.Errorf("jobs.insert is not simulated: %d", code)
	}
	if c := sim.Calls(); c["POST /bigquery/v2/projects/p/jobs"] != 1 {
		t.Errorf("unknown calls are counted by path: %v", c)
	}
}

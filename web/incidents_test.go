package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/incident"
)

func TestSilencesAPI(t *testing.T) {
	f := newRealFixture(t)
	w := "Bearer " + writeToken
	j := "application/json"
	until := at(day, "12:00").Format(time.RFC3339)
	body := `{"pipelines":["broken","mart"],"until":"` + until + `","reason":"RDS maintenance"}`
	var bad []badReq
	for _, c := range []struct{ name, body string }{
		{"empty body", ""},
		{"not JSON", "pipelines=broken"},
		{"unknown field", `{"pipelines":["broken"],"until":"` + until + `","reason":"r","starts":"now"}`},
		{"two documents", body + body},
		{"no pipelines", `{"pipelines":[],"until":"` + until + `","reason":"r"}`},
		{"unknown pipeline", `{"pipelines":["broken","brokn"],"until":"` + until + `","reason":"r"}`},
		{"until not RFC 3339", `{"pipelines":["broken"],"until":"tomorrow","reason":"r"}`},
		{"until in the past", `{"pipelines":["broken"],"until":"2026-11-03T06:00:00+09:00","reason":"r"}`},
		{"no reason", `{"pipelines":["broken"],"until":"` + until + `"}`},
		{"pipelines a string", `{"pipelines":"broken","until":"` + until + `","reason":"r"}`},
	} {
		b, n := str(c.body)
		bad = append(bad, badReq{name: c.name, method: "POST", target: "/api/v1/silences", auth: w, ctype: j, body: b, length: n, want: 400})
	}
	bad = append(bad, badReq{name: "expire unknown", method: "DELETE", target: "/api/v1/silences/sil_nope", auth: w, want: 404})
	checkUnchanged(t, f, bad)

	code, _, out := f.do(t, "POST", "/api/v1/silences", writeToken, j, body)
	var created struct{ ID string }
	if code != http.StatusCreated || json.Unmarshal([]byte(out), &created) != nil || !strings.HasPrefix(created.ID, "sil_") {
		t.Fatalf("add: %d %s", code, out)
	}
	code, _, out = f.do(t, "GET", "/api/v1/silences", "", "", "")
	var list struct {
		Silences []struct {
			ID        string
			Pipelines []string
			Reason    string
			Until     time.Time
			State     string
		}
	}
	if code != 200 || json.Unmarshal([]byte(out), &list) != nil || len(list.Silences) != 2 {
		t.Fatalf("list: %d %s", code, out)
	}
	got := list.Silences[1]
	if got.ID != created.ID || got.State != "active" || got.Reason != "RDS maintenance" || len(got.Pipelines) != 2 ||
		!got.Until.Equal(at(day, "12:00")) {
		t.Fatalf("listed %+v", got)
	}
	code, _, out = f.do(t, "DELETE", "/api/v1/silences/"+created.ID, writeToken, "", "")
	if code != 200 || !strings.Contains(out, `"state": "ended"`) {
		t.Fatalf("expire: %d %s", code, out)
	}
	_, _, out = f.do(t, "GET", "/api/v1/silences", "", "", "")
	if strings.Contains(out, created.ID) {
		t.Fatalf("an expired silence is still listed: %s", out)
	}
	_, _, out = f.do(t, "GET", "/api/v1/silences?all=true", "", "", "")
	if !strings.Contains(out, created.ID) {
		t.Fatalf("?all=true leaves out the expired silence: %s", out)
	}
}

// recordCascade stores an incident: broken's failed run holds back mart.
func recordCascade(t *testing.T, f *fixture) string {
	t.Helper()
	ctx := context.Background()
	now := at(day, "03:10")
	failed := sekisho.Notice{Kind: sekisho.NoticeUpstreamFailed, Pipeline: "mart", LogicalDate: day, DedupeKey: "upstream_failed:0:broken:",
		Facts: sekisho.NoticeFacts{Upstream: "broken", State: sekisho.StateBlocked}}
	locate := func(string, string) (string, string) { return "", "broken" }
	d := incident.Decide(f.cfg.Graph(), locate, nil, incident.Step{Notices: []sekisho.Notice{failed}}, now)
	if _, err := f.st.AddNoticesWithIncidents(ctx, nil, d.Changes, now); err != nil {
		t.Fatal(err)
	}
	return d.Changes[0].Key()
}

func TestIncidentsAPIAndBoard(t *testing.T) {
	f := newFixture(t)
	key := recordCascade(t, f)
	code, _, out := f.do(t, "GET", "/api/v1/incidents?date="+day, "", "", "")
	var got struct {
		Date      string
		Incidents []struct {
			Key, State string
			Cause      struct{ Kind, Pipeline, State string }
			Members    []struct {
				Pipeline, Role string
				Impacts        []string
			}
			Impacts []string
		}
	}
	if code != 200 || json.Unmarshal([]byte(out), &got) != nil || len(got.Incidents) != 1 {
		t.Fatalf("incidents: %d %s", code, out)
	}
	inc := got.Incidents[0]
	if inc.Key != key || inc.State != "open" || inc.Cause.Pipeline != "broken" || len(inc.Members) != 2 ||
		inc.Members[1].Pipeline != "mart" || inc.Members[1].Role != "affected" ||
		strings.Join(inc.Impacts, "|") != "Tableau: 売上ダッシュボード|Service dashboard (reverse ETL)" {
		t.Fatalf("incident = %+v", inc)
	}
	if code, _, out := f.do(t, "GET", "/api/v1/incidents?date=2026-11-04", "", "", ""); code != 200 || !strings.Contains(out, `"incidents": []`) {
		t.Fatalf("another day: %d %s", code, out)
	}
	if code, _, _ := f.do(t, "GET", "/api/v1/incidents?date=11/03", "", "", ""); code != 400 {
		t.Fatalf("bad date: %d", code)
	}
	if _, _, out := f.do(t, "GET", "/api/v1/incidents", "", "", ""); !strings.Contains(out, key) {
		t.Fatalf("the default listing leaves out the open incident: %s", out)
	}

	_, _, page := f.do(t, "GET", "/?lang=en", "", "", "")
	block := between(page, "Ongoing incidents", "</section>")
	for _, want := range []string{"broken failed", ">mart<", "(affected)", "Service dashboard (reverse ETL)"} {
		if !strings.Contains(block, want) {
			t.Errorf("the incident block lacks %q:\n%s", want, block)
		}
	}
	// broken and mart are in the incident block, not listed again as affected data.
	if strings.Contains(page, "<h2>Affected data</h2>") && strings.Contains(between(page, "Affected data", "</section>"), ">broken<") {
		t.Error("broken is shown both in its incident and in the per-pipeline affected list")
	}
	// slow's maintenance window: 🔧 on its card and in the list of silences.
	card := between(page, `id="p-slow"`, "</article>")
	if !strings.Contains(card, "🔧</span> disk upgrade") || !strings.Contains(card, "2026-11-03 09:00 JST") {
		t.Errorf("slow's card lacks its silence:\n%s", card)
	}
	if !strings.Contains(between(page, "Notices paused (maintenance)", "</section>"), "disk upgrade") {
		t.Error("the board does not list the silence")
	}

	_, _, pp := f.do(t, "GET", "/pipelines/mart?lang=ja", "", "", "")
	hist := between(pp, "障害の履歴", "</section>")
	if !strings.Contains(hist, "broken が失敗しました") || !strings.Contains(hist, "影響") || !strings.Contains(hist, "対応中") {
		t.Errorf("mart's page lacks the incident history:\n%s", hist)
	}
	_, _, np := f.do(t, "GET", "/pipelines/normal?lang=en", "", "", "")
	if !strings.Contains(np, "No incident involved this data flow.") {
		t.Error("normal's page does not say it had no incident")
	}
}

func between(s, from, to string) string {
	i := strings.Index(s, from)
	if i < 0 {
		return ""
	}
	s = s[i:]
	if j := strings.Index(s, to); j >= 0 {
		return s[:j]
	}
	return s
}

// An incident caused by one hour of a sub-daily run names that hour on the
// board, on the pipeline page and in the API (SPEC §19): mart, blocked by
// broken's failed 13:00 run, opens the incident of that run.
func TestIncidentNamesTheInterval(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	now := at(day, "14:10")
	h13 := day + "T13:00"
	failed := sekisho.Notice{Kind: sekisho.NoticeUpstreamFailed, Pipeline: "mart", LogicalDate: day, Key: day,
		DedupeKey: "upstream_failed:0:broken:broken/" + h13 + "#1",
		Facts:     sekisho.NoticeFacts{Upstream: "broken", ExternalID: "broken/" + h13 + "#1", State: sekisho.StateBlocked}}
	locate := func(string, string) (string, string) { return "", "broken" }
	d := incident.Decide(f.cfg.Graph(), locate, nil, incident.Step{Notices: []sekisho.Notice{failed}}, now)
	if _, err := f.st.AddNoticesWithIncidents(ctx, nil, d.Changes, now); err != nil {
		t.Fatal(err)
	}
	if key := d.Changes[0].Key(); key != "run:broken#"+h13 {
		t.Fatalf("incident key %s, want the 13:00 run's", key)
	}
	_, _, out := f.do(t, "GET", "/api/v1/incidents?date="+day, "", "", "")
	if !strings.Contains(out, `"key": "`+h13+`"`) {
		t.Errorf("the API does not give the member's and the cause's run key:\n%s", out)
	}
	_, _, page := f.do(t, "GET", "/?lang=en", "", "", "")
	block := between(page, "Ongoing incidents", "</section>")
	for _, want := range []string{"broken 13:00 run failed", `>broken</a> <span class="muted">13:00 run</span>`} {
		if !strings.Contains(block, want) {
			t.Errorf("the incident block lacks %q:\n%s", want, block)
		}
	}
	_, _, pp := f.do(t, "GET", "/pipelines/broken?lang=ja", "", "", "")
	if hist := between(pp, "障害の履歴", "</section>"); !strings.Contains(hist, "13:00 の回") || !strings.Contains(hist, "broken の 13:00 の回 が失敗しました") {
		t.Errorf("broken's page does not name the 13:00 run:\n%s", hist)
	}
}

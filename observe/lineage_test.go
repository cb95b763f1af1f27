package observe

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/lineage"
)

// schemas compiles the copy of the OpenLineage spec (lineage/testdata,
// fetched from OpenLineage/OpenLineage spec/) and the facets sekisho sends.
func schemas(t *testing.T) (event *jsonschema.Schema, facets map[string]*jsonschema.Schema) {
	t.Helper()
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	files := map[string]string{
		"OpenLineage.json":          "https://openlineage.io/spec/2-0-2/OpenLineage.json",
		"NominalTimeRunFacet.json":  "https://openlineage.io/spec/facets/1-0-1/NominalTimeRunFacet.json",
		"ErrorMessageRunFacet.json": "https://openlineage.io/spec/facets/1-0-1/ErrorMessageRunFacet.json",
		"JobTypeJobFacet.json":      "https://openlineage.io/spec/facets/2-0-4/JobTypeJobFacet.json",
	}
	for file, url := range files {
		f, err := os.Open(filepath.Join("..", "lineage", "testdata", file))
		if err != nil {
			t.Fatal(err)
		}
		doc, err := jsonschema.UnmarshalJSON(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		if err := c.AddResource(url, doc); err != nil {
			t.Fatal(err)
		}
	}
	event = c.MustCompile(files["OpenLineage.json"] + "#/$defs/RunEvent")
	facets = map[string]*jsonschema.Schema{
		"nominalTime":  c.MustCompile(files["NominalTimeRunFacet.json"] + "#/$defs/NominalTimeRunFacet"),
		"errorMessage": c.MustCompile(files["ErrorMessageRunFacet.json"] + "#/$defs/ErrorMessageRunFacet"),
		"jobType":      c.MustCompile(files["JobTypeJobFacet.json"] + "#/$defs/JobTypeJobFacet"),
	}
	return event, facets
}

// marquez stands in for Marquez's POST /api/v1/lineage: it validates every
// event against the OpenLineage schema (201 Created when valid, 400 with
// the reasons when not, as Marquez answers) and keeps them in order.
type marquez struct {
	srv    *httptest.Server
	mu     sync.Mutex
	events []map[string]any
	bad    []string
	down   int    // answer 503 to this many requests first
	refuse string // answer 400 to the events of this job
}

func newMarquez(t *testing.T) *marquez {
	event, facets := schemas(t)
	m := &marquez{}
	m.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m.mu.Lock()
		defer m.mu.Unlock()
		if r.Method != http.MethodPost || r.URL.Path != "/api/v1/lineage" || r.Header.Get("Content-Type") != "application/json" {
			http.Error(w, "want POST /api/v1/lineage application/json", http.StatusBadRequest)
			return
		}
		if m.down > 0 {
			m.down--
			http.Error(w, "unavailable", http.StatusServiceUnavailable)
			return
		}
		raw, _ := io.ReadAll(r.Body)
		if m.refuse != "" && bytes.Contains(raw, []byte(`"name":"`+m.refuse+`"`)) {
			http.Error(w, "refused", http.StatusBadRequest)
			return
		}
		inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
		if err == nil {
			err = event.Validate(inst)
		}
		var ev map[string]any
		json.Unmarshal(raw, &ev)
		if err == nil {
			err = validateFacets(ev, facets)
		}
		if err != nil {
			m.bad = append(m.bad, err.Error())
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		m.events = append(m.events, ev)
		w.WriteHeader(http.StatusCreated)
	}))
	t.Cleanup(m.srv.Close)
	return m
}

func validateFacets(ev map[string]any, facets map[string]*jsonschema.Schema) error {
	for _, where := range []string{"run", "job"} {
		obj, _ := ev[where].(map[string]any)
		fs, _ := obj["facets"].(map[string]any)
		for name, f := range fs {
			s := facets[name]
			if s == nil {
				continue
			}
			if err := s.Validate(f); err != nil {
				return err
			}
		}
	}
	return nil
}

func (w *world) lineageService(m *marquez) *Service {
	w.t.Helper()
	cfg := *w.cfg
	cfg.Lineage = config.Lineage{URL: m.srv.URL + "/api/v1/lineage", Namespace: "sekisho", Auth: "none"}
	w.cfg = &cfg
	c, err := lineage.New(cfg.Lineage, lineage.Options{RetryWaitMin: time.Millisecond, RetryWaitMax: time.Millisecond})
	if err != nil {
		w.t.Fatal(err)
	}
	s, err := New(w.ctx, Options{Store: w.st, Config: func() *config.Config { return w.cfg }, Clock: w.clock,
		Getenv: func(string) string { return "" }, Lineage: c})
	if err != nil || s == nil {
		w.t.Fatalf("New = %v, %v", s, err)
	}
	return s
}

// A day that fails, is rerun and succeeds: START and FAIL of attempt 1,
// START and COMPLETE of attempt 2, in that order, each valid against the
// OpenLineage schema, one run id per attempt; and a timed-out day: its
// START (at the gate) and ABORT.
func TestLineageOfAFailedThenRerunDay(t *testing.T) {
	w := newWorld(t)
	m := newMarquez(t)
	m.down = 2 // retried inside one pass
	s := w.lineageService(m)

	r := w.open("socrates_daily", "2026-11-21")
	w.observe(r, "hegel_export", "glue_job", sekisho.JobSucceeded, "jr_1", gate.Add(30*time.Minute))
	r = w.trigger(r, gate.Add(31*time.Minute))
	r = w.move(r, sekisho.StateRunning, gate.Add(32*time.Minute), sekisho.ReasonDownstreamRunning, nil, nil)
	r = w.move(r, sekisho.StateFailed, gate.Add(time.Hour), sekisho.ReasonDownstreamFailed,
		map[string]any{"message": "task load failed"}, nil)
	if err := s.Pass(w.ctx); err != nil {
		t.Fatal(err)
	}
	rerunAt := gate.Add(3 * time.Hour)
	r = w.rerun(r, rerunAt)
	r = w.trigger(r, rerunAt.Add(time.Minute))
	w.move(r, sekisho.StateSucceeded, rerunAt.Add(time.Hour), sekisho.ReasonDownstreamSuccess, nil, nil)
	late := w.open("kant_daily", "2026-11-21")
	w.move(late, sekisho.StateTimedOut, gate.Add(6*time.Hour), sekisho.ReasonTimeout, nil, nil)
	if err := s.Pass(w.ctx); err != nil {
		t.Fatal(err)
	}

	if len(m.bad) > 0 {
		t.Fatalf("events refused by the schema: %v", m.bad)
	}
	type seen struct{ job, typ, runID, at string }
	var got []seen
	for _, ev := range m.events {
		got = append(got, seen{ev["job"].(map[string]any)["name"].(string), ev["eventType"].(string),
			ev["run"].(map[string]any)["runId"].(string), ev["eventTime"].(string)})
	}
	want := []seen{
		{"socrates_daily", "START", "", "2026-11-21T02:31:00.000Z"},
		{"socrates_daily", "FAIL", "", "2026-11-21T03:00:00.000Z"},
		{"socrates_daily", "START", "", "2026-11-21T05:01:00.000Z"},
		{"socrates_daily", "COMPLETE", "", "2026-11-21T06:00:00.000Z"},
		{"kant_daily", "START", "", "2026-11-21T02:00:00.000Z"},
		{"kant_daily", "ABORT", "", "2026-11-21T08:00:00.000Z"},
	}
	if len(got) != len(want) {
		t.Fatalf("events %v, want %v", got, want)
	}
	for i := range want {
		if got[i].job != want[i].job || got[i].typ != want[i].typ || got[i].at != want[i].at {
			t.Errorf("event %d = %v, want %v", i, got[i], want[i])
		}
	}
	a1 := lineage.RunID("socrates_daily", "2026-11-21", 1, gate)
	a2 := lineage.RunID("socrates_daily", "2026-11-21", 2, gate)
	if a1 == a2 || got[0].runID != a1 || got[1].runID != a1 || got[2].runID != a2 || got[3].runID != a2 || got[4].runID != got[5].runID {
		t.Errorf("run ids %v (attempt 1 %s, attempt 2 %s)", got, a1, a2)
	}
	fail := m.events[1]
	msg := fail["run"].(map[string]any)["facets"].(map[string]any)["errorMessage"].(map[string]any)["message"]
	if msg != "task load failed" {
		t.Errorf("FAIL errorMessage %v", msg)
	}
	inputs, _ := json.Marshal(m.events[0]["inputs"])
	if string(inputs) != `[{"name":"job/hegel-rds-export","namespace":"awsglue://ap-northeast-1"},{"name":"kant_daily","namespace":"sekisho"}]` {
		t.Errorf("inputs %s", inputs)
	}
	if cur, _ := w.st.Cursor(w.ctx, "lineage"); cur == 0 {
		t.Error("cursor did not move")
	}
}

// A refused event (400) is logged and passed; an outage beyond the
// retries stops the pass before the undelivered transition.
func TestLineageOutageAndRefusal(t *testing.T) {
	w := newWorld(t)
	m := newMarquez(t)
	s := w.lineageService(m)
	r := w.open("socrates_daily", "2026-11-21")
	w.trigger(r, gate.Add(time.Minute))
	m.down = 100
	if err := s.Pass(w.ctx); err == nil {
		t.Fatal("pass against a lineage endpoint that is down reported success")
	}
	if cur, _ := w.st.Cursor(w.ctx, "lineage"); cur != 1 {
		t.Fatalf("cursor %d, want 1 (before the undelivered START)", cur)
	}
	m.mu.Lock()
	m.down = 0
	m.mu.Unlock()
	if err := s.Pass(w.ctx); err != nil || len(m.events) != 1 {
		t.Fatalf("after the outage: %v, %d events", err, len(m.events))
	}
	m.refuse = "kant_daily"
	k := w.open("kant_daily", "2026-11-21")
	w.move(k, sekisho.StateSkipped, gate.Add(time.Hour), sekisho.ReasonOperatorSkip, nil, nil)
	w.trigger(w.open("other", "2026-11-21"), gate.Add(2*time.Hour))
	if err := s.Pass(w.ctx); err != nil {
		t.Fatalf("a refused event stopped the pass: %v", err)
	}
	if len(m.events) != 2 || m.events[1]["job"].(map[string]any)["name"] != "other" {
		t.Fatalf("events after a refusal: %v", m.events)
	}
}

// The schema check itself catches a bad event: without it the test above
// proves nothing.
func TestSchemaRefusesABadEvent(t *testing.T) {
	event, facets := schemas(t)
	ev := lineage.NewEvent(lineage.Facts{Namespace: "sekisho", Pipeline: "p", Date: "2026-11-21", Attempt: 1,
		GateAt: gate, Type: lineage.Fail, At: gate, Message: "boom"})
	check := func(mut func(map[string]any)) error {
		raw, _ := json.Marshal(ev)
		var m map[string]any
		json.Unmarshal(raw, &m)
		mut(m)
		raw, _ = json.Marshal(m)
		inst, _ := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
		if err := event.Validate(inst); err != nil {
			return err
		}
		return validateFacets(m, facets)
	}
	if err := check(func(map[string]any) {}); err != nil {
		t.Fatalf("a good event refused: %v", err)
	}
	if err := check(func(m map[string]any) { m["run"].(map[string]any)["runId"] = "not-a-uuid" }); err == nil {
		t.Error("a run id that is no UUID passed")
	}
	if err := check(func(m map[string]any) {
		delete(m["run"].(map[string]any)["facets"].(map[string]any)["errorMessage"].(map[string]any), "programmingLanguage")
	}); err == nil {
		t.Error("an errorMessage facet without programmingLanguage passed")
	}
	if err := check(func(m map[string]any) { m["eventType"] = "DONE" }); err == nil {
		t.Error("an unknown eventType passed")
	}
}

// A data check's input carries what it said (SPEC §21): the
// dataQualityAssertions facet with its verdict and the dataQualityMetrics
// facet with its count, each an InputDatasetFacet of the spec (the event
// passes the schema) with the fields the facets' own schemas require:
// assertions[].assertion and .success; columnMetrics, an integer rowCount.
func TestLineageOfDataChecks(t *testing.T) {
	w := newWorld(t)
	w.cfg.Connections.Warehouses = map[string]*config.Warehouse{"bq": {Name: "bq", Type: config.WarehouseBigQuery}}
	w.cfg.Pipelines = append(w.cfg.Pipelines, &config.Pipeline{Name: "volume", Upstreams: []config.Upstream{
		{Name: "orders_rows", Type: config.TypeSQL, DataCheck: &config.DataCheck{Warehouse: "bq", Query: "SELECT 1", Expect: &config.Expect{Min: new(float64)}}},
		{Name: "orders_match", Type: config.TypeReconcile, DataCheck: &config.DataCheck{Source: &config.CheckQuery{Warehouse: "bq", Query: "SELECT 2"},
			Target: &config.CheckQuery{Warehouse: "bq", Query: "SELECT 1"}}},
	}})
	m := newMarquez(t)
	s := w.lineageService(m)
	r := w.open("volume", "2026-11-21")
	rows, diff := 40123.0, 39000.0
	for _, o := range []sekisho.Observation{
		{Upstream: "orders_rows", Type: config.TypeSQL, State: sekisho.JobSucceeded, Value: &rows, Reason: sekisho.ReasonDataAnomaly},
		{Upstream: "orders_match", Type: config.TypeReconcile, State: sekisho.JobSucceeded, Value: &diff},
	} {
		o.StartedAt, o.FinishedAt, o.ObservedAt = gate, gate.Add(10*time.Minute), gate.Add(10*time.Minute)
		if _, err := w.st.RecordObservation(w.ctx, r.ID, r.Attempt, o); err != nil {
			t.Fatal(err)
		}
	}
	w.move(r, sekisho.StateSucceeded, gate.Add(11*time.Minute), sekisho.ReasonConditionMet, nil, nil)
	if err := s.Pass(w.ctx); err != nil {
		t.Fatal(err)
	}
	if len(m.bad) > 0 || len(m.events) != 2 {
		t.Fatalf("events %d, refused: %v", len(m.events), m.bad)
	}
	done := m.events[1]
	inputs, _ := done["inputs"].([]any)
	if len(inputs) != 2 {
		t.Fatalf("inputs %v", done["inputs"])
	}
	for i, want := range []struct {
		assertion string
		success   bool
		rows      float64
	}{{"expect", false, 40123}, {"reconcile", true, 39000}} {
		fs, _ := inputs[i].(map[string]any)["inputFacets"].(map[string]any)
		dq, _ := fs["dataQualityAssertions"].(map[string]any)
		as, _ := dq["assertions"].([]any)
		if len(as) != 1 || as[0].(map[string]any)["assertion"] != want.assertion || as[0].(map[string]any)["success"] != want.success ||
			dq["_schemaURL"] != "https://openlineage.io/spec/facets/1-0-1/DataQualityAssertionsDatasetFacet.json#/$defs/DataQualityAssertionsDatasetFacet" {
			t.Errorf("input %d dataQualityAssertions %v", i, dq)
		}
		mt, _ := fs["dataQualityMetrics"].(map[string]any)
		if mt["rowCount"] != want.rows || mt["columnMetrics"] == nil {
			t.Errorf("input %d dataQualityMetrics %v", i, mt)
		}
	}
}

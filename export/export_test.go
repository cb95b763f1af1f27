package export

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/store"
	"github.com/sekisho-dev/sekisho/testkit/teststore"
)

const awkward = "upstream said \"no\",\r\nthen\ttab \x01 ✅ \xff end"

// fixture records one run through the store's own API: gate opened at
// 17:00Z, running, succeeded at 20:30Z, 30 minutes before its deadline.
func fixture(t *testing.T) *store.Store {
	t.Helper()
	ctx := context.Background()
	st, err := teststore.Open(ctx, filepath.Join(t.TempDir(), "x.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	gate := time.Date(2026, 3, 1, 17, 0, 0, 0, time.UTC)
	r, _, err := st.OpenGate(ctx, sekisho.Run{Pipeline: "alpha", LogicalDate: "2026-03-02", GateAt: gate,
		TimeoutAt: gate.Add(6 * time.Hour), Deadline: gate.Add(4 * time.Hour), RecoverBy: gate.Add(22 * time.Hour),
		Spec: []byte(`{"secret":"do-not-export"}`)}, map[string]any{"by": "test"})
	if err != nil {
		t.Fatal(err)
	}
	next := r
	next.State, next.Message, next.StartedAt = sekisho.StateRunning, awkward, gate.Add(time.Hour)
	if r, err = st.Apply(ctx, r, next, gate.Add(time.Hour), store.Step{Reason: sekisho.ReasonDownstreamRunning}); err != nil {
		t.Fatal(err)
	}
	done := gate.Add(3*time.Hour + 30*time.Minute)
	next = r
	next.State, next.FinishedAt, next.FirstSuccessAt = sekisho.StateSucceeded, done, done
	if _, err = st.Apply(ctx, r, next, done, store.Step{Reason: sekisho.ReasonDownstreamSuccess, Detail: map[string]any{"dag_run_id": "x"}}); err != nil {
		t.Fatal(err)
	}
	return st
}

func export(t *testing.T, db *store.Store, table, format string) string {
	t.Helper()
	var b bytes.Buffer
	if err := Export(context.Background(), db, table, format, &b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestNDJSON(t *testing.T) {
	db := fixture(t)
	tests := []struct {
		table  string
		lines  int
		prefix string         // the first line starts so: keys in column order
		want   map[string]any // fields of the last line
	}{
		{"runs", 1, `{"id":1,"pipeline":"alpha","logical_date":"2026-03-02","attempt":1,"state":"succeeded","gate_at":"2026-03-01T17:00:00.000Z",`,
			map[string]any{"message": strings.ToValidUTF8(awkward, "\ufffd"), "intent_at": nil, "first_success_at": "2026-03-01T20:30:00.000Z", "version": 3.0}},
		{"transitions", 3, `{"id":1,"run_id":1,"pipeline":"alpha","logical_date":"2026-03-02","attempt":1,"from_state":"","to_state":"waiting","at":"2026-03-01T17:00:00.000Z","reason":"gate_opened","detail":"{\"by\":\"test\"}"}`,
			map[string]any{"from_state": "running", "to_state": "succeeded", "detail": `{"dag_run_id":"x"}`}},
		{"slo_daily", 1, `{"pipeline":"alpha","logical_date":"2026-03-02","deadline":"2026-03-01T21:00:00.000Z","finished_at":"2026-03-01T20:30:00.000Z","slo_met":1,"sla_met":1,"state":"succeeded","attempts":1,"duration_seconds":12600}`,
			map[string]any{"duration_seconds": 12600.0}},
	}
	for _, tt := range tests {
		t.Run(tt.table, func(t *testing.T) {
			out := export(t, db, tt.table, "ndjson")
			lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
			if len(lines) != tt.lines || !strings.HasSuffix(out, "\n") {
				t.Fatalf("%d lines:\n%s", len(lines), out)
			}
			if !strings.HasPrefix(lines[0], tt.prefix) {
				t.Fatalf("first line\n got %s\nwant %s…", lines[0], tt.prefix)
			}
			for _, l := range lines {
				if !json.Valid([]byte(l)) {
					t.Fatalf("invalid JSON line %s", l)
				}
			}
			var last map[string]any
			json.Unmarshal([]byte(lines[len(lines)-1]), &last)
			if len(last) != len(Tables[tt.table]) {
				t.Errorf("keys %v, want the columns %v", last, Tables[tt.table])
			}
			for k, v := range tt.want {
				if last[k] != v {
					t.Errorf("%s = %#v, want %#v", k, last[k], v)
				}
			}
			if strings.Contains(out, "do-not-export") {
				t.Error("the config snapshot leaked into the export")
			}
		})
	}
}

func TestCSV(t *testing.T) {
	db := fixture(t)
	recs, err := csv.NewReader(strings.NewReader(export(t, db, "runs", "csv"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(recs[0], Tables["runs"]) || len(recs) != 2 {
		t.Fatalf("csv = %q", recs)
	}
	row := map[string]string{}
	for i, c := range recs[0] {
		row[c] = recs[1][i]
	}
	// encoding/csv reads \r\n inside quotes back as \n.
	if want := strings.ReplaceAll(awkward, "\r\n", "\n"); row["message"] != want {
		t.Errorf("message = %q, want %q", row["message"], want)
	}
	if row["intent_at"] != "" || row["attempt"] != "1" || row["finished_at"] != "2026-03-01T20:30:00.000Z" {
		t.Errorf("row = %v", row)
	}
	recs, err = csv.NewReader(strings.NewReader(export(t, db, "slo_daily", "csv"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(recs[1], ","); got != "alpha,2026-03-02,2026-03-01T21:00:00.000Z,2026-03-01T20:30:00.000Z,1,1,succeeded,1,12600" {
		t.Errorf("slo_daily = %s", got)
	}
}

type failingWriter struct{ n int }

func (w *failingWriter) Write(p []byte) (int, error) { return 0, errors.New("disk full") }

func TestErrors(t *testing.T) {
	db := fixture(t)
	ctx := context.Background()
	for _, tt := range []struct{ table, format, want string }{
		{"notices", "ndjson", `unknown table "notices": choose runs, transitions, slo_daily`},
		{"runs", "parquet", `unknown format "parquet": choose ndjson, csv`},
		{"runs; DROP TABLE runs", "csv", `unknown table`},
	} {
		if err := Export(ctx, db, tt.table, tt.format, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Export(%s, %s) = %v, want %q", tt.table, tt.format, err, tt.want)
		}
	}
	if err := Export(ctx, db, "runs", "ndjson", &failingWriter{}); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("write error = %v", err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := Export(cancelled, db, "runs", "csv", &bytes.Buffer{}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled = %v", err)
	}
}

func TestAppendStringMatchesEncodingJSON(t *testing.T) {
	for _, s := range []string{"", "plain", awkward, "\u2028<>&", "\x00\x1f\x7f", "日本語"} {
		var back string
		if err := json.Unmarshal(appendString(nil, s), &back); err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		if want := strings.ToValidUTF8(s, "\ufffd"); back != want {
			t.Errorf("round trip %q = %q", s, back)
		}
	}
}

package config

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// sameEitherWay fails t unless reading data item by item (split) and whole
// give the same config and the same errors.
func sameEitherWay(t testing.TB, name string, data []byte) {
	t.Helper()
	env := envOf(secretEnv)
	cut, errCut := parseSplit(name, data, env, false, true)
	whole, errWhole := parseSplit(name, data, env, false, false)
	if fmt.Sprint(errCut) != fmt.Sprint(errWhole) {
		t.Fatalf("%s: errors differ\nsplit: %v\nwhole: %v", name, errCut, errWhole)
	}
	if !reflect.DeepEqual(cut, whole) {
		t.Fatalf("%s: configs differ", name)
	}
}

// readBySplit reports whether data is read item by item: split cuts it
// and the decoder needs no second, whole reading.
func readBySplit(data []byte) bool {
	sp := split(data)
	if sp == nil {
		return false
	}
	d := &decoder{file: "f.yaml", lookup: envOf(secretEnv)}
	cfg := d.parse(data, sp)
	return cfg != nil && len(d.errs) == 0 && !d.unsplit
}

func TestSplitMatchesWhole(t *testing.T) {
	files, _ := filepath.Glob("testdata/*/*.yaml")
	files = append(files, "../pipelines.yaml")
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		sameEitherWay(t, f, data)
		// A file is read item by item unless an alias may refer to an
		// anchor outside its item.
		want := !strings.Contains(f, "invalid/")
		if got := readBySplit(data); strings.Contains(f, "valid/") && got != want {
			t.Errorf("%s read item by item: %v, want %v", f, got, want)
		}
	}
}

const splitHead = "version: 1\nconnections:\n  airflow:\n    af: {base_url: \"https://af.example.com\", auth: none}\n"

// The layouts read item by item, and those that must be read whole, with
// the same answer either way.
func TestSplitLayouts(t *testing.T) {
	item := func(indent, name string) string {
		return indent + "- name: " + name + "\n" + indent + "  schedule: \"0 3 * * *\"\n" + indent +
			"  upstreams:\n" + indent + "    - {name: x, type: airflow_dag, connection: af, dag_id: up}\n" + indent +
			"  trigger: {type: airflow_dag, connection: af, dag_id: d_" + name + "}\n"
	}
	tests := []struct {
		name  string
		text  string
		split bool
	}{
		{"indented list", splitHead + "pipelines:\n" + item("  ", "a") + item("  ", "b"), true},
		{"list at column 1", splitHead + "pipelines:\n" + item("", "a") + item("", "b"), true},
		{"comments and blank lines between items", splitHead + "pipelines: # all of them\n\n# first\n" + item("  ", "a") + "\n    # inside\n# between\n" + item("  ", "b") + "# after\n", true},
		{"a key after the list", splitHead + "pipelines:\n" + item("  ", "a") + "timezone: Asia/Tokyo\n", true},
		{"CRLF", strings.ReplaceAll(splitHead+"pipelines:\n"+item("  ", "a")+item("  ", "b"), "\n", "\r\n"), true},
		{"an anchor inside one item", splitHead + "pipelines:\n  - name: a\n    description: &s \"daily\"\n    schedule: \"0 3 * * *\"\n    upstreams:\n      - &x {name: x, type: airflow_dag, connection: af, dag_id: up}\n      - {<<: *x, name: y}\n    trigger: {type: airflow_dag, connection: af, dag_id: d}\n    notify: {channel: *s}\n", true},
		{"an alias across items", splitHead + "pipelines:\n  - &a\n    name: a\n    schedule: \"0 3 * * *\"\n    upstreams:\n      - {name: x, type: airflow_dag, connection: af, dag_id: up}\n    trigger: {type: airflow_dag, connection: af, dag_id: d}\n  - <<: *a\n    name: b\n    trigger: {type: airflow_dag, connection: af, dag_id: d2}\n", true},
		{"an alias of an anchor before the list", splitHead + "defaults: &d {poke_interval: 30s}\npipelines:\n" + item("  ", "a") + strings.Replace(item("  ", "b"), "- name: b", "- <<: *d\n    name: b", 1), true},
		{"an alias of an anchor after the list", splitHead + "pipelines:\n" + item("  ", "a") + "  - name: b\n    poke_interval: *p\n    schedule: \"0 3 * * *\"\n    upstreams: []\ndefaults: {poke_interval: &p 30s}\n", false},
		{"a quoted string over a line like an item", splitHead + "pipelines:\n  - name: a\n    description: \"one\n  - two\"\n    schedule: \"0 3 * * *\"\n    upstreams:\n      - {name: x, type: airflow_dag, connection: af, dag_id: up}\n    trigger: {type: airflow_dag, connection: af, dag_id: d}\n", false},
		{"a flow list over lines", splitHead + "pipelines:\n  - name: a\n    schedule: \"0 3 * * *\"\n    upstreams: [\n  {name: x, type: airflow_dag, connection: af, dag_id: up}]\n    trigger: {type: airflow_dag, connection: af, dag_id: d}\n", false},
		{"a flow mapping at the top", "{version: 1,\npipelines:\n  - name: a\n}\n", false},
		{"two documents", splitHead + "pipelines:\n" + item("  ", "a") + "---\nversion: 1\n", false},
		{"pipelines twice", splitHead + "pipelines:\n" + item("  ", "a") + "pipelines:\n" + item("  ", "b"), false},
		{"pipelines in a string", "version: 1\nnote: \"a\npipelines:\n  - b\"\n", false},
		{"a bad item", splitHead + "pipelines:\n" + item("  ", "a") + "  - name: B!\n", false},
		{"a duplicate name", splitHead + "pipelines:\n" + item("  ", "a") + item("  ", "a"), false},
		{"a tab-indented line", splitHead + "pipelines:\n" + item("  ", "a") + "\t- name: b\n", false},
		{"an empty list", splitHead + "pipelines:\n# none\n", false},
		{"a key less indented than the items", splitHead + "pipelines:\n" + item("    ", "a") + "  oops: 1\n", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sameEitherWay(t, tt.name, []byte(tt.text))
			if got := readBySplit([]byte(tt.text)); got != tt.split {
				t.Errorf("read item by item: %v, want %v", got, tt.split)
			}
		})
	}
}

// Errors keep the whole file's lines and columns when the items were
// read apart: a valid file read by split has its positions right.
func TestSplitKeepsPositions(t *testing.T) {
	text := splitHead + "pipelines:\n  - name: a\n    schedule: \"0 3 * * *\"\n    upstreams:\n      - {name: x, type: airflow_dag, connection: af, dag_id: up}\n    trigger: {type: airflow_dag, connection: af, dag_id: d}\n"
	sp := split([]byte(text))
	if sp == nil || len(sp.shifts) != 1 {
		t.Fatalf("split = %+v", sp)
	}
	dec := yaml.NewDecoder(bytes.NewReader(sp.stream))
	var rest yaml.Node
	if err := dec.Decode(&rest); err != nil {
		t.Fatal(err)
	}
	n, ok := itemNode(dec, sp.shifts[0])
	if !ok {
		t.Fatal("item does not parse")
	}
	// "- name: a" is line 6; the mapping starts at column 5.
	if n.Line != 6 || n.Column != 5 {
		t.Errorf("item at %d:%d, want 6:5", n.Line, n.Column)
	}
	trig := n.Content[len(n.Content)-1]
	if trig.Line != 10 || trig.Column != 14 {
		t.Errorf("trigger at %d:%d, want 10:14", trig.Line, trig.Column)
	}
	if !bytes.Contains(sp.stream, []byte("pipelines:\n\n\n\n\n\n---\n")) {
		t.Errorf("the stream does not keep the list's lines:\n%s", sp.stream)
	}
}

func FuzzSplitMatchesWhole(f *testing.F) {
	files, _ := filepath.Glob("testdata/*/*.yaml")
	for _, file := range append(files, "../pipelines.yaml") {
		if data, err := os.ReadFile(file); err == nil {
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		sameEitherWay(t, "fuzz.yaml", data)
	})
}

// BenchmarkParse10k reads a file of 10,000 pipelines like the scale
// benchmark's (cmd/sekisho-bench), item by item and whole, at the GC
// headroom the daemon runs with (50) and at the 20 it once set while
// reading; peak-heap-MiB is the largest heap of live and dead objects
// sampled every millisecond while it reads (BENCHMARKS.md, third round).
func BenchmarkParse10k(b *testing.B) {
	var sb strings.Builder
	sb.WriteString(splitHead + "defaults:\n  poke_interval: 60s\n  timeout: 6h\npipelines:\n")
	for i := range 10000 {
		fmt.Fprintf(&sb, "  - name: p%05d\n    schedule: \"0 3 * * *\"\n    upstreams:\n", i)
		for k := range 3 {
			fmt.Fprintf(&sb, "      - {name: u%d, type: airflow_dag, connection: af, dag_id: up%d}\n", k, (i*3+k)%2000)
		}
		sb.WriteString("    trigger: {type: airflow_dag, connection: af, dag_id: downstream, logical_date: none, conf: {date: \"{{ .LogicalDate }}\"}}\n")
	}
	data := []byte(sb.String())
	env := envOf(secretEnv)
	for _, way := range []struct {
		name  string
		split bool
	}{{"split", true}, {"whole", false}} {
		for _, gogc := range []int{50, 20} {
			b.Run(fmt.Sprintf("%s/gogc=%d", way.name, gogc), func(b *testing.B) {
				defer debug.SetGCPercent(debug.SetGCPercent(gogc))
				runtime.GC()
				peak := sampleHeap()
				b.ReportAllocs()
				for b.Loop() {
					if _, err := parseSplit("big.yaml", data, env, false, way.split); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(peak())/(1<<20), "peak-heap-MiB")
			})
		}
	}
}

// sampleHeap samples the heap's objects, live and dead, every millisecond
// until the returned function is called, which returns the largest.
func sampleHeap() func() uint64 {
	stop, done := make(chan struct{}), make(chan uint64)
	go func() {
		s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		var most uint64
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(s)
			most = max(most, s[0].Value.Uint64())
			select {
			case <-stop:
				done <- most
				return
			case <-t.C:
			}
		}
	}()
	return func() uint64 { close(stop); return <-done }
}

package config

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// TestFillMatchesLoad: a config built in code and filled equals the one
// Load makes of the same file.
func TestFillMatchesLoad(t *testing.T) {
	path := filepath.Join(t.TempDir(), "pipelines.yaml")
	yaml := `version: 1
timezone: Asia/Tokyo
pipelines:
  - {name: a, schedule: "0 2 * * *", upstreams: []}
  - {name: b, schedule: "0 3 * * *", timezone: America/New_York, upstreams: [{name: a, type: pipeline, pipeline: a}]}
`
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	loaded, err := Load(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	built := Fill(&Config{Version: 1, Timezone: "Asia/Tokyo", Pipelines: []*Pipeline{
		{Name: "a", Schedule: "0 2 * * *"},
		{Name: "b", Schedule: "0 3 * * *", Timezone: "America/New_York",
			Upstreams: []Upstream{{Name: "a", Type: TypePipeline, Pipeline: "a"}}},
	}})
	for i, want := range loaded.Pipelines {
		got := built.Pipelines[i]
		if got.Location.String() != want.Location.String() {
			t.Errorf("%s: zone %v, want %v", want.Name, got.Location, want.Location)
		}
		got.Location, want.Location = nil, nil
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\n built %+v\nloaded %+v", want.Name, got, want)
		}
	}
	if built.Location.String() != loaded.Location.String() || built.Slack.Language != loaded.Slack.Language ||
		built.Store.Path != loaded.Store.Path || built.Server.Listen != loaded.Server.Listen {
		t.Errorf("top level: built %+v, loaded %+v", built, loaded)
	}
}

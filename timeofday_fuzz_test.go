package sekisho

import (
	"strings"
	"testing"
	"time"
)

// FuzzRenderTemplate feeds arbitrary conf and note templates, and arbitrary
// upstream ids, to RenderTemplate and RenderConf. Neither may panic; a
// render is deterministic; text without an action renders to itself; and a
// value from the data is printed, never executed as a template.
func FuzzRenderTemplate(f *testing.F) {
	seeds := []struct{ text, extID string }{
		{"{{ .LogicalDate }}", "jr_1"},
		{`{{ .Pipeline }}/{{ .Attempt }} {{ .GateAt }}`, ""},
		{`{{ (index .Upstreams "hegel").ExternalID }}`, "{{ .Pipeline }}"},
		{`{{ .Upstreams.hegel.FinishedAt }}`, "x"},
		{`{{ if eq .Attempt 1 }}first{{ else }}again{{ end }}`, ""},
		{`{{ .Nope }}`, ""},
		{`{{ .Upstreams.missing.ExternalID }}`, ""},
		{`{{ define "a" }}{{ template "a" }}{{ end }}{{ template "a" }}`, ""},
		{`{{ printf "%0999999999d" 1 }}`, ""},
		{`{{`, ""},
		{`plain text, no actions: 関所 $$ }}`, ""},
		{`{{ .LogicalDate | printf "%q" | len }}`, "\x00"},
	}
	for _, s := range seeds {
		f.Add(s.text, s.extID)
	}
	f.Fuzz(func(t *testing.T, text, extID string) {
		// Templates come from pipelines.yaml, which the operators write:
		// a range over a huge number loops as long as its author asks, so
		// loops are left out of this target rather than timed.
		if strings.Contains(text, "range") || len(text) > 4096 {
			t.Skip()
		}
		finished := time.Date(2025, 3, 1, 1, 30, 0, 0, time.UTC)
		data := NewTemplateData(TriggerRequest{Pipeline: "socrates_daily", LogicalDate: "2025-03-01", Attempt: 1,
			GateAt: time.Date(2025, 3, 1, 2, 0, 0, 0, time.UTC), TimeZone: time.FixedZone("JST", 9*3600),
			Upstreams: map[string]Observation{"hegel": {ExternalID: extID, FinishedAt: finished}}})
		got, err := RenderTemplate("note", text, data)
		again, err2 := RenderTemplate("note", text, data)
		if (err == nil) != (err2 == nil) || got != again {
			t.Fatalf("render of %q is not deterministic: %q/%v then %q/%v", text, got, err, again, err2)
		}
		if err == nil && !strings.Contains(text, "{{") && got != text {
			t.Fatalf("text without actions %q rendered as %q", text, got)
		}
		if text == "{{ (index .Upstreams \"hegel\").ExternalID }}" && got != extID {
			t.Fatalf("external id %q rendered as %q: data must not be executed", extID, got)
		}
		conf := map[string]any{"note": text, "list": []any{text, 7, true, nil}, "nested": map[string]any{"k": text}}
		out, err := RenderConf(conf, data)
		if err != nil {
			return
		}
		m, ok := out.(map[string]any)
		if !ok || len(m) != 3 {
			t.Fatalf("RenderConf changed the shape: %#v", out)
		}
		list, ok := m["list"].([]any)
		if !ok || len(list) != 4 || list[1] != 7 || list[2] != true || list[3] != nil {
			t.Fatalf("RenderConf changed non-string scalars: %#v", m["list"])
		}
		if m["note"] != got || list[0] != got || m["nested"].(map[string]any)["k"] != got {
			t.Fatalf("RenderConf rendered %q differently from RenderTemplate (%q): %#v", text, got, m)
		}
	})
}

package sekisho

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestParsedTemplatesAreShared: a text parsed once is executed again for
// each render, by several goroutines at once (the config's check and the
// gates), and an error still names the template it was rendered as, the
// same text under another name included. Past the cache's size a text is
// parsed afresh and renders the same.
func TestParsedTemplatesAreShared(t *testing.T) {
	data := NewTemplateData(TriggerRequest{Pipeline: "p", LogicalDate: "2026-12-07", Attempt: 1,
		GateAt: time.Date(2026, 12, 7, 2, 0, 0, 0, time.UTC), TimeZone: time.UTC})
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got, err := RenderTemplate("conf.date", "{{ .LogicalDate }}/{{ .Attempt }}", data)
			if err != nil || got != "2026-12-07/1" {
				t.Errorf("render %d: %q, %v", i, got, err)
			}
		}()
	}
	wg.Wait()
	for _, name := range []string{"conf.a", "conf.b"} {
		_, err := RenderTemplate(name, "{{ .Nope }}", data)
		if err == nil || !strings.Contains(err.Error(), "template "+name+":") || !strings.Contains(err.Error(), name+":1:") {
			t.Errorf("%s: error %v, want one naming %s", name, err, name)
		}
	}
	for i := range maxTemplates + 10 {
		text := fmt.Sprintf("{{ .Pipeline }}-%d", i)
		if got, err := RenderTemplate("t", text, data); err != nil || got != fmt.Sprintf("p-%d", i) {
			t.Fatalf("%s: %q, %v", text, got, err)
		}
	}
	templates.RLock()
	n := len(templates.m)
	templates.RUnlock()
	if n > maxTemplates {
		t.Fatalf("%d templates kept, want at most %d", n, maxTemplates)
	}
}

package web_test

import (
	"context"
	"strings"
	"testing"
)

// TestTroccoTestSend: the test button of TROCCO's notification screen
// sends job_id 00000; it is answered 200 {"test":true}, changes no run,
// and the board shows when it arrived.
func TestTroccoTestSend(t *testing.T) {
	f := newFixture(t)
	code, _, body := f.do(t, "POST", "/api/v1/events/trocco", writeToken, "application/json",
		`{"pipeline_definition_id": 1234, "job_id": "00000", "status": "succeeded"}`)
	if code != 200 || strings.Join(strings.Fields(body), "") != `{"test":true}` {
		t.Fatalf("test send: %d %s", code, body)
	}
	if len(f.ev.ingests) != 0 || len(f.ev.learns) != 0 {
		t.Errorf("a test send changed runs: ingests %v learns %v", f.ev.ingests, f.ev.learns)
	}
	at, err := f.st.LastEventTest(context.Background(), "trocco")
	if err != nil || !at.Equal(f.clock.Now()) {
		t.Fatalf("last test %v %v, want %v", at, err, f.clock.Now())
	}
	code, _, page := f.do(t, "GET", "/?lang=en", "", "", "")
	if code != 200 || !strings.Contains(page, "Last TROCCO notification test received: <time>2026-11-03 07:00:00 JST</time>") {
		t.Errorf("board does not show the test: %d", code)
	}
	// A real event is still an event.
	if code, _, _ := f.do(t, "POST", "/api/v1/events/trocco", writeToken, "application/json",
		`{"pipeline_definition_id": 1234, "job_id": 5, "status": "succeeded"}`); code != 202 || len(f.ev.learns) != 1 {
		t.Errorf("real event: %d, learns %v", code, f.ev.learns)
	}
}

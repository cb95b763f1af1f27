package engine

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/config"
)

// TestSkippedUpstreams: a skipped upstream run did not produce the day's
// data, so it is a failure of the upstream with the reason shown, for a
// TROCCO job TROCCO skipped and for a pipeline an operator skipped; an
// upstream with skipped_is_success reads the same run as succeeded
// (SPEC §5).
func TestSkippedUpstreams(t *testing.T) {
	transfer := config.Upstream{Name: "sync", Type: config.TypeTroccoJob, JobDefinitionID: 55}
	lenient := transfer
	lenient.SkippedIsSuccess = true
	strict := pipeline("strict", "0 2 * * *", []config.Upstream{transfer}, nil)
	loose := pipeline("loose", "0 2 * * *", []config.Upstream{lenient}, nil)
	src := pipeline("src", "0 2 * * *", []config.Upstream{{Name: "never", Type: config.TypeGlueJob, JobName: "never"}}, nil)
	onSrc := config.Upstream{Name: "src", Type: config.TypePipeline, Pipeline: "src"}
	after := pipeline("after", "0 2 * * *", []config.Upstream{onSrc}, nil)
	onSrc.SkippedIsSuccess = true
	afterLoose := pipeline("after_loose", "0 2 * * *", []config.Upstream{onSrc}, nil)
	h := newHarness(t, jst(1, 1, 0), strict, loose, src, after, afterLoose)
	h.jobs.runs[transfer.Resource().Key()] = []scripted{
		{id: "1001", start: jst(1, 1, 30), end: jst(1, 1, 30), final: sekisho.JobFailed,
			message: "skipped by TROCCO (job 1001)", skipped: true},
	}
	h.runUntil(jst(1, 2, 10), 5*time.Minute, 30*time.Minute)
	if _, err := h.eng.Skip(context.Background(), "src", "2026-11-01", By{Who: ByAPI}); err != nil {
		t.Fatal(err)
	}
	h.runUntil(jst(1, 2, 30), 5*time.Minute, 30*time.Minute)
	var got []string
	for _, line := range h.history() {
		if strings.Contains(line, " 01 ") {
			got = append(got, line)
		}
	}
	want := []string{
		"strict 01 #1 -->waiting gate_opened @01 02:00",
		"strict 01 #1 waiting->blocked upstream_failed @01 02:00",
		"loose 01 #1 -->waiting gate_opened @01 02:00",
		"loose 01 #1 waiting->succeeded condition_met @01 02:00",
		"src 01 #1 -->waiting gate_opened @01 02:00",
		"src 01 #1 waiting->skipped operator_skip @01 02:10",
		"after 01 #1 -->waiting gate_opened @01 02:00",
		"after 01 #1 waiting->blocked upstream_failed @01 02:10",
		"after_loose 01 #1 -->waiting gate_opened @01 02:00",
		"after_loose 01 #1 waiting->succeeded condition_met @01 02:10",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("transitions:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	notices := strings.Join(h.notices(), "\n")
	for _, w := range []string{"strict 01 upstream_failed sync 1001 skipped by TROCCO (job 1001)",
		"after 01 upstream_failed src src/2026-11-01#1 src was skipped"} {
		if !strings.Contains(notices, w) {
			t.Errorf("notices lack %q:\n%s", w, notices)
		}
	}
}

package engine

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/policy/eta"
)

// lineOfThree is the line of SPEC §21's example: ingest waits on a Glue
// export, transform on ingest, mart on transform; each runs a DAG for half
// an hour. Only mart, the station the business reads, has an SLO: 05:00.
func lineOfThree(t *testing.T) *harness {
	ingest := pipeline("ingest", "0 2 * * *", []config.Upstream{glueUp("orders_export", "orders-export")}, dagTrigger)
	transform := pipeline("transform", "0 2 * * *", []config.Upstream{{Name: "ingest", Type: config.TypePipeline, Pipeline: "ingest"}}, dagTrigger)
	mart := pipeline("mart", "0 2 * * *", []config.Upstream{{Name: "transform", Type: config.TypePipeline, Pipeline: "transform"}}, dagTrigger)
	ingest.SLO, transform.SLO = nil, nil
	mart.SLO = &config.SLO{Deadline: tod("05:00"), Objective: 0.95}
	return newHarness(t, jst(1, 1, 0), ingest, transform, mart)
}

// martETA is the projection the loop holds for mart's open run.
func (h *harness) martETA(date string) time.Time {
	h.t.Helper()
	id, ok := h.eng.runs.byKey["mart/"+date]
	if !ok {
		h.t.Fatalf("mart %s is not open", date)
	}
	return h.eng.runs.recs[id].projected.At
}

// TestETAAlongTheLine: seven normal nights send no at_risk; on the eighth
// the export runs two hours late, mart's ETA three stations down moves
// with it, and at_risk fires for mart long before its deadline, naming the
// export and the stations between.
func TestETAAlongTheLine(t *testing.T) {
	h := lineOfThree(t)
	var script []scripted
	for d := 1; d <= 7; d++ { // the export runs 01:00–02:30
		script = append(script, scripted{id: fmt.Sprintf("jr_%d", d), start: jst(d, 1, 0), end: jst(d, 2, 30), final: sekisho.JobSucceeded})
	}
	// Night 8: it runs until 04:30.
	script = append(script, scripted{id: "jr_8", start: jst(8, 1, 0), end: jst(8, 4, 30), final: sekisho.JobSucceeded})
	h.jobs.runs["glue_job:orders-export"] = script

	h.runUntil(jst(7, 2, 45), 5*time.Minute, time.Hour)
	normal := h.martETA("2026-11-07")
	if normal.Before(jst(7, 3, 45)) || normal.After(jst(7, 4, 30)) {
		t.Errorf("on a normal night at 02:45 mart's ETA is %s, want about 04:10", normal.In(tokyo).Format("15:04"))
	}
	h.runUntil(jst(8, 2, 45), 5*time.Minute, time.Hour)
	h.runUntil(jst(8, 3, 15), time.Minute, time.Hour)
	late := h.martETA("2026-11-08")
	if !late.After(normal.AddDate(0, 0, 1).Add(15 * time.Minute)) {
		t.Errorf("with the export overdue mart's ETA is %s, not later than a normal night's %s",
			late.In(tokyo).Format("15:04"), normal.In(tokyo).Format("15:04"))
	}
	h.runUntil(jst(8, 7, 0), time.Minute, time.Hour)

	var atRisk []sekisho.Notice
	ns, err := h.st.AllNotices(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range ns {
		if n.Kind == sekisho.NoticeAtRisk {
			atRisk = append(atRisk, n)
		}
	}
	if len(atRisk) != 1 || atRisk[0].Pipeline != "mart" || atRisk[0].LogicalDate != "2026-11-08" {
		t.Fatalf("at_risk notices: %v, want one for mart on the 8th (none on a normal night)", h.notices())
	}
	n := atRisk[0]
	if !n.CreatedAt.Before(jst(8, 4, 0)) {
		t.Errorf("at_risk came at %s, want well before the 05:00 deadline", n.CreatedAt.In(tokyo).Format("15:04"))
	}
	if n.Facts.Upstream != "orders_export" || !slices.Equal(n.Facts.Via, []string{"ingest", "transform"}) {
		t.Errorf("at_risk names %q via %v, want orders_export via ingest → transform", n.Facts.Upstream, n.Facts.Via)
	}
	if !n.Facts.ExpectedAt.After(jst(8, 5, 0)) {
		t.Errorf("at_risk expects %s, not past the deadline", n.Facts.ExpectedAt.In(tokyo).Format("15:04"))
	}
	t.Logf("at_risk at %s, expecting %s; normal ETA %s, late ETA %s", n.CreatedAt.In(tokyo).Format("15:04"), n.Facts.ExpectedAt.In(tokyo).Format("15:04"), normal.In(tokyo).Format("15:04"), late.In(tokyo).Format("15:04"))
	// The mart is late indeed: the delay follows at the deadline.
	if got := strings.Join(h.notices(), "\n"); !strings.Contains(got, "mart 08 delay @08 05:00") {
		t.Errorf("notices:\n%s", got)
	}
}

// TestHistoriesAreReadOffTheLoop: outside Sync mode the loop never waits
// for a history: the first look at a line asks for it and projects from
// nothing, one worker reads it, and the next look has it, the same
// history a read on the loop gives. A pass's batch (readHistories) is read
// the same way.
func TestHistoriesAreReadOffTheLoop(t *testing.T) {
	h := lineOfThree(t)
	var script []scripted
	for d := 1; d <= 7; d++ {
		script = append(script, scripted{id: fmt.Sprintf("jr_%d", d), start: jst(d, 1, 0), end: jst(d, 2, 30), final: sekisho.JobSucceeded})
	}
	h.jobs.runs["glue_job:orders-export"] = script
	h.runUntil(jst(8, 2, 30), 5*time.Minute, time.Hour)
	ctx := context.Background()
	want, err := eta.Read(ctx, h.st, "mart", "2026-11-08")
	if err != nil {
		t.Fatal(err)
	}
	if want.Stats.N < eta.MinHistory {
		t.Fatalf("mart has %d nights of history, want at least %d", want.Stats.N, eta.MinHistory)
	}
	e := h.eng
	e.opts.Sync = false
	defer func() { e.opts.Sync = true }()
	clear(e.history)
	// The history worker is kept busy until the looks below are made.
	busy, release := make(chan struct{}), make(chan struct{})
	e.spawnOn(ctx, &e.reads.q, 1, func(context.Context) bool { close(busy); <-release; return false })
	<-busy
	if got := e.historyOf(ctx, "mart", "2026-11-08"); got.Stats.N != 0 {
		t.Fatalf("the first look read %d nights on the loop, want none yet", got.Stats.N)
	}
	e.historyOf(ctx, "mart", "2026-11-08") // asked for already: not asked again
	e.reads.q.mu.Lock()
	queued := len(e.reads.q.fns)
	e.reads.q.mu.Unlock()
	if queued != 1 {
		t.Fatalf("%d reads queued for one line, want 1", queued)
	}
	close(release)
	e.wg.Wait()
	if got := e.historyOf(ctx, "mart", "2026-11-08"); !reflect.DeepEqual(got, want) {
		t.Fatalf("history read off the loop %+v, want %+v", got, want)
	}

	clear(e.history)
	var ids []int64
	for id := range e.runs.recs {
		ids = append(ids, id)
	}
	e.readHistories(ctx, ids, jst(8, 2, 30))
	if _, ok := e.history["mart"]; ok {
		t.Fatal("readHistories read on the loop")
	}
	e.wg.Wait()
	e.takeHistories()
	if got, ok := e.history["mart"]; !ok || got.date != "2026-11-08" || !reflect.DeepEqual(got.h, want) {
		t.Fatalf("after the pass's read: %+v, want mart's history of the 8th", got)
	}
}

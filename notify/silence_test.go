package notify

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/store"
)

func TestSilencedPipelineSendsNothingAndKeepsItsSLO(t *testing.T) {
	e := newEnv(t, "webhook")
	ctx := context.Background()
	m := &countingMetrics{n: map[string]int{}}
	WithMetrics(m)(e.s)
	p := e.cfg.Pipeline("socrates_daily")
	sil, err := e.st.AddSilence(ctx, store.Silence{Pipelines: []string{p.Name}, Reason: "RDS maintenance",
		StartsAt: t0.Add(-time.Hour), EndsAt: t0.Add(3 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	r := openRun(t, e.st, p, "2026-11-21")
	r = queue(t, e.st, r, sekisho.StateBlocked, t0, sekisho.Notice{Kind: sekisho.NoticeUpstreamFailed,
		Facts: sekisho.NoticeFacts{Upstream: "hegel_export"}})
	// kant_daily is not silenced: its notice goes out.
	k := openRun(t, e.st, e.cfg.Pipeline("kant_daily"), "2026-11-21")
	queue(t, e.st, k, sekisho.StateFailed, t0, sekisho.Notice{Kind: sekisho.NoticeRunFailed})
	e.pass(t)
	// The silence is expired early; what it held back stays unsent.
	e.clock.Advance(time.Hour)
	if _, err := e.st.ExpireSilence(ctx, sil.ID, e.clock.Now()); err != nil {
		t.Fatal(err)
	}
	e.pass(t)
	msgs := e.sim.Messages()
	if len(msgs) != 1 || !strings.Contains(msgs[0].Text, "kant_daily") {
		t.Fatalf("slack got %d messages %v, want only kant_daily's", len(msgs), msgs)
	}
	ns, _ := e.st.Notices(ctx, r.ID)
	if len(ns) != 1 || ns[0].SentAt.IsZero() || !strings.HasPrefix(ns[0].Text, SilencedPrefix+"RDS maintenance, until ") {
		t.Fatalf("notice = %+v, want it recorded as silenced with the reason", ns)
	}
	if m.n["upstream_failed silenced"] != 1 || m.n["run_failed sent"] != 1 {
		t.Fatalf("metrics = %v", m.n)
	}
	// After the silence the pipeline speaks again, and the day's SLO is recorded all along.
	e.clock.Advance(time.Hour)
	r.FirstSuccessAt = e.clock.Now() // as the engine records a success
	queue(t, e.st, r, sekisho.StateSucceeded, e.clock.Now(), sekisho.Notice{Kind: sekisho.NoticeRecovery})
	e.pass(t)
	if msgs := e.sim.Messages(); len(msgs) != 2 || !strings.Contains(msgs[1].Text, "up to date") {
		t.Fatalf("after the silence: %d messages", len(msgs))
	}
	var met int
	if err := e.st.ReadDB().QueryRowContext(ctx, `SELECT slo_met FROM slo_daily WHERE pipeline = ? AND logical_date = ?`,
		p.Name, "2026-11-21").Scan(&met); err != nil || met != 1 {
		t.Fatalf("slo_met = %d, %v: a silenced day still counts", met, err)
	}
}

package incident

import (
	"testing"
	"time"

	"github.com/sekisho-dev/sekisho"
)

func TestFold(t *testing.T) {
	now := time.Date(2026, 11, 20, 16, 40, 0, 0, time.UTC)
	locate := func(pipeline, upstream string) (string, string) {
		if upstream == "mart" {
			return "", "mart_a"
		}
		return glueKey, ""
	}
	notice := func(p string, kind sekisho.NoticeKind, f sekisho.NoticeFacts) sekisho.Notice {
		return sekisho.Notice{Pipeline: p, LogicalDate: day, RunID: 7, Kind: kind, DedupeKey: string(kind) + p, Facts: f}
	}
	ns := []sekisho.Notice{
		notice("mart_a", sekisho.NoticeUpstreamFailed, sekisho.NoticeFacts{Upstream: "hegel_export", ExternalID: "jr_1", State: sekisho.StateBlocked}),
		notice("mart_b", sekisho.NoticeUpstreamFailed, sekisho.NoticeFacts{Upstream: "hegel_export", ExternalID: "jr_1", State: sekisho.StateBlocked}),
		notice("report_c", sekisho.NoticeUpstreamFailed, sekisho.NoticeFacts{Upstream: "mart", State: sekisho.StateBlocked}),
		notice("report_d", sekisho.NoticeLongRunning, sekisho.NoticeFacts{}),
		notice("kant", sekisho.NoticeRunFailed, sekisho.NoticeFacts{Message: "dag failed"}),
		{Kind: sekisho.NoticeDigest, DedupeKey: "digest"},
	}
	changes, open := Fold(cascade, nil, ns, locate, now)
	if len(changes) != 4 || changes[0].Key() != "job:"+glueKey+"#jr_1" || changes[1].Key() != changes[0].Key() ||
		changes[2].Key() != changes[0].Key() || changes[3].Key() != "run:kant#"+day {
		t.Fatalf("changes = %+v", changes)
	}
	if len(open) != 2 || len(open[0].Members) != 3 {
		t.Fatalf("open = %+v", open)
	}
	if changes[3].Members[0].State != sekisho.StateFailed || changes[3].Cause.State != "failed" {
		t.Fatalf("kant's change = %+v", changes[3])
	}
}

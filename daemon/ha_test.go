package daemon

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/testkit/pgtest"
	"github.com/sekisho-dev/sekisho/testkit/teststore"
)

// A follower keeps a pushed event in the store; the leader's engine takes
// it. Here another replica holds the lease, so this daemon follows.
func TestFollowerKeepsPushedEventsForTheLeader(t *testing.T) {
	url := pgtest.URL(t)
	raw, err := os.ReadFile("../config/testdata/valid/gate_only.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(t.TempDir(), "pipelines.yaml")
	if err := os.WriteFile(cfgPath, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(cfgPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	st, err := teststore.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.ClaimLease(ctx, "the-leader", 0, time.Hour); err != nil {
		t.Fatal(err)
	}
	d, err := New(ctx, Options{Config: cfg, Store: st, Logger: slog.New(slog.DiscardHandler), Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	res := sekisho.Resource{Type: config.TypeGlueJob, ID: "export"}
	run := sekisho.JobRun{ExternalID: "jr_1", State: sekisho.JobSucceeded, FinishedAt: time.Now().UTC()}
	if err := (relayEvents{d}).Ingest(ctx, res, run); err != nil {
		t.Fatalf("a follower refused a pushed event: %v", err)
	}
	got, err := st.TakePushedEvents(ctx, 10)
	if err != nil || len(got) != 1 || got[0].Resource != res || got[0].Run.ExternalID != "jr_1" {
		t.Fatalf("queued for the leader: %+v %v", got, err)
	}
	if c := d.Cluster(); c.Store != "postgres" || c.Role != "follower" {
		t.Fatalf("cluster view before the first claim: %+v", c)
	}
}

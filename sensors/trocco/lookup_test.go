package trocco_test

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/sim/troccosim"
)

func TestStartedAtLooksUpTheJob(t *testing.T) {
	f := newFixture(t, troccosim.Faults{})
	now := f.clk.Now()
	transfer := f.sim.AddJob(55, now.Add(-30*time.Minute), troccosim.Outcome{RunFor: 20 * time.Minute, Status: "succeeded"})
	queued := f.sim.AddJob(55, now.Add(-2*time.Second), troccosim.Outcome{RunFor: time.Hour, Status: "succeeded"})
	f.sim.DefineWorkflow(77, troccosim.Outcome{RunFor: 10 * time.Minute, Status: "succeeded"})
	workflow := f.sim.StartWorkflowJob(77, now.Add(-15*time.Minute), troccosim.Outcome{RunFor: 10 * time.Minute, Status: "succeeded"})
	id := func(n int64) string { return strconv.FormatInt(n, 10) }
	tests := []struct {
		name string
		res  sekisho.Resource
		job  string
		want time.Time
		err  error
	}{
		{"transfer job: its started_at", jobRes("55"), id(transfer), now.Add(-30*time.Minute + 10*time.Second), nil},
		{"queued job: its created_at", jobRes("55"), id(queued), now.Add(-2 * time.Second), nil},
		{"workflow job", wfRes("77"), id(workflow), now.Add(-15*time.Minute + 10*time.Second), nil},
		{"placeholder id", jobRes("55"), "JOB_ID", time.Time{}, sekisho.ErrNotFound},
		{"unknown job", jobRes("55"), "999999", time.Time{}, sekisho.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := f.sensor.StartedAt(context.Background(), tt.res, tt.job)
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("err %v, want %v", err, tt.err)
				}
				return
			}
			if err != nil || !got.Equal(tt.want) {
				t.Fatalf("started %v (%v), want %v", got, err, tt.want)
			}
		})
	}
}

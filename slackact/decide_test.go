package slackact

import (
	"errors"
	"testing"
	"time"

	"github.com/sekisho-dev/sekisho/store"
)

var jst = time.FixedZone("JST", 9*3600)

func TestInterpret(t *testing.T) {
	now := time.Date(2026, 11, 21, 22, 30, 0, 0, jst)
	mart := Target{Pipeline: "mart", Key: "2026-11-21"}
	tests := []struct {
		name  string
		c     Click
		want  Request
		isBad bool
	}{
		{"rerun button", Click{ActionID: ActionRerun, Value: "mart/2026-11-21", ActionTS: "1.1"},
			Request{Kind: store.ActionRerun, Target: mart}, false},
		{"skip of a sub-daily run", Click{ActionID: ActionSkip, Value: "hourly/2026-11-21T13:00", ActionTS: "1.1"},
			Request{Kind: store.ActionSkip, Target: Target{Pipeline: "hourly", Key: "2026-11-21T13:00"}}, false},
		{"ack in 30 minutes", Click{ActionID: ActionAck, Value: "mart/2026-11-21|30m0s", ActionTS: "1.1"},
			Request{Kind: store.ActionAck, Target: mart, ETA: now.Add(30 * time.Minute)}, false},
		{"ack without an ETA", Click{ActionID: ActionAck, Value: "mart/2026-11-21|none", ActionTS: "1.1"},
			Request{Kind: store.ActionAck, Target: mart}, false},
		{"ack at a time later today", Click{ActionID: ActionAck, BlockID: ETABlockPrefix + "mart/2026-11-21", Time: "23:15", ActionTS: "1.1"},
			Request{Kind: store.ActionAck, Target: mart, ETA: time.Date(2026, 11, 21, 23, 15, 0, 0, jst)}, false},
		{"ack at a time that passed today means tomorrow", Click{ActionID: ActionAck, BlockID: ETABlockPrefix + "mart/2026-11-21", Time: "01:00", ActionTS: "1.1"},
			Request{Kind: store.ActionAck, Target: mart, ETA: time.Date(2026, 11, 22, 1, 0, 0, 0, jst)}, false},
		{"silence for an hour", Click{ActionID: ActionSilence, Value: "mart/2026-11-21|1h", ActionTS: "1.1"},
			Request{Kind: store.ActionSilence, Target: mart, Until: now.Add(time.Hour)}, false},
		{"silence to the end of the day", Click{ActionID: ActionSilence, Value: "mart/2026-11-21|eod", ActionTS: "1.1"},
			Request{Kind: store.ActionSilence, Target: mart, Until: time.Date(2026, 11, 22, 0, 0, 0, 0, jst)}, false},
		{"an ETA that is not a preset", Click{ActionID: ActionAck, Value: "mart/2026-11-21|17h", ActionTS: "1.1"}, Request{}, true},
		{"silence without a length", Click{ActionID: ActionSilence, Value: "mart/2026-11-21", ActionTS: "1.1"}, Request{}, true},
		{"no action_ts", Click{ActionID: ActionRerun, Value: "mart/2026-11-21"}, Request{}, true},
		{"another app's action", Click{ActionID: "approve", Value: "mart/2026-11-21", ActionTS: "1.1"}, Request{}, true},
		{"a value naming no run", Click{ActionID: ActionRerun, Value: "mart", ActionTS: "1.1"}, Request{}, true},
		{"a bad time", Click{ActionID: ActionAck, BlockID: ETABlockPrefix + "mart/2026-11-21", Time: "25:99", ActionTS: "1.1"}, Request{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Interpret(tt.c, now, jst)
			if tt.isBad {
				if !errors.Is(err, ErrBadClick) {
					t.Fatalf("err %v, want ErrBadClick", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Kind != tt.want.Kind || got.Target != tt.want.Target || !got.ETA.Equal(tt.want.ETA) || !got.Until.Equal(tt.want.Until) {
				t.Fatalf("got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestAllowed(t *testing.T) {
	groups := map[string][]string{"S0ONCALL": {"U0ONCALL", "U0GONE"}}
	in := func(user string) func(string) bool {
		return func(g string) bool {
			for _, m := range groups[g] {
				if m == user {
					return true
				}
			}
			return false
		}
	}
	ops := []string{"U0OPS", "S0ONCALL", "U0GONE"}
	tests := []struct {
		name   string
		user   string
		owners []string
		want   bool
	}{
		{"an operator", "U0OPS", nil, true},
		{"in an operators' user group", "U0ONCALL", nil, true},
		{"an outsider", "U0OUT", nil, false},
		{"an owner of the pipeline", "U0OWNER", []string{"U0OWNER"}, true},
		{"an operator the pipeline takes away", "U0GONE", []string{"-U0GONE"}, false},
		{"taken away, though in an operators' group", "U0GONE", []string{"-U0GONE"}, false},
		{"a group the pipeline takes away", "U0ONCALL", []string{"-S0ONCALL"}, false},
		{"nobody without a user id", "", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Allowed(tt.user, ops, tt.owners, in(tt.user)); got != tt.want {
				t.Fatalf("Allowed(%s, owners %v) = %v", tt.user, tt.owners, got)
			}
		})
	}
}

func TestMisses(t *testing.T) {
	d := func(p, what, clock string) Deadline {
		at, _ := time.ParseInLocation("2006-01-02 15:04", "2026-11-21 "+clock, jst)
		return Deadline{Pipeline: p, Key: "2026-11-21", What: what, At: at}
	}
	ds := []Deadline{d("mart", "slo", "06:00"), d("report", "slo", "10:00"), d("mart", "sla", "23:59")}
	eta := time.Date(2026, 11, 21, 10, 30, 0, 0, jst)
	got := Misses(eta, ds)
	if len(got) != 2 || got[0].Pipeline != "mart" || got[1].Pipeline != "report" {
		t.Fatalf("misses %+v, want mart's and report's SLO", got)
	}
	if Misses(time.Time{}, ds) != nil {
		t.Fatal("no ETA misses nothing")
	}
}

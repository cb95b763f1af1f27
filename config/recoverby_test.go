package config

import (
	"testing"
	"time"

	"github.com/sekisho-dev/sekisho"
)

func TestRecoverByDefaultsToTheLaterOfDayEndAndDeadline(t *testing.T) {
	tokyo, _ := time.LoadLocation("Asia/Tokyo")
	tod := func(s string) sekisho.TimeOfDay {
		v, err := sekisho.ParseTimeOfDay(s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	p := &Pipeline{Location: tokyo}
	if got := p.RecoverBy("2026-11-21", time.Time{}); !got.Equal(time.Date(2026, 11, 22, 0, 0, 0, 0, tokyo)) {
		t.Errorf("no SLO: %v", got)
	}
	p.SLO = &SLO{Deadline: tod("+1d 06:00"), Objective: 0.95}
	if got := p.RecoverBy("2026-11-21", time.Time{}); !got.Equal(time.Date(2026, 11, 22, 6, 0, 0, 0, tokyo)) {
		t.Errorf("next-morning deadline: %v", got)
	}
	p.SLA.RecoverBy = tod("+1d 09:00")
	if got := p.RecoverBy("2026-11-21", time.Time{}); !got.Equal(time.Date(2026, 11, 22, 9, 0, 0, 0, tokyo)) {
		t.Errorf("explicit: %v", got)
	}
}

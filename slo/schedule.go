package slo

import (
	"time"

	"github.com/sekisho-dev/sekisho/config"
)

// gateTimes returns, for each day in [fromDay, toDay], the instant the
// pipeline's gate opens that day (Unix ms), or 0 when the schedule does not
// fire that day. It asks config.ScheduleFires, the function the engine
// opens gates with, so the report expects a gate exactly when the daemon
// would have opened one (a 02:30 gate on the spring-forward day opens at
// 03:30; a fall-back day has one gate, not two).
func gateTimes(p *config.Pipeline, fromDay, toDay int) []int64 {
	loc := p.Location
	out := make([]int64, toDay-fromDay+1)
	y, m, d := civilFromDays(fromDay)
	from := time.Date(y, time.Month(m), d, 0, 0, 0, 0, loc)
	y, m, d = civilFromDays(toDay + 1)
	to := time.Date(y, time.Month(m), d, 0, 0, 0, 0, loc)
	for _, t := range config.ScheduleFires(p, from, to) {
		y, m, d := t.In(loc).Date()
		if i := daysFromCivil(y, int(m), d) - fromDay; i >= 0 && i < len(out) && out[i] == 0 {
			out[i] = t.UnixMilli()
		}
	}
	return out
}

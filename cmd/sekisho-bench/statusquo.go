package main

import (
	"math"
	"math/rand/v2"
	"sort"
	"time"
)

// statusQuo compares sekisho with what it replaces: the downstream on a
// fixed cron at the hour the upstream is "usually done", calibrated as the
// p80 of the previous month's finish times.
type statusQuo struct {
	months         int
	cronAt         time.Duration // after midnight, averaged over months
	laterNormalP50 time.Duration // normal days: how much later cron starts than sekisho
	laterNormalAvg time.Duration
	early          float64 // share of days cron starts before the upstream finished
	earlyMean      time.Duration
}

// upstreamFinish draws one day's upstream finish time after midnight: the
// export starts at 01:00 (+ up to 5 min of scheduler delay) and runs a
// log-normal 70 min median (sigma 0.2); one day in ten carries a slow
// source or a retry that adds 30–120 min. That is the shape of a nightly
// RDS export or Glue ETL whose input grows and occasionally stalls.
func upstreamFinish(rng *rand.Rand) time.Duration {
	start := time.Hour + time.Duration(rng.Float64()*float64(5*time.Minute))
	run := time.Duration(70 * float64(time.Minute) * math.Exp(0.2*rng.NormFloat64()))
	if rng.Float64() < 0.1 {
		run += time.Duration((30 + rng.Float64()*90) * float64(time.Minute))
	}
	return start + run
}

// compareStatusQuo simulates months of 30 days: each month's cron is the
// p80 of the month before; sekisho starts the downstream gateLatency after
// the upstream finished.
func compareStatusQuo(months int, gateLatency time.Duration) statusQuo {
	rng := rand.New(rand.NewPCG(42, 7))
	prev := make([]time.Duration, 30)
	for i := range prev {
		prev[i] = upstreamFinish(rng)
	}
	var later []time.Duration
	var cronSum, earlySum time.Duration
	early, days := 0, 0
	for m := 0; m < months; m++ {
		cron := p80(prev)
		cronSum += cron
		cur := make([]time.Duration, 30)
		for d := range cur {
			fin := upstreamFinish(rng)
			cur[d] = fin
			days++
			if cron < fin {
				early++
				earlySum += fin - cron
				continue
			}
			later = append(later, cron-(fin+gateLatency))
		}
		prev = cur
	}
	sq := statusQuo{months: months, cronAt: cronSum / time.Duration(months), early: float64(early) / float64(days)}
	if early > 0 {
		sq.earlyMean = earlySum / time.Duration(early)
	}
	sq.laterNormalP50 = pct(later, 50)
	var sum time.Duration
	for _, l := range later {
		sum += l
	}
	if len(later) > 0 {
		sq.laterNormalAvg = sum / time.Duration(len(later))
	}
	return sq
}

func p80(ds []time.Duration) time.Duration {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[int(math.Ceil(0.8*float64(len(s))))-1]
}

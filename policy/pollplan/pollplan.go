// Package pollplan decides when to check an upstream resource next, from
// its own history (SPEC §13): dense near the time of day it usually
// finishes, sparse far from it, moderately dense while it is overdue, and
// never more often than its poke_interval. It is a pure function of its
// input, so the engine, the benchmark and the tests share one answer.
package pollplan

import (
	"slices"
	"time"
)

// Input is what the plan knows about one resource at one moment.
type Input struct {
	Now time.Time
	// Finishes are the end times of the resource's recent runs (its own
	// history, say the last 30 days); only their time of day matters.
	Finishes []time.Time
	// Loc is the zone whose time of day the finishes repeat in (the
	// pipeline's); UTC when nil.
	Loc *time.Location
	// PokeInterval is the shortest interval allowed between checks.
	PokeInterval time.Duration
	// Share is the mean interval between checks of this resource that the
	// connection's budget can carry: the budget's interval times the number
	// of resources drawing from it (zero: unlimited, PokeInterval).
	Share time.Duration
}

// Fractions of Share that set the three paces. Dense polls near the usual
// finish spend a few times the resource's share for a short while; the
// sparse polls far from it give that back.
const (
	denseOfShare   = 8 // near the expected finish: Share/8
	overdueOfShare = 2 // after the usual finish has passed: Share/2
	farOfShare     = 4 // far from it: up to 4×Share
	// quantile bounds the usual finish: the zone runs from the 10th to
	// the 90th percentile of the finishes, so a late day in ten does not
	// widen it.
	quantile = 0.1
)

// Zone is the stretch of the day around the usual finish, as instants
// near Now.
type Zone struct {
	From, To time.Time
}

// Next returns when to check the resource next: at least PokeInterval
// after Now.
func Next(in Input) time.Time {
	dense, overdue, far := paces(in)
	if len(in.Finishes) == 0 {
		// No history: the even pace the budget allows.
		return in.Now.Add(max(in.PokeInterval, in.Share))
	}
	z := ExpectedZone(in)
	var d time.Duration
	switch {
	case in.Now.Before(z.From):
		// Far ahead: halve the distance each check, never jumping into the
		// zone's middle, never sparser than far.
		d = min(max(z.From.Sub(in.Now)/2, dense), far)
		if in.Now.Add(d).After(z.From) {
			d = z.From.Sub(in.Now)
		}
	case !in.Now.After(z.To):
		d = dense
	default:
		d = overdue
	}
	return in.Now.Add(max(d, in.PokeInterval))
}

// paces are the dense, overdue and far intervals for in's share.
func paces(in Input) (dense, overdue, far time.Duration) {
	share := in.Share
	if share <= 0 {
		share = in.PokeInterval
	}
	dense = max(in.PokeInterval, share/denseOfShare)
	overdue = max(in.PokeInterval, share/overdueOfShare)
	far = max(in.PokeInterval, share*farOfShare)
	return dense, overdue, far
}

// overdueFor is how long after the usual finish the overdue pace lasts:
// longer than the stalls and retries of a late day (30 to 120 minutes), after
// which the resource is polled as if tomorrow's finish were next.
const overdueFor = 3 * time.Hour

// ExpectedZone is where the usual finish falls relative to Now: the 10th to
// the 90th percentile of the finishes' times of day, with a margin of two
// dense intervals on each side, placed on the earliest day whose zone has
// not ended more than overdueFor before Now.
func ExpectedZone(in Input) Zone {
	loc := in.Loc
	if loc == nil {
		loc = time.UTC
	}
	// Times of day as offsets from the first finish's, within ±12 hours,
	// so finishes either side of midnight stay together.
	tod := func(t time.Time) time.Duration {
		t = t.In(loc)
		return time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute + time.Duration(t.Second())*time.Second
	}
	ref := tod(in.Finishes[0])
	offs := make([]time.Duration, 0, len(in.Finishes))
	for _, f := range in.Finishes {
		o := tod(f) - ref
		for o > 12*time.Hour {
			o -= 24 * time.Hour
		}
		for o <= -12*time.Hour {
			o += 24 * time.Hour
		}
		offs = append(offs, o)
	}
	slices.Sort(offs)
	lo := offs[int(float64(len(offs)-1)*quantile)]
	hi := offs[int(float64(len(offs)-1)*(1-quantile)+0.5)]
	dense, _, _ := paces(in)
	now := in.Now.In(loc)
	day := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, loc).AddDate(0, 0, -2)
	for {
		base := day.Add(ref) // wall clock ref on day; DST days are off by their shift at most
		z := Zone{From: base.Add(lo - 2*dense), To: base.Add(hi + 2*dense)}
		if z.To.Add(overdueFor).After(now) {
			return z
		}
		day = day.AddDate(0, 0, 1)
	}
}

package fastclock

import (
	"testing"
	"time"
)

var (
	sim  = time.Date(2025, 3, 10, 0, 0, 0, 0, time.UTC)
	real = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
)

func TestArithmetic(t *testing.T) {
	tests := []struct {
		name    string
		speed   float64
		elapsed time.Duration // real time since RealEpoch
		want    time.Time
	}{
		{"at the epoch", 5760, 0, sim},
		{"one real second is 96 simulated minutes", 5760, time.Second, sim.Add(96 * time.Minute)},
		{"fifteen real seconds are a day", 5760, 15 * time.Second, sim.Add(24 * time.Hour)},
		{"before the epoch runs backwards", 60, -time.Second, sim.Add(-time.Minute)},
		{"speed one is the wall clock", 1, 90 * time.Minute, sim.Add(90 * time.Minute)},
		{"fractional speed", 0.5, 10 * time.Second, sim.Add(5 * time.Second)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := New(sim, real, tt.speed)
			if err != nil {
				t.Fatal(err)
			}
			if got := c.at(real.Add(tt.elapsed)); !got.Equal(tt.want) {
				t.Errorf("at(+%s) = %s, want %s", tt.elapsed, got, tt.want)
			}
		})
	}
}

func TestReal(t *testing.T) {
	c, _ := New(sim, real, 6000)
	tests := []struct {
		name string
		d    time.Duration
		want time.Duration
	}{
		{"a minute", time.Minute, 10 * time.Millisecond},
		{"an hour", time.Hour, 600 * time.Millisecond},
		{"floor of a millisecond", time.Second, time.Millisecond},
		{"zero stays zero", 0, 0},
		{"negative is zero", -time.Hour, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := c.Real(tt.d); got != tt.want {
				t.Errorf("Real(%s) = %s, want %s", tt.d, got, tt.want)
			}
		})
	}
}

// TestTwoProcessesAgree: two clocks built from the same three values (as
// the test process and a restarted daemon build them) read the same time.
func TestTwoProcessesAgree(t *testing.T) {
	a, _ := New(sim, time.Now().Add(-3*time.Second), 5760)
	b, err := Parse(a.String())
	if err != nil {
		t.Fatal(err)
	}
	at := time.Now()
	if x, y := a.at(at), b.at(at); !x.Equal(y) {
		t.Errorf("clocks disagree: %s vs %s (from %q)", x, y, a.String())
	}
	if d := a.Now().Sub(sim); d < 4*time.Hour || d > 6*time.Hour {
		t.Errorf("3 real seconds at 5760x read %s after the epoch, want about 4h48m", d)
	}
}

func TestParseErrors(t *testing.T) {
	for _, s := range []string{"", "5760", "x@2025-03-10T00:00:00Z@2026-01-02T03:04:05Z",
		"0@2025-03-10T00:00:00Z@2026-01-02T03:04:05Z", "-1@2025-03-10T00:00:00Z@2026-01-02T03:04:05Z",
		"10@yesterday@2026-01-02T03:04:05Z", "10@2025-03-10T00:00:00Z@now"} {
		if _, err := Parse(s); err == nil {
			t.Errorf("Parse(%q) = nil error", s)
		}
	}
}

// TestTimersScale waits for real: an hour at 36000x is 100 ms.
func TestTimersScale(t *testing.T) {
	c, _ := New(sim, time.Now(), 36000)
	const d = time.Hour // 100 ms real
	within := func(name string, began time.Time) {
		t.Helper()
		if got := time.Since(began); got < 90*time.Millisecond || got > 2*time.Second {
			t.Errorf("%s took %s of real time, want about 100ms", name, got)
		}
	}
	tests := []struct {
		name string
		wait func()
	}{
		{"Sleep", func() { c.Sleep(d) }},
		{"After", func() { <-c.After(d) }},
		{"NewTimer", func() { <-c.NewTimer(d).Chan() }},
		{"AfterFunc", func() {
			done := make(chan struct{})
			c.AfterFunc(d, func() { close(done) })
			<-done
		}},
		{"NewTicker twice", func() {
			tk := c.NewTicker(d / 2)
			defer tk.Stop()
			<-tk.Chan()
			<-tk.Chan()
		}},
		{"Reset timer", func() {
			tm := c.NewTimer(24 * time.Hour)
			tm.Reset(d)
			<-tm.Chan()
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			began := time.Now()
			tt.wait()
			within(tt.name, began)
		})
	}
}

func TestTimerDeliversSimulatedTime(t *testing.T) {
	c, _ := New(sim, time.Now(), 36000)
	got := <-c.After(time.Hour)
	if d := got.Sub(sim); d < time.Hour || d > 3*time.Hour {
		t.Errorf("timer delivered %s, %s after the epoch; want just over an hour", got, d)
	}
}

func TestStoppedTimerStaysQuiet(t *testing.T) {
	c, _ := New(sim, time.Now(), 36000)
	tm := c.NewTimer(time.Hour)
	if !tm.Stop() {
		t.Fatal("Stop of a pending timer = false")
	}
	select {
	case <-tm.Chan():
		t.Fatal("a stopped timer fired")
	case <-time.After(200 * time.Millisecond):
	}
	tk := c.NewTicker(time.Hour)
	tk.Stop()
	tk.Stop() // a double stop is harmless
}

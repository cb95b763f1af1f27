package main

import (
	"testing"
	"time"
)

func TestSummaryLine(t *testing.T) {
	r := result{sc: scenario{pipelines: 10000}, startup: 1500 * time.Millisecond, hwmKB: 128 * 1024,
		cpu: 3 * time.Second, window: time.Minute,
		pushLat: []time.Duration{5 * time.Millisecond, 8 * time.Millisecond}, pollLat: []time.Duration{30 * time.Second}}
	got := summaryLine("0123456789ab", "0.30", r)
	want := "summary commit=0123456789ab load1=0.30 pipelines=10000 startup_s=1.50 peak_rss_mib=128.0 cpu_pct=5.00 push_p50_ms=5.0 push_p99_ms=8.0 poll_p99_s=30.0"
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}

func TestSummaryLineOfAFireInRunAppendsItsFigure(t *testing.T) {
	r := result{sc: scenario{pipelines: 10000, fireIn: 20 * time.Second}, startup: 22500 * time.Millisecond,
		fireToOpen: 1234 * time.Millisecond, openLat: []time.Duration{4 * time.Millisecond, 12 * time.Millisecond}, hwmKB: 128 * 1024, cpu: 3 * time.Second, window: time.Minute,
		pushLat: []time.Duration{5 * time.Millisecond, 8 * time.Millisecond}, pollLat: []time.Duration{30 * time.Second}}
	got := summaryLine("0123456789ab", "0.30", r)
	want := "summary commit=0123456789ab load1=0.30 pipelines=10000 startup_s=22.50 peak_rss_mib=128.0 cpu_pct=5.00 push_p50_ms=5.0 push_p99_ms=8.0 poll_p99_s=30.0 fire_open_s=1.23 open_push_p99_ms=12.0"
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}

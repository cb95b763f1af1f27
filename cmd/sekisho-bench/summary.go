package main

import (
	"fmt"
	"os"
	"runtime/debug"
	"strings"
	"time"
)

// summaryLine is the scale run in one line, to compare commits (grep
// "^summary" in saved outputs): the commit, the load average at the end
// (a loaded machine's figures are not a quiet one's), and the issue #23
// figures.
func summaryLine(commit, load string, r result) string {
	return fmt.Sprintf("summary commit=%s load1=%s pipelines=%d startup_s=%.2f peak_rss_mib=%.1f cpu_pct=%.2f push_p50_ms=%.1f push_p99_ms=%.1f poll_p99_s=%.1f",
		commit, load, r.sc.pipelines, r.startup.Seconds(), float64(r.hwmKB)/1024, 100*r.cpu.Seconds()/r.window.Seconds(),
		float64(pct(r.pushLat, 50))/float64(time.Millisecond), float64(pct(r.pushLat, 99))/float64(time.Millisecond),
		pct(r.pollLat, 99).Seconds()) + fireField(r)
}

// fireField is the -fire-in run's own figures (every gate open after the
// fire instant; the p99 of the events pushed while the gates open),
// appended so the fields before it keep their places: startup_s then
// counts the wait for the fire instant too.
func fireField(r result) string {
	if r.sc.fireIn <= 0 {
		return ""
	}
	return fmt.Sprintf(" fire_open_s=%.2f open_push_p99_ms=%.1f", r.fireToOpen.Seconds(),
		float64(pct(r.openLat, 99))/float64(time.Millisecond))
}

// buildCommit is the VCS revision the binary was built from, "unknown"
// when the build did not stamp one.
func buildCommit() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				return s.Value[:12]
			}
		}
	}
	return "unknown"
}

// loadAverage is the one-minute load average, "?" off Linux.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Fields(string(b))[0]
}

package main

import (
	"encoding/json"
	"strings"
	"testing"
)

const calendarConfigYAML = `version: 1
timezone: Asia/Tokyo
slack: {webhook_url: "${SLACK_WEBHOOK_URL_NEVER_SET}"}
calendars:
  company:
    holidays: ["2026-12-29", "2026-12-30", "2026-12-31"]
    workdays: ["2026-12-05"]
pipelines:
  - name: biz
    schedule: "0 2 * * *"
    calendar: jp_business
    upstreams: []
  - name: close
    schedule: "0 9 * * *"
    calendar: company
    business_day: -1
    upstreams: []
`

// TestCalendarCommand: the days of a pipeline and of a calendar, with
// the reasons, from a config whose secret is unset (no secrets needed).
func TestCalendarCommand(t *testing.T) {
	_, path := writeConfig(t, calendarConfigYAML)
	code, out, errOut := cli(t, "calendar", "-c", path, "--pipeline", "biz", "--from", "2026-11-20", "--days", "5")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	want := "2026-11-20 Fri  gate 02:00 JST\n" +
		"2026-11-21 Sat  no gate  週末\n" +
		"2026-11-22 Sun  no gate  週末\n" +
		"2026-11-23 Mon  no gate  勤労感謝の日\n" +
		"2026-11-24 Tue  gate 02:00 JST\n"
	if out != want {
		t.Fatalf("got\n%s\nwant\n%s", out, want)
	}
	code, out, errOut = cli(t, "calendar", "-c", path, "--pipeline", "close", "--from", "2026-12-27", "--days", "3", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var got struct {
		Days []struct {
			Date   string  `json:"date"`
			GateAt *string `json:"gate_at"`
			Reason string  `json:"reason"`
		} `json:"days"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	// The company's last business day of December is the 28th.
	if len(got.Days) != 3 || got.Days[0].Reason != "週末" || got.Days[1].GateAt == nil ||
		*got.Days[1].GateAt != "2026-12-28T09:00:00+09:00" || got.Days[2].Reason != "会社休日" || got.Days[2].GateAt != nil {
		t.Fatalf("JSON: %s", out)
	}
	code, out, _ = cli(t, "calendar", "-c", path, "--calendar", "company", "--from", "2026-12-05", "--days", "1")
	if code != 0 || out != "2026-12-05 Sat  business day\n" {
		t.Fatalf("company workday: %d %q", code, out)
	}
	if code, _, errOut := cli(t, "calendar", "-c", path); code != 2 || !strings.Contains(errOut, "give --pipeline NAME or --calendar NAME") {
		t.Fatalf("no subject: %d %q", code, errOut)
	}
	if code, _, errOut := cli(t, "calendar", "-c", path, "--calendar", "compnay"); code != 2 || !strings.Contains(errOut, `unknown calendar "compnay"`) {
		t.Fatalf("unknown calendar: %d %q", code, errOut)
	}
}

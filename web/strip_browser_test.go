package web_test

import (
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/marks"
	"github.com/sekisho-dev/sekisho/status"
	"github.com/sekisho-dev/sekisho/testkit/statustest"
)

// stripMark is one mark of a sub-daily card's strip as the browser lays it out.
type stripMark struct {
	Class, Title string
	Left, Right  float64
}

// TestIntervalStripInBrowser (SPEC §19): an hourly pipeline at 20:10,
// whose day has met intervals, one that succeeded late and one without a
// run (both missed their SLO), a failed one, one running and three still
// to come. In headless Chromium, at desktop and phone widths,
// its card draws one mark per interval, 00:00 to 23:00 left to right, each
// named by its hour and state and inside the card; its page lists the same
// 24 intervals in order, and every run of the day (more than the page's
// usual 14 recent runs), newest first.
func TestIntervalStripInBrowser(t *testing.T) {
	f := newFixture(t, func(cfg *config.Config) {
		p := statustest.Pipeline("hourly", tokyo, "")
		p.Schedule = "0 * * * *"
		p.SLO = &config.SLO{Within: 45 * time.Minute, Objective: 0.95}
		cfg.Pipelines = append(cfg.Pipelines, p)
	})
	f.clock.Advance(at(day, "20:10").Sub(f.clock.Now()))
	hour := func(h int) string { return fmt.Sprintf("%02d:00", h) }
	type interval struct {
		state sekisho.State
		late  bool
	}
	want := make([]interval, 24)
	var dayRuns []string // the keys of the day's runs, newest first
	for h := range 24 {
		gate := at(day, hour(h))
		r := statustest.Run{Pipeline: "hourly", Date: day, Key: sekisho.RunKey(gate, tokyo, true), GateAt: gate,
			Deadline: gate.Add(45 * time.Minute), TriggeredAt: gate.Add(5 * time.Minute), StartedAt: gate.Add(6 * time.Minute)}
		done := gate.Add(20 * time.Minute)
		switch {
		case h == 4: // succeeded past its 45 minutes
			done = gate.Add(70 * time.Minute)
			r.State, r.FinishedAt, r.FirstSuccessAt = sekisho.StateSucceeded, done, done
			want[h] = interval{sekisho.StateSucceeded, true}
		case h == 5: // its gate passed without a run
			want[h] = interval{sekisho.StateMissed, false}
			continue
		case h == 19:
			r.State, r.FinishedAt, r.Message = sekisho.StateFailed, done, "task aggregate failed"
			want[h] = interval{sekisho.StateFailed, false}
		case h == 20:
			r.State = sekisho.StateRunning
			want[h] = interval{sekisho.StateRunning, false}
		case h > 20:
			want[h] = interval{sekisho.StateScheduled, false}
			continue
		default:
			r.State, r.FinishedAt, r.FirstSuccessAt = sekisho.StateSucceeded, done, done
			want[h] = interval{sekisho.StateSucceeded, false}
		}
		statustest.Put(t, f.st, r)
		dayRuns = append([]string{r.Key}, dayRuns...)
	}
	// label is an interval's mark and word: a success past its 45
	// minutes is late (🐢), as the legend says, not met (✅).
	label := func(iv interval) (string, string) {
		if iv.late {
			return marks.Late.Emoji, marks.Late.Word("en")
		}
		return status.Label(iv.state, false, "en")
	}
	var wantTitles []string
	for h, iv := range want {
		_, word := label(iv)
		wantTitles = append(wantTitles, hour(h)+" "+word)
	}
	if len(dayRuns) <= 14 {
		t.Fatalf("the fixture's day has %d runs; it must hold more than the page's 14 recent runs", len(dayRuns))
	}

	srv := httptest.NewServer(f.h)
	defer srv.Close()
	ctx, consoleProblems := newBrowser(t)
	for _, v := range browserViews {
		if err := chromedp.Do(ctx, v.emulate(), chromedp.Navigate(srv.URL+"/?lang=en"), chromedp.WaitVisible("#p-hourly .strip")); err != nil {
			t.Fatalf("%s board: %v", v.name, err)
		}
		marks := run(t, ctx, chromedp.Evaluate[[]stripMark](`[...document.querySelectorAll('#p-hourly .strip li')].map(li => {
			const r = li.getBoundingClientRect();
			return {Class: li.className, Title: li.title, Left: r.left, Right: r.right};
		})`))
		card := run(t, ctx, chromedp.Evaluate[stripMark](`(() => { const r = document.querySelector('#p-hourly').getBoundingClientRect(); return {Left: r.left, Right: r.right}; })()`))
		if len(marks) != 24 {
			t.Fatalf("%s: %d marks on the strip, want 24", v.name, len(marks))
		}
		for h, m := range marks {
			if m.Title != wantTitles[h] || m.Class != "s-"+string(want[h].state) {
				t.Errorf("%s: mark %d is %q (%s), want %q (s-%s)", v.name, h, m.Title, m.Class, wantTitles[h], want[h].state)
			}
			if m.Right <= m.Left || m.Left < card.Left || m.Right > card.Right {
				t.Errorf("%s: mark %s spans %.1f-%.1f, outside the card's %.1f-%.1f", v.name, hour(h), m.Left, m.Right, card.Left, card.Right)
			}
			if h > 0 && m.Left < marks[h-1].Right {
				t.Errorf("%s: mark %s (at %.1f) is not right of %s (ending at %.1f)", v.name, hour(h), m.Left, hour(h-1), marks[h-1].Right)
			}
		}

		if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/pipelines/hourly?lang=en"), chromedp.WaitVisible(".intervals")); err != nil {
			t.Fatalf("%s pipeline page: %v", v.name, err)
		}
		listed := run(t, ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('.intervals li')].map(li => li.textContent.trim())`))
		var wantListed []string
		for h, title := range wantTitles {
			e, _ := label(want[h])
			wantListed = append(wantListed, e+" "+title)
		}
		if !slices.Equal(listed, wantListed) {
			t.Errorf("%s: the page lists the intervals\n%q\nwant\n%q", v.name, listed, wantListed)
		}
		runs := run(t, ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('.runs summary')].map(s => s.textContent)`))
		var keys []string
		for _, s := range runs {
			for _, f := range strings.Fields(s) {
				if strings.HasPrefix(f, day+"T") {
					keys = append(keys, f)
				}
			}
		}
		if !slices.Equal(keys, dayRuns) {
			t.Errorf("%s: the page's runs of the day\n%q\nwant\n%q", v.name, keys, dayRuns)
		}
		if overflow := run(t, ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth + 1`)); overflow {
			t.Errorf("%s: the pipeline page is wider than the screen", v.name)
		}
		if dir := os.Getenv("SEKISHO_SCREENSHOT_DIR"); dir != "" {
			png := run(t, ctx, chromedp.FullScreenshot(100))
			if err := os.WriteFile(filepath.Join(dir, "intervals-"+v.name+".png"), png, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	if p := consoleProblems(); len(p) > 0 {
		t.Errorf("browser console reported problems:\n%s", strings.Join(p, "\n"))
	}
}

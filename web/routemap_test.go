package web_test

import (
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/sekisho-dev/sekisho/config"
)

// TestRouteMapInBrowser draws /map in headless Chromium at desktop and
// phone widths: every pipeline and impact is a station, the failure's line
// is in the alert colour with its reason beside it, the page itself does
// not overflow a phone (the map scrolls in its own box), and nothing
// reaches the console.
func TestRouteMapInBrowser(t *testing.T) {
	f := newFixture(t, func(c *config.Config) { c.Pipeline("slow").Impacts = []string{"Weekly KPI mail"} })
	srv := httptest.NewServer(f.h)
	defer srv.Close()
	ctx, consoleProblems := newBrowser(t)
	shotDir := os.Getenv("SEKISHO_SCREENSHOT_DIR")
	for _, v := range browserViews {
		// Japanese first: its words are the widest.
		if err := chromedp.Do(ctx, v.emulate(), chromedp.Navigate(srv.URL+"/map?lang=ja"), chromedp.WaitVisible("svg.routemap")); err != nil {
			t.Fatalf("%s: %v", v.name, err)
		}
		checkMapLabels(t, ctx, v.name+" ja")
		if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/map?lang=en"), chromedp.WaitVisible("svg.routemap")); err != nil {
			t.Fatalf("%s: %v", v.name, err)
		}
		checkMapLabels(t, ctx, v.name+" en")
		if v.mobile {
			checkDashboardsReachable(t, ctx, v.name)
		}
		stations := run(t, ctx, chromedp.Evaluate[[]string](
			`[...document.querySelectorAll('.rm-station')].map(g => g.dataset.kind + ':' + g.dataset.name)`))
		for _, want := range []string{"pipeline:normal", "pipeline:broken", "pipeline:mart", "pipeline:slow",
			"impact:Tableau: 売上ダッシュボード", "impact:Service dashboard (reverse ETL)",
			"system:Glue hegel-rds-export", "system:TROCCO workflow 1234"} {
			if !contains(stations, want) {
				t.Errorf("%s: no station %q among %v", v.name, want, stations)
			}
		}
		// Drawn, not merely present: every station has a visible box.
		hidden := run(t, ctx, chromedp.Evaluate[int](
			`[...document.querySelectorAll('.rm-station')].filter(g => { const b = g.getBBox(); return b.width === 0 || b.height === 0 }).length`))
		if hidden != 0 {
			t.Errorf("%s: %d stations drawn with no size", v.name, hidden)
		}
		alertColour := run(t, ctx, chromedp.Evaluate[string](`getComputedStyle(document.querySelector('.rm-track.rm-alert:not(.rm-late)')).stroke`))
		plainColour := run(t, ctx, chromedp.Evaluate[string](`getComputedStyle(document.querySelector('.rm-track:not(.rm-alert)')).stroke`))
		if alertColour != "rgb(207, 34, 46)" || plainColour == alertColour {
			t.Errorf("%s: alert line %s, plain line %s", v.name, alertColour, plainColour)
		}
		// slow is only late: its station and its line are in the late
		// colour, never the failure's red.
		lateColours := run(t, ctx, chromedp.Evaluate[[]string](`[
			getComputedStyle(document.querySelector('.rm-station[data-name="slow"] .rm-dot')).stroke,
			...[...document.querySelectorAll('.rm-track.rm-late')].map(e => getComputedStyle(e).stroke)]`))
		if len(lateColours) < 2 {
			t.Errorf("%s: no late line into slow: %v", v.name, lateColours)
		}
		for _, c := range lateColours {
			if c != "rgb(154, 103, 0)" {
				t.Errorf("%s: a late pipeline drawn in %s, want the late colour rgb(154, 103, 0): %v", v.name, c, lateColours)
				break
			}
		}
		reasons := run(t, ctx, chromedp.Evaluate[string](`[...document.querySelectorAll('.rm-reason')].map(e => e.textContent).join(' | ')`))
		if !strings.Contains(reasons, "Failed") {
			t.Errorf("%s: reasons beside the failure: %q", v.name, reasons)
		}
		legend := run(t, ctx, chromedp.Text(".rm-legend"))
		if !strings.Contains(legend, "lines a failure reaches") {
			t.Errorf("%s: legend %q", v.name, legend)
		}
		if run(t, ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth + 1`)) {
			t.Errorf("%s: the page is wider than the screen", v.name)
		}
		png := run(t, ctx, chromedp.FullScreenshot(100))
		if shotDir != "" {
			if err := os.WriteFile(filepath.Join(shotDir, "map-"+v.name+".png"), png, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	// The board links to the map, in Japanese too.
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/?lang=ja"), chromedp.WaitVisible(".maplink")); err != nil {
		t.Fatal(err)
	}
	if href := run(t, ctx, chromedp.Evaluate[string](`document.querySelector('.maplink a').getAttribute('href')`)); href != "/map?lang=ja" {
		t.Errorf("board's map link %q", href)
	}
	if p := consoleProblems(); len(p) > 0 {
		t.Errorf("browser console reported problems:\n%s", strings.Join(p, "\n"))
	}
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// checkMapLabels: no two labels of the map overlap, and each fits inside
// the map, comparing the boxes the browser drew the text in; every label
// carries its whole text as a tooltip, so a cut one can be read.
func checkMapLabels(t *testing.T, ctx context.Context, view string) {
	t.Helper()
	overlaps := run(t, ctx, chromedp.Evaluate[[]string](`(() => {
		const svg = document.querySelector('svg.routemap').getBoundingClientRect();
		const boxes = [...document.querySelectorAll('.rm-station text, .rm-head')].map(e => {
			const b = e.getBoundingClientRect();
			return {n: e.textContent, l: b.left, r: b.right, t: b.top, b: b.bottom};
		});
		const out = [];
		for (let i = 0; i < boxes.length; i++) {
			const a = boxes[i];
			if (a.r > svg.right + 0.5 || a.l < svg.left - 0.5) out.push(a.n + ' sticks out of the map');
			for (let j = i + 1; j < boxes.length; j++) {
				const c = boxes[j];
				if (a.l < c.r - 0.5 && c.l < a.r - 0.5 && a.t < c.b - 0.5 && c.t < a.b - 0.5) out.push(a.n + ' ⟷ ' + c.n);
			}
		}
		return out;
	})()`))
	if len(overlaps) > 0 {
		t.Errorf("%s: labels overlap:\n%s", view, strings.Join(overlaps, "\n"))
	}
	untitled := run(t, ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('.rm-station')]
		.filter(g => !g.querySelector(':scope > title') || !g.querySelector(':scope > title').textContent.includes(g.dataset.name))
		.map(g => g.dataset.name)`))
	if len(untitled) > 0 {
		t.Errorf("%s: stations without their whole name as a tooltip: %v", view, untitled)
	}
}

// checkDashboardsReachable: on a phone the dashboards column (the
// impacts) is in view, or a visible cue leads there, and following it
// brings a dashboard into view.
func checkDashboardsReachable(t *testing.T, ctx context.Context, view string) {
	t.Helper()
	const impactInView = `(() => {
		const box = document.querySelector('.rm-scroll').getBoundingClientRect();
		return [...document.querySelectorAll('.rm-impact')].some(g => {
			const b = g.getBoundingClientRect();
			return b.width > 0 && b.left >= box.left && b.right <= box.right + 1;
		});
	})()`
	if run(t, ctx, chromedp.Evaluate[bool](impactInView)) {
		return
	}
	cue := run(t, ctx, chromedp.Evaluate[bool](`(() => {
		const c = document.querySelector('.rm-cue');
		if (!c || c.hidden) return false;
		const b = c.getBoundingClientRect();
		return b.width > 0 && b.top >= 0 && b.bottom <= innerHeight && b.right <= innerWidth;
	})()`))
	if !cue {
		t.Fatalf("%s: the dashboards are off screen and nothing says so", view)
	}
	if err := chromedp.Do(ctx, chromedp.Click(".rm-cue")); err != nil {
		t.Fatal(err)
	}
	if !run(t, ctx, chromedp.Evaluate[bool](impactInView)) {
		t.Errorf("%s: following the cue brought no dashboard into view", view)
	}
	if !run(t, ctx, chromedp.Evaluate[bool](`document.querySelector('.rm-cue').hidden`)) {
		t.Errorf("%s: the cue stays once the dashboards are in view", view)
	}
}

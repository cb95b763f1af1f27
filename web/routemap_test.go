package web_test

import (
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestRouteMapInBrowser draws /map in headless Chromium at desktop and
// phone widths: every pipeline and impact is a station, the failure's line
// is in the alert colour with its reason beside it, the page itself does
// not overflow a phone (the map scrolls in its own box), and nothing
// reaches the console.
func TestRouteMapInBrowser(t *testing.T) {
	f := newFixture(t)
	srv := httptest.NewServer(f.h)
	defer srv.Close()
	ctx, consoleProblems := newBrowser(t)
	shotDir := os.Getenv("SEKISHO_SCREENSHOT_DIR")
	for _, v := range browserViews {
		if err := chromedp.Do(ctx, v.emulate(), chromedp.Navigate(srv.URL+"/map?lang=en"), chromedp.WaitVisible("svg.routemap")); err != nil {
			t.Fatalf("%s: %v", v.name, err)
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
		alertColour := run(t, ctx, chromedp.Evaluate[string](`getComputedStyle(document.querySelector('.rm-track.rm-alert')).stroke`))
		plainColour := run(t, ctx, chromedp.Evaluate[string](`getComputedStyle(document.querySelector('.rm-track:not(.rm-alert)')).stroke`))
		if alertColour != "rgb(207, 34, 46)" || plainColour == alertColour {
			t.Errorf("%s: alert line %s, plain line %s", v.name, alertColour, plainColour)
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

package web_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBoardInBrowser loads the board in headless Chromium at desktop and
// phone widths: the texts a business user reads must be there, the page
// must not overflow a phone screen, and nothing may reach the console
// (a CSP violation by an inline script or style would).
func TestBoardInBrowser(t *testing.T) {
	f := newFixture(t)
	srv := httptest.NewServer(f.h)
	defer srv.Close()
	ctx, consoleProblems := newBrowser(t)
	shotDir := os.Getenv("SEKISHO_SCREENSHOT_DIR")
	for _, v := range browserViews {
		for _, pg := range []struct{ name, path string }{{"board", "/?lang=en"}, {"pipeline", "/pipelines/normal?lang=ja"}} {
			if err := chromedp.Do(ctx, v.emulate(), chromedp.Navigate(srv.URL+pg.path), chromedp.WaitVisible(".card")); err != nil {
				t.Fatalf("%s %s: %v", v.name, pg.name, err)
			}
			body := run(t, ctx, chromedp.Text("body"))
			overflow := run(t, ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth + 1`))
			png := run(t, ctx, chromedp.FullScreenshot(100))
			var banner, affected string
			if pg.name == "board" {
				banner = run(t, ctx, chromedp.Text(".banner"))
				affected = run(t, ctx, chromedp.Text(".affected"))
			}
			if pg.name == "board" {
				if !strings.Contains(banner, "🚨 Some data may be missing or late") {
					t.Errorf("%s: banner %q", v.name, banner)
				}
				for _, want := range []string{"broken", "Failed", "task load_sales failed", "mart", "Service dashboard (reverse ETL)"} {
					if !strings.Contains(affected, want) {
						t.Errorf("%s: affected section lacks %q: %q", v.name, want, affected)
					}
				}
				for _, want := range []string{"slow", "Late", `<script>alert("x")</script> sales mart`} {
					if !strings.Contains(body, want) {
						t.Errorf("%s: board lacks %q", v.name, want)
					}
				}
			} else if !strings.Contains(body, "最近の実行") || !strings.Contains(body, "完了時刻と所要時間") {
				t.Errorf("%s: pipeline page text: %.300q", v.name, body)
			}
			if overflow {
				t.Errorf("%s %s: the page is wider than the screen", v.name, pg.name)
			}
			name := fmt.Sprintf("%s-%s.png", pg.name, v.name)
			if err := os.WriteFile(filepath.Join(t.TempDir(), name), png, 0o644); err != nil {
				t.Fatal(err)
			}
			if shotDir != "" {
				if err := os.WriteFile(filepath.Join(shotDir, name), png, 0o644); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	if p := consoleProblems(); len(p) > 0 {
		t.Errorf("browser console reported problems:\n%s", strings.Join(p, "\n"))
	}
}

// browserViews are the screens every page is checked on.
var browserViews = []browserView{{"desktop", 1280, 900, false}, {"phone", 390, 844, true}}

type browserView struct {
	name          string
	width, height int64
	mobile        bool
}

func (v browserView) emulate() chromedp.Action[chromedp.Void] {
	if v.mobile {
		return chromedp.EmulateViewport(v.width, v.height, chromedp.EmulateMobile, chromedp.EmulateScale(2))
	}
	return chromedp.EmulateViewport(v.width, v.height)
}

// newBrowser starts headless Chromium for one test (skipped without it,
// unless CI is set) and returns its context and a function that reports
// what reached the console as an error, a warning or an exception.
func newBrowser(t *testing.T) (context.Context, func() []string) {
	t.Helper()
	chromium, err := exec.LookPath("/usr/bin/chromium")
	if err != nil {
		if chromium, err = exec.LookPath("chromium"); err != nil {
			if os.Getenv("CI") == "" {
				t.Skip("chromium is not installed (apt-get install chromium); under CI=true this fails")
			}
			t.Fatal("chromium is not installed, and CI is set: install it (apt-get install chromium)")
		}
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium),
		chromedp.Flag("headless", true), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.NoFirstRun, chromedp.UserDataDir(t.TempDir()),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelA)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(cancel)
	ctx, cancelT := context.WithTimeout(ctx, 60*time.Second)
	t.Cleanup(cancelT)

	var mu sync.Mutex
	var problems []string
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.Type == chromedp.ConsoleWarning || m.IsException() {
				mu.Lock()
				problems = append(problems, m.String()+" "+m.URL)
				mu.Unlock()
			}
		}
	}()
	return ctx, func() []string {
		// A round trip after the last page, so its messages have arrived.
		run(t, ctx, chromedp.Evaluate[bool](`true`))
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), problems...)
	}
}

func run[T any](t *testing.T, ctx context.Context, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

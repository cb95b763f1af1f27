package web_test

import (
	"regexp"
	"strings"
	"testing"
)

// TestBoardWords: the Japanese board speaks Japanese for upstream states
// too, the legend gives each mark one entry, and the cards' subtitle
// names the 30 days once.
func TestBoardWords(t *testing.T) {
	f := newFixture(t)
	_, _, ja := f.do(t, "GET", "/?lang=ja", "", "", "")
	_, ups, _ := strings.Cut(ja, `<ul class="ups">`)
	ups, _, _ = strings.Cut(ups, "</ul>")
	if !strings.Contains(ups, "完了 02:50") {
		t.Errorf("upstream state on the Japanese board: %q, want 完了 02:50", ups)
	}
	for _, en := range []string{"succeeded", "failed", "pending", "running"} {
		if regexp.MustCompile(`class="muted">` + en).MatchString(ja) {
			t.Errorf("the Japanese board shows the upstream state %q untranslated", en)
		}
	}
	for _, lang := range []string{"ja", "en"} {
		_, _, page := f.do(t, "GET", "/?lang="+lang, "", "", "")
		_, legend, _ := strings.Cut(page, `<footer class="legend">`)
		legend, _, _ = strings.Cut(legend, "</footer>")
		seen := map[string]bool{}
		for _, m := range regexp.MustCompile(`<span class="c-[a-z_]+">(\S+) `).FindAllStringSubmatch(legend, -1) {
			if seen[m[1]] {
				t.Errorf("%s legend: %s has two entries: %s", lang, m[1], legend)
			}
			seen[m[1]] = true
		}
		if len(seen) < 5 {
			t.Errorf("%s legend: %d marks: %s", lang, len(seen), legend)
		}
		if want := map[string]string{"ja": "🚨 失敗・タイムアウト・実行なし", "en": "🚨 failed / timed out / missed"}[lang]; !strings.Contains(legend, want) {
			t.Errorf("%s legend: %q, want %q", lang, legend, want)
		}
	}
	_, h2, _ := strings.Cut(ja, `<section class="pipelines">`)
	h2, _, _ = strings.Cut(h2, "</h2>")
	if n := strings.Count(h2, "直近30日"); n != 1 {
		t.Errorf("the cards' heading names the 30 days %d times: %q", n, h2)
	}
}

package web_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/testkit/statustest"
)

// The board shows its pipeline cards 200 a page (a board of 10,000 was one
// page of every card and its history: seconds and hundreds of MB a view),
// with links between the pages; what is in trouble, above the cards, is of
// every pipeline on every page. A page past the last shows the last; one
// that is not a number from 1 is refused.
func TestBoardPagesItsCards(t *testing.T) {
	f := newFixture(t, func(c *config.Config) {
		for i := range 446 {
			c.Pipelines = append(c.Pipelines, statustest.Pipeline(fmt.Sprintf("many_%03d", i), tokyo, "06:00"))
		}
	})
	cards := func(body string) int { return strings.Count(body, `<article class="card`) }
	code, _, body := f.do(t, "GET", "/?lang=en", "", "", "")
	if code != 200 || cards(body) != 200 || !strings.Contains(body, "pipelines 1–200 of 450") ||
		!strings.Contains(body, `href="/?page=2&amp;lang=en"`) || strings.Contains(body, "previous page") {
		t.Fatalf("page 1: %d, %d cards", code, cards(body))
	}
	if !strings.Contains(body, `id="p-normal"`) || strings.Contains(body, `id="p-many_300"`) {
		t.Error("page 1 should hold the first pipelines of the config, in order")
	}
	for _, target := range []string{"/?page=3&lang=en", "/?page=99&lang=en"} {
		code, _, body = f.do(t, "GET", target, "", "", "")
		if code != 200 || cards(body) != 50 || !strings.Contains(body, "pipelines 401–450 of 450") ||
			!strings.Contains(body, `href="/?page=2&amp;lang=en"`) || strings.Contains(body, "next page") {
			t.Fatalf("%s: %d, %d cards", target, code, cards(body))
		}
		// broken's trouble, with its summary, is listed on every page,
		// though its card is on the first.
		if !strings.Contains(body, `href="/pipelines/broken?lang=en"`) || strings.Contains(body, `id="p-broken"`) ||
			!strings.Contains(body, "Processing failed. task load_sales failed") {
			t.Errorf("%s: the affected section should list broken, and its card should not be here", target)
		}
	}
	for _, bad := range []string{"0", "-1", "two"} {
		if code, _, _ := f.do(t, "GET", "/?page="+bad, "", "", ""); code != 400 {
			t.Errorf("page %s: %d, want 400", bad, code)
		}
	}
	if _, _, body := f.do(t, "GET", "/?lang=ja&page=2", "", "", ""); !strings.Contains(body, "全 450 件中 201–400 件目") {
		t.Error("the page text in Japanese")
	}
}

// The affected section lists the first 50 troubled pipelines (board
// order) and counts the rest, in the page's language; the API lists every
// one. With 10,000 late, a page of all of them took 55 MB (affectedShown).
func TestBoardCapsTheAffectedList(t *testing.T) {
	const late = 60
	f := newFixture(t, func(c *config.Config) {
		for i := range late {
			c.Pipelines = append(c.Pipelines, statustest.Pipeline(fmt.Sprintf("late_%02d", i), tokyo, "06:00"))
		}
	})
	for i := range late {
		statustest.Put(t, f.st, statustest.Run{Pipeline: fmt.Sprintf("late_%02d", i), Date: day, State: sekisho.StateWaiting,
			GateAt: at(day, "02:00"), Deadline: at(day, "06:00")})
	}
	// broken, slow (late, silenced) and the 60: 62 troubled.
	affected := func(body string) string {
		_, sec, _ := strings.Cut(body, `<section class="affected">`)
		sec, _, _ = strings.Cut(sec, "</section>")
		return sec
	}
	for lang, more := range map[string]string{"en": "and 12 more", "ja": "ほか 12 件"} {
		_, _, body := f.do(t, "GET", "/?lang="+lang, "", "", "")
		sec := affected(body)
		if n := strings.Count(sec, `<li class="incident">`); n != 50 {
			t.Errorf("%s: %d pipelines listed as affected, want 50", lang, n)
		}
		if !strings.Contains(sec, more) || !strings.Contains(sec, ">broken<") || !strings.Contains(sec, ">late_47<") ||
			strings.Contains(sec, ">late_48<") {
			t.Errorf("%s: want broken, slow and late_00…late_47 listed, then %q: %s", lang, more, sec)
		}
	}
	_, _, api := f.do(t, "GET", "/api/v1/status", "", "", "")
	if n := strings.Count(api, `"late": true`); n < late+1 {
		t.Errorf("the API lists %d late pipelines, want every one (%d and slow)", n, late)
	}
	// Under the cap, no count.
	g := newFixture(t)
	_, _, body := g.do(t, "GET", "/?lang=en", "", "", "")
	if sec := affected(body); !strings.Contains(sec, ">broken<") || strings.Contains(sec, "more") {
		t.Errorf("a short affected list: %s", sec)
	}
}

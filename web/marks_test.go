package web_test

import (
	"bytes"
	"context"
	"fmt"
	"html"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/marks"
	"github.com/sekisho-dev/sekisho/metrics"
	"github.com/sekisho-dev/sekisho/notify"
	"github.com/sekisho-dev/sekisho/status"
	"github.com/sekisho-dev/sekisho/testkit/statustest"
	"github.com/sekisho-dev/sekisho/web"
)

// TestMarksAgreeOnEverySurface renders every state a listing can show,
// stored or not, through the board, `sekisho status`, the Slack digest and
// a thread's status line, and expects the one mark and word of package
// marks on each, and no emoji (on those and the route map) that is in no
// mark of the table.
func TestMarksAgreeOnEverySurface(t *testing.T) {
	st := statustest.Open(t)
	type row struct {
		state sekisho.State
		late  bool
	}
	rows := map[string]row{}
	var ps []*config.Pipeline
	add := func(name string, r row, p *config.Pipeline) {
		rows[name] = r
		ps = append(ps, p)
	}
	for _, s := range sekisho.States {
		name := "p_" + string(s)
		add(name, row{state: s}, statustest.Pipeline(name, tokyo, "08:00"))
		statustest.Put(t, st, statustest.Run{Pipeline: name, Date: day, State: s, GateAt: at(day, "02:00"), Deadline: at(day, "08:00"),
			FinishedAt: at(day, "05:00"), FirstSuccessAt: firstSuccess(s, at(day, "05:00"))})
	}
	add("p_late", row{state: sekisho.StateRunning, late: true}, statustest.Pipeline("p_late", tokyo, "06:00"))
	statustest.Put(t, st, statustest.Run{Pipeline: "p_late", Date: day, State: sekisho.StateRunning, GateAt: at(day, "02:00"),
		Deadline: at(day, "06:00"), StartedAt: at(day, "03:00")})
	later := statustest.Pipeline("p_scheduled", tokyo, "")
	later.Schedule = "0 23 * * *"
	add("p_scheduled", row{state: sekisho.StateScheduled}, later)
	add("p_missed", row{state: sekisho.StateMissed}, statustest.Pipeline("p_missed", tokyo, ""))
	statustest.Put(t, st, statustest.Run{Pipeline: "p_missed", Date: "2026-11-01", State: sekisho.StateSucceeded, GateAt: at("2026-11-01", "02:00")})
	monday := statustest.Pipeline("p_no_gate", tokyo, "")
	monday.Schedule = "0 2 * * 1" // 2026-11-03 is a Tuesday
	add("p_no_gate", row{state: sekisho.StateNoGate}, monday)

	now := at(day, "07:00")
	for _, lang := range []string{"ja", "en"} {
		cfg := config.Fill(&config.Config{Location: tokyo, Slack: config.Slack{Language: lang}, Pipelines: ps})
		h := web.New(web.Options{Config: func() *config.Config { return cfg }, Store: st, Operator: &fakeOperator{},
			Events: &fakeEvents{}, Metrics: metrics.New(), Clock: clockwork.NewFakeClockAt(now)})
		f := &fixture{h: h}
		_, _, page := f.do(t, "GET", "/?lang="+lang, "", "", "")
		b, err := status.Build(context.Background(), st, cfg, "", now)
		if err != nil {
			t.Fatal(err)
		}
		var table bytes.Buffer
		if err := status.WriteTable(&table, b); err != nil {
			t.Fatal(err)
		}
		entries, err := notify.BuildDigest(context.Background(), cfg, st, now)
		if err != nil {
			t.Fatal(err)
		}
		digest := notify.DigestText(lang, day, entries, "") + "\n"
		_, _, mapPage := f.do(t, "GET", "/map?lang="+lang, "", "", "")
		surfaces := map[string]string{"board": page, "route map": mapPage, "status table": table.String(), "digest": digest}
		for _, s := range sekisho.States {
			surfaces["status line "+string(s)] = notify.StatusLine(lang, sekisho.Run{State: s}, tokyo, now)
		}
		for name, text := range surfaces {
			if foreign := marks.NotInTable(text); len(foreign) > 0 {
				t.Errorf("%s (%s) shows %q, which is in no mark of package marks", name, lang, foreign)
			}
		}
		for name, r := range rows {
			m := marks.Of(r.state, r.late)
			word := m.Word(lang)
			t.Run(lang+"/"+name, func(t *testing.T) {
				if got := b.Pipeline(name); got.State != r.state || got.Late != r.late {
					t.Fatalf("board state %s late %v, want %s %v", got.State, got.Late, r.state, r.late)
				}
				card := regexp.MustCompile(`(?s)<article class="card [^"]*" id="p-` + name + `">\s*<h3><span class="emoji" aria-hidden="true">([^<]*)</span> <a [^>]*>` + name + `</a> <span class="word">([^<]*)</span>`).FindStringSubmatch(page)
				if card == nil || card[1] != m.Emoji || html.UnescapeString(card[2]) != word {
					t.Errorf("board card %q, want %s %s", card, m.Emoji, word)
				}
				if !regexp.MustCompile(`(?m)^` + name + `\s+` + regexp.QuoteMeta(m.Emoji+" "+word) + `\s`).MatchString(table.String()) {
					t.Errorf("status table lacks %s %s for %s:\n%s", m.Emoji, word, name, table.String())
				}
				if want := fmt.Sprintf("%s *%s* — the %s data: %s\n", m.Emoji, name, name, word); !strings.Contains(digest, want) {
					t.Errorf("digest lacks %q:\n%s", want, digest)
				}
				if r.state.Valid() {
					line := notify.StatusLine(lang, sekisho.Run{State: r.state}, tokyo, now)
					if own := marks.Of(r.state, false); !strings.Contains(line, own.Emoji+" "+own.Word(lang)) {
						t.Errorf("status line %q lacks %s %s", line, own.Emoji, own.Word(lang))
					}
				}
			})
		}
	}
}

func firstSuccess(s sekisho.State, t time.Time) time.Time {
	if s == sekisho.StateSucceeded {
		return t
	}
	return time.Time{}
}

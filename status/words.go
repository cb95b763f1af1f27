package status

import (
	"fmt"
	"strings"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/marks"
)

// Label returns the emoji and the word that show a state to a business
// user, from the one table in package marks: the emoji carries the meaning
// at a glance, the word without colour. A late pipeline that has not
// finished shows as late, whatever its state.
func Label(state sekisho.State, late bool, lang string) (emoji, word string) {
	m := marks.Of(state, late)
	return m.Emoji, m.Word(lang)
}

// Clock formats t as a time of day in loc, with the month and day in front
// when t falls on another day than the logical date.
func Clock(t time.Time, logicalDate string, loc *time.Location) string {
	if t.IsZero() {
		return "-"
	}
	t = t.In(loc)
	if t.Format(sekisho.DateLayout) != logicalDate {
		return t.Format("01-02 15:04")
	}
	return t.Format("15:04")
}

// Summarize rewrites the summary in another language (the board's ?lang=).
func (p *Pipeline) Summarize(lang string, now time.Time) { p.Summary = summarize(p, lang, now) }

// summarize writes the one sentence the board and `sekisho status` show.
func summarize(p *Pipeline, lang string, now time.Time) string {
	en := lang == "en"
	clock := func(t time.Time) string { return Clock(t, p.LogicalDate, p.Location) }
	var s string
	switch p.State {
	case sekisho.StateNoGate:
		s = pick(en, "No gate is scheduled on this day.", "この日は実行予定がありません。")
	case sekisho.StateHoliday:
		s = pick(en, "No gate: the calendar has the day off (%s).", "休日のため実行予定はありません (%s)。", p.off.Name(lang))
	case sekisho.StateScheduled:
		s = pick(en, "The gate opens at %s.", "%s に開始予定です。", clock(p.GateAt))
	case sekisho.StateMissed:
		s = pick(en, "The gate was due at %s but no run is recorded.", "%s に開始予定でしたが、実行の記録がありません。", clock(p.GateAt))
	case sekisho.StateBeforeHistory:
		s = pick(en, "No run: the gate was due at %s, before this pipeline's first run.", "%s に開始予定でしたが、このパイプラインの最初の実行より前の日です。", clock(p.GateAt))
	case sekisho.StateWaiting:
		done := 0
		for _, u := range p.Upstreams {
			if u.State == sekisho.JobSucceeded {
				done++
			}
		}
		s = pick(en, "Waiting for upstream data (%d of %d done).", "上流データの到着を待っています (%d/%d 完了)。", done, len(p.Upstreams))
	case sekisho.StateBlocked:
		s = pick(en, "Upstream %s failed; waiting for it to be rerun.", "上流 %s が失敗しました。再実行を待っています。", failedUpstreams(p))
	case sekisho.StateTriggered:
		s = pick(en, "Processing was started at %s.", "%s に処理を開始しました。", clock(p.TriggeredAt))
	case sekisho.StateRunning:
		s = pick(en, "Processing since %s.", "%s から処理中です。", clock(firstNonZero(p.StartedAt, p.TriggeredAt)))
	case sekisho.StateSucceeded:
		s = pick(en, "Data is ready (finished at %s).", "データは更新済みです (%s 完了)。", clock(firstNonZero(p.FirstSuccessAt, p.FinishedAt)))
		if p.SLOMet != nil && !*p.SLOMet {
			s += pick(en, " It was later than the %s deadline.", " 期限 %s より遅れました。", clock(p.Deadline))
		}
	case sekisho.StateFailed:
		s = pick(en, "Processing failed.", "処理が失敗しました。")
		if p.Message != "" {
			s += " " + truncate(p.Message, 160)
		}
	case sekisho.StateTimedOut:
		s = pick(en, "Upstream data did not arrive in time; nothing was started.", "上流データが時間内に届かず、処理は開始されませんでした。")
	case sekisho.StateSkipped:
		s = pick(en, "Skipped by an operator.", "運用者がこの日をスキップしました。")
	default:
		s = string(p.State)
	}
	if p.Late && (p.State.Open() || p.State == sekisho.StateMissed) {
		s += pick(en, " Past its %s deadline.", " 期限 %s を過ぎています。", clock(p.Deadline))
	}
	if len(p.AffectedBy) > 0 && !p.Troubled() && p.State != sekisho.StateSucceeded {
		s += pick(en, " Affected by %s.", " %s の影響を受けています。", strings.Join(p.AffectedBy, ", "))
	}
	return s
}

func pick(en bool, enFormat, jaFormat string, args ...any) string {
	if en {
		return fmt.Sprintf(enFormat, args...)
	}
	return fmt.Sprintf(jaFormat, args...)
}

func failedUpstreams(p *Pipeline) string {
	var names []string
	for _, u := range p.Upstreams {
		if u.State == sekisho.JobFailed {
			names = append(names, u.Name)
		}
	}
	if len(names) == 0 {
		return "?"
	}
	return strings.Join(names, ", ")
}

func firstNonZero(ts ...time.Time) time.Time {
	for _, t := range ts {
		if !t.IsZero() {
			return t
		}
	}
	return time.Time{}
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}

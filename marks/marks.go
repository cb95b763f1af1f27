// Package marks is the one table of the marks and words that show a run's
// state to a business user: the status board, `sekisho status`, the SLO
// grid and every Slack text read it, so a state looks the same wherever it
// is shown. The emoji follow SPEC §7: ✅ normal, 🚨 possible outage,
// ⏳ waiting, 🐢 delayed; the few states outside those four (skipped, a
// gate still to come, no gate that day, a calendar's day off) have their
// own quiet marks.
package marks

import "github.com/sekisho-dev/sekisho"

// Mark is the emoji and the word of one state in both languages.
type Mark struct {
	Emoji, Ja, En string
}

// Word is the mark's word in lang (ja unless en).
func (m Mark) Word(lang string) string {
	if lang == "en" {
		return m.En
	}
	return m.Ja
}

// Late is the mark of a run past its SLO deadline that has not finished:
// it replaces the state's own mark (SPEC §7's 🐢).
var Late = Mark{"🐢", "遅延", "Late"}

// table holds every state a listing can show, stored or not.
var table = map[sekisho.State]Mark{
	sekisho.StateSucceeded:     {"✅", "正常完了", "Succeeded"},
	sekisho.StateFailed:        {"🚨", "失敗", "Failed"},
	sekisho.StateTimedOut:      {"🚨", "タイムアウト", "Timed out"},
	sekisho.StateBlocked:       {"🚨", "上流で失敗", "Blocked"},
	sekisho.StateMissed:        {"🚨", "実行なし", "Missed"},
	sekisho.StateWaiting:       {"⏳", "上流待ち", "Waiting"},
	sekisho.StateTriggered:     {"⏳", "起動済み", "Triggered"},
	sekisho.StateRunning:       {"⏳", "実行中", "Running"},
	sekisho.StateSkipped:       {"⏭", "スキップ", "Skipped"},
	sekisho.StateScheduled:     {"🕒", "開始前", "Scheduled"},
	sekisho.StateNoGate:        {"➖", "予定なし", "No gate"},
	sekisho.StateBeforeHistory: {"➖", "運用開始前", "Before history"},
	sekisho.StateHoliday:       {"⛱", "休日", "Holiday"},
}

// Of returns the mark of a state; late shows an unfinished run past its
// deadline as Late. An unknown state shows as itself behind a question mark.
func Of(state sekisho.State, late bool) Mark {
	if late && state.Open() {
		return Late
	}
	if m, ok := table[state]; ok {
		return m
	}
	return Mark{"❔", string(state), string(state)}
}

// jobs holds the marks of an upstream job's state, as the board's cards
// and the route map's systems show it.
var jobs = map[sekisho.JobState]Mark{
	sekisho.JobSucceeded: {"✅", "完了", "Succeeded"},
	sekisho.JobFailed:    {"🚨", "失敗", "Failed"},
	sekisho.JobRunning:   {"🔄", "実行中", "Running"},
	sekisho.JobPending:   {"⏳", "未完了", "Pending"},
}

// Job returns the mark of an upstream job's state; an unknown state shows
// as itself behind a question mark.
func Job(s sekisho.JobState) Mark {
	if m, ok := jobs[s]; ok {
		return m
	}
	return Mark{"❔", string(s), string(s)}
}

// Order lists the emoji from the most to the least urgent: the order of
// the digest's lines and counts.
var Order = []string{"🚨", "🐢", "⏳", "🕒", "⏭", "➖", "⛱", "✅"}

// Rank is the emoji's place in Order; unknown emoji come last.
func Rank(emoji string) int {
	for i, e := range Order {
		if e == emoji {
			return i
		}
	}
	return len(Order)
}

// Run names a pipeline's run for a business reader: the pipeline alone
// for a daily run (its date is said beside it), the pipeline and its
// interval for a sub-daily one (SPEC §19), "hourly_load 13:00 run" or
// "hourly_load の 13:00 の回", in every incident text on Slack and the board.
func Run(pipeline, key, lang string) string {
	iv := Interval(key, lang)
	switch {
	case iv == "":
		return pipeline
	case lang == "en":
		return pipeline + " " + iv
	}
	return pipeline + " の " + iv
}

// Interval names the interval of a sub-daily run key, "13:00 run" or
// "13:00 の回", and is "" for a daily key.
func Interval(key, lang string) string {
	t := sekisho.KeyTime(key)
	switch {
	case t == "":
		return ""
	case lang == "en":
		return t + " run"
	}
	return t + " の回"
}

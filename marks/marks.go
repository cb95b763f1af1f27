// Package marks is the one table of the marks and words that show sekisho's
// facts to a business user: the status board and its route map,
// `sekisho status`, the SLO grid, the digest and every Slack text read it,
// so a fact looks the same wherever it is shown. The emoji follow SPEC §7:
// ✅ normal, 🚨 possible outage, ⏳ waiting, 🐢 delayed; the few states
// outside those four (skipped, a gate still to come, no gate that day, a
// calendar's day off) have their own quiet marks, and the signs that are no
// state (an incident, who is on it, a silence, a runbook) are named here
// too. No other package writes an emoji: TestNoMarksOutsideTheTable reads
// the sources and fails on one.
package marks

import (
	"strings"

	"github.com/sekisho-dev/sekisho"
	"golang.org/x/text/width"
)

// Mark is the emoji and the word of one state or sign in both languages.
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

// Line is the mark followed by its word: "✅ すべてのデータは正常です".
func (m Mark) Line(lang string) string { return m.Emoji + " " + m.Word(lang) }

// The emoji of SPEC §7, each written once.
const (
	normal  = "✅"
	outage  = "🚨"
	waiting = "⏳"
	late    = "🐢"
	skipped = "⏭"
	clock   = "🕒"
	none    = "➖"
	holiday = "⛱"
	unknown = "❔"
	resumed = "🔄"
)

// Late is the mark of a run past its SLO deadline that has not finished:
// it replaces the state's own mark (SPEC §7's 🐢).
var Late = Mark{late, "遅延", "Late"}

// Signs: the marks of what is no run state.
var (
	// AllClear and Trouble are the banner over the board, the route map
	// and `sekisho status`.
	AllClear = Mark{normal, "すべてのデータは正常です", "All data flows are normal"}
	Trouble  = Mark{outage, "一部のデータが遅延・欠損している可能性があります", "Some data may be missing or late"}
	// Incident marks an open incident (its Slack headline, the board's
	// block, the pipeline page's row); Resumed a member that finished
	// since; Resolved an incident that is over.
	Incident = Mark{outage, "障害", "Incident"}
	Resumed  = Mark{resumed, "再開", "Resumed"}
	Resolved = Mark{normal, "復旧", "Resolved"}
	// Ack is who is on an incident; Overdue an ETA that passed; Escalation
	// an incident nobody took.
	Ack        = Mark{"🧑‍🔧", "対応中", "On it"}
	Overdue    = Mark{"⏰", "復旧見込み超過", "ETA passed"}
	Escalation = Mark{"📣", "未対応", "Unacknowledged"}
	// Rerun and Silence are an operator's actions; Silence also marks a
	// silenced pipeline's card (SPEC §20).
	Rerun   = Mark{"🔁", "再実行", "Rerun"}
	Silence = Mark{"🔧", "通知停止中", "Silenced"}
	// Warning marks a check's error, a target an ETA misses and a
	// calendar running out of data.
	Warning = Mark{"⚠️", "警告", "Warning"}
	// Runbook links a pipeline's runbook; RouteMap the route map; Impact is
	// a dashboard or report on the route map.
	Runbook  = Mark{"📘", "手順書", "runbook"}
	RouteMap = Mark{"🗺", "路線図", "Route map"}
	Impact   = Mark{"📊", "利用先", "Dashboard"}
	// Digest heads the morning's summary; Anomaly a check whose numbers
	// look unusual.
	Digest  = Mark{"📋", "本日のデータ更新状況", "Today's data status"}
	Anomaly = Mark{"📉", "データ量の異常", "Unusual data"}
	// Time is the Slack time picker (an ETA), as the demo prints it.
	Time = Mark{clock, "時刻", "Time"}
)

// Banner is the board's headline: all clear, or trouble.
func Banner(ok bool) Mark {
	if ok {
		return AllClear
	}
	return Trouble
}

// table holds every state a listing can show, stored or not.
var table = map[sekisho.State]Mark{
	sekisho.StateSucceeded:     {normal, "正常完了", "Succeeded"},
	sekisho.StateFailed:        {outage, "失敗", "Failed"},
	sekisho.StateTimedOut:      {outage, "タイムアウト", "Timed out"},
	sekisho.StateBlocked:       {outage, "上流で失敗", "Blocked"},
	sekisho.StateMissed:        {outage, "実行なし", "Missed"},
	sekisho.StateWaiting:       {waiting, "上流待ち", "Waiting"},
	sekisho.StateTriggered:     {waiting, "起動済み", "Triggered"},
	sekisho.StateRunning:       {waiting, "実行中", "Running"},
	sekisho.StateSkipped:       {skipped, "スキップ", "Skipped"},
	sekisho.StateScheduled:     {clock, "開始前", "Scheduled"},
	sekisho.StateNoGate:        {none, "予定なし", "No gate"},
	sekisho.StateBeforeHistory: {none, "運用開始前", "Before history"},
	sekisho.StateHoliday:       {holiday, "休日", "Holiday"},
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
	return Mark{unknown, string(state), string(state)}
}

// jobs holds the marks of an upstream job's state, as the board's cards
// and the route map's systems show it.
var jobs = map[sekisho.JobState]Mark{
	sekisho.JobSucceeded: {normal, "完了", "Succeeded"},
	sekisho.JobFailed:    {outage, "失敗", "Failed"},
	sekisho.JobRunning:   {resumed, "実行中", "Running"},
	sekisho.JobPending:   {waiting, "未完了", "Pending"},
}

// Job returns the mark of an upstream job's state; an unknown state shows
// as itself behind a question mark.
func Job(s sekisho.JobState) Mark {
	if m, ok := jobs[s]; ok {
		return m
	}
	return Mark{unknown, string(s), string(s)}
}

// Notice is the mark heading a Slack notice of kind k: what it says about
// the run, in the marks of its states.
func Notice(k sekisho.NoticeKind) Mark {
	switch k {
	case sekisho.NoticeRecovery:
		return table[sekisho.StateSucceeded]
	case sekisho.NoticeDelay, sekisho.NoticeAtRisk, sekisho.NoticeLongRunning:
		return Late
	case sekisho.NoticeTriggerUnknown:
		return table[sekisho.StateWaiting]
	case sekisho.NoticeDataAnomaly:
		return Anomaly
	}
	return table[sekisho.StateFailed]
}

// days holds the marks of one pipeline's day as the SLO grid and the
// board's history bar show it, by the grid's cell state (slo.CellState):
// the emoji of the state the day ended in, the word of its verdict.
var days = map[string]Mark{
	"met":       {normal, "期限内", "met"},
	"late":      {late, "遅延", "late"},
	"failed":    {outage, "失敗", "failed"},
	"timed_out": {outage, "タイムアウト", "timed out"},
	"missed":    {outage, "実行なし", "missed"},
	"open":      {waiting, "進行中", "in progress"},
	"skipped":   {skipped, "スキップ", "skipped"},
	"holiday":   {holiday, "休日", "day off"},
	"none":      {"", "予定なし", "no gate due"},
}

// Day returns the mark of a day in the SLO grid by its cell state; a day
// with no gate due has no emoji. An unknown cell shows as itself.
func Day(cell string) Mark {
	if m, ok := days[cell]; ok {
		return m
	}
	return Mark{unknown, cell, cell}
}

// Entry is one line of a legend: a mark and every word it stands for.
type Entry struct {
	Emoji, Words string
	First        int // the index, in the marks given, of the entry's first mark
}

// Legend folds the marks sharing an emoji into one entry, their words
// joined, in the order given: one emoji never has two entries
// ("🚨 失敗・タイムアウト・実行なし").
func Legend(ms []Mark, lang string) []Entry {
	sep := "・"
	if lang == "en" {
		sep = " / "
	}
	var out []Entry
	at := map[string]int{}
	for i, m := range ms {
		if j, ok := at[m.Emoji]; ok {
			out[j].Words += sep + m.Word(lang)
			continue
		}
		at[m.Emoji] = len(out)
		out = append(out, Entry{Emoji: m.Emoji, Words: m.Word(lang), First: i})
	}
	return out
}

// Order lists the emoji from the most to the least urgent: the order of
// the digest's lines and counts.
var Order = []string{outage, late, waiting, clock, skipped, none, holiday, normal}

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

// All lists every mark of the package, each emoji once: what a test of a
// rendered surface compares its emoji against.
func All() []Mark {
	ms := []Mark{Late, AllClear, Trouble, Incident, Resumed, Resolved, Ack, Overdue, Escalation, Rerun, Silence,
		Warning, Runbook, RouteMap, Impact, Digest, Anomaly, Time, {unknown, "?", "?"}}
	for _, m := range table {
		ms = append(ms, m)
	}
	for _, m := range jobs {
		ms = append(ms, m)
	}
	for _, m := range days {
		ms = append(ms, m)
	}
	var out []Mark
	seen := map[string]bool{}
	for _, m := range ms {
		if m.Emoji != "" && !seen[m.Emoji] {
			seen[m.Emoji] = true
			out = append(out, m)
		}
	}
	return out
}

// Width counts the terminal cells a text takes: characters of East Asian
// Width W or F (CJK, most emoji) take two (Unicode's table,
// golang.org/x/text/width), a joined emoji (🧑‍🔧) as much as its first
// part, and a narrow symbol asked to show as emoji (⚠️, with U+FE0F) two.
// ⏭ is narrow (East Asian Width N), so the SLO grid pads it; ⛱ is ambiguous
// and counted wide, as a Japanese terminal shows it.
func Width(s string) int {
	n := 0
	joined, narrow := false, false
	for _, r := range s {
		switch {
		case r == 0xFE0F:
			if narrow {
				n++
			}
		case r == 0x200D:
			joined = true
			continue
		case joined:
		case wide(r):
			n += 2
		default:
			n++
			joined, narrow = false, true
			continue
		}
		joined, narrow = false, false
	}
	return n
}

// wide reports a character of East Asian Width W or F, and ⛱ (A).
func wide(r rune) bool {
	switch width.LookupRune(r).Kind() {
	case width.EastAsianWide, width.EastAsianFullwidth:
		return true
	}
	return r == 0x26F1
}

// Pad pads a mark to cells terminal columns: the SLO grid's cells line up
// whether their emoji is wide, narrow or absent.
func Pad(emoji string, cells int) string {
	return emoji + strings.Repeat(" ", max(cells-Width(emoji), 0))
}

// isEmoji reports a character from the blocks the marks come from
// (Miscellaneous Technical, Symbols, Dingbats, the emoji planes), or one
// that joins or styles an emoji.
func isEmoji(r rune) bool {
	return r >= 0x2300 && r <= 0x23FF || r >= 0x2600 && r <= 0x27BF || r >= 0x2B00 && r <= 0x2BFF ||
		r >= 0x1F000 && r <= 0x1FAFF
}

// Emoji lists the emoji in a text, a joined or styled one (🧑‍🔧, ⚠️) as one.
func Emoji(text string) []string {
	var out []string
	rs := []rune(text)
	for i := 0; i < len(rs); i++ {
		if !isEmoji(rs[i]) {
			continue
		}
		j := i + 1
		for j < len(rs) {
			switch {
			case rs[j] == 0xFE0F:
				j++
				continue
			case rs[j] == 0x200D && j+1 < len(rs):
				j += 2
				continue
			}
			break
		}
		out = append(out, string(rs[i:j]))
		i = j - 1
	}
	return out
}

// NotInTable lists the emoji of a rendered text that no mark of this
// package has: a surface's test fails on any.
func NotInTable(text string) []string {
	known := map[string]bool{}
	for _, m := range All() {
		known[m.Emoji] = true
	}
	var out []string
	for _, e := range Emoji(text) {
		if !known[e] {
			out = append(out, e)
		}
	}
	return out
}

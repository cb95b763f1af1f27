package notify

import (
	"strings"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/marks"
)

// catalog holds one language's words. Every kind has a headline and a
// sentence in both languages; text_test.go pins them.
type catalog struct {
	pipeline, date, what, deadline, impacts, board string
	listSep, parenFmt, statusLine                  string
	lang                                           string
	headlines                                      map[sekisho.NoticeKind]string // {subject} subject, {pipeline} pipeline, {date} date
	sentences                                      map[sekisho.NoticeKind]func(v view) string
	digest                                         digestWords
}

type digestWords struct {
	headline string // %s date
	counts   string // summary line label
	more     string // %d more pipelines not listed
	none     string // no pipelines configured
}

// inLang picks the English words for "en" and the Japanese ones otherwise:
// Japanese is the default language (slack.language).
func inLang[W any](lang string, en, ja *W) *W {
	if lang == "en" {
		return en
	}
	return ja
}

func catalogFor(lang string) *catalog { return inLang(lang, &english, &japanese) }

// state is a state's word from the one table of package marks.
func (c *catalog) state(s sekisho.State) string { return marks.Of(s, false).Word(c.lang) }

func (c *catalog) headline(v view) string {
	emoji := marks.Notice(v.n.Kind).Emoji
	r := strings.NewReplacer("{subject}", v.subject, "{pipeline}", esc(v.n.Pipeline), "{date}", v.n.LogicalDate)
	return emoji + " " + r.Replace(c.headlines[v.n.Kind])
}

func (c *catalog) sentence(v view) string {
	if f, ok := c.sentences[v.n.Kind]; ok {
		return f(v)
	}
	return esc(v.f.Message)
}

var japanese = catalog{
	lang:     "ja",
	pipeline: "パイプライン", date: "対象日", what: "発生したこと", deadline: "期限", impacts: "影響",
	board: "ステータスボード", listSep: "、", parenFmt: "（%s）",
	statusLine: "現在の状態: %s %s（%s 更新）",
	headlines: map[sekisho.NoticeKind]string{
		sekisho.NoticeUpstreamFailed: "{subject}のデータが遅れる可能性があります（{pipeline} {date}）",
		sekisho.NoticeTriggerFailed:  "{subject}のデータ更新を開始できませんでした（{pipeline} {date}）",
		sekisho.NoticeRunFailed:      "{subject}のデータ更新が失敗しました（{pipeline} {date}）",
		sekisho.NoticeDelay:          "{subject}のデータが遅れています（{pipeline} {date}）",
		sekisho.NoticeAtRisk:         "{subject}のデータが期限に間に合わない見込みです（{pipeline} {date}）",
		sekisho.NoticeLongRunning:    "{subject}のデータ更新に時間がかかっています（{pipeline} {date}）",
		sekisho.NoticeTimedOut:       "{subject}のデータは更新されませんでした（{pipeline} {date}）",
		sekisho.NoticeRecovery:       "{subject}のデータは正常に更新されました（{pipeline} {date}）",
		sekisho.NoticeTriggerUnknown: "{subject}のデータ更新が始まったか確認してください（{pipeline} {date}）",
		sekisho.NoticeConfigInvalid:  "sekisho の設定を読み込めませんでした（以前の設定で動作を続けています）",
		sekisho.NoticeDataAnomaly:    "{subject}のデータ量がいつもと違います（{pipeline} {date}）",
	},
	sentences: map[sekisho.NoticeKind]func(v view) string{
		sekisho.NoticeUpstreamFailed: func(v view) string {
			return "上流の " + esc(v.f.Upstream) + " が失敗しました" + v.c.paren(idJa(v.f.ExternalID)) + colon(v.f.Message)
		},
		sekisho.NoticeTriggerFailed: func(v view) string {
			if v.f.Reason == sekisho.ReasonDagPaused {
				return "下流の DAG が一時停止（paused）されています。再開してから対象日を再実行（rerun）してください" + colon(v.f.Message)
			}
			if v.f.Reason == sekisho.ReasonLogicalDateTaken {
				return "下流の DAG の論理日付（logical date）が sekisho 以外の実行に使われています" + colon(v.f.Message)
			}
			return "下流のジョブを起動できませんでした" + colon(v.f.Message)
		},
		sekisho.NoticeRunFailed: func(v view) string {
			return "下流の実行が失敗しました" + v.c.paren(idJa(v.f.ExternalID)) + colon(v.f.Message)
		},
		sekisho.NoticeDelay: func(v view) string {
			return "期限を過ぎましたが、まだ完了していません（状態: " + v.c.state(v.f.State) + "）" + colon(v.f.Message)
		},
		sekisho.NoticeAtRisk: func(v view) string {
			return "完了見込みは " + v.time(v.f.ExpectedAt) + " で、期限を過ぎる見込みです" + causeJa(v.f)
		},
		sekisho.NoticeLongRunning: func(v view) string {
			who := "下流の実行"
			if v.f.Upstream != "" {
				who = "上流の " + esc(v.f.Upstream)
			}
			return who + v.c.paren(idJa(v.f.ExternalID)) + "が " + v.f.Duration + " 実行中で、上限 " + v.f.MaxDuration + " を超えています"
		},
		sekisho.NoticeTimedOut: func(v view) string {
			return "タイムアウトまでに上流が揃わなかったため、下流は起動していません" + colon(v.f.Message)
		},
		sekisho.NoticeRecovery: func(v view) string {
			return v.time(v.n.CreatedAt) + " に正常に完了しました"
		},
		sekisho.NoticeTriggerUnknown: func(v view) string {
			return "下流の起動中に sekisho が停止したため、起動できたか分かりません。TROCCO で確認し、必要なら再実行（rerun）かスキップ（skip）をしてください" + colon(v.f.Message)
		},
		sekisho.NoticeConfigInvalid: func(v view) string {
			return "pipelines.yaml に誤りがあるため再読み込みを取りやめました。次のエラーを直して、もう一度読み込んでください"
		},
		sekisho.NoticeDataAnomaly: func(v view) string {
			return "上流の " + esc(v.f.Upstream) + " の値が期待の範囲外です（on_violation: warn のため下流は起動します）" + colon(v.f.Message)
		},
	},
	digest: digestWords{
		headline: marks.Digest.Line("ja") + "（%s）",
		counts:   "合計",
		more:     "ほか %d 件",
		none:     "パイプラインがありません",
	},
}

var english = catalog{
	lang:     "en",
	pipeline: "Pipeline", date: "Logical date", what: "What happened", deadline: "Deadline", impacts: "Impacts",
	board: "Status board", listSep: ", ", parenFmt: " (%s)",
	statusLine: "Current status: %s %s (updated %s)",
	headlines: map[sekisho.NoticeKind]string{
		sekisho.NoticeUpstreamFailed: "Data for {subject} may be late ({pipeline}, {date})",
		sekisho.NoticeTriggerFailed:  "The update of {subject} could not start ({pipeline}, {date})",
		sekisho.NoticeRunFailed:      "The update of {subject} failed ({pipeline}, {date})",
		sekisho.NoticeDelay:          "Data for {subject} is late ({pipeline}, {date})",
		sekisho.NoticeAtRisk:         "Data for {subject} will likely miss its deadline ({pipeline}, {date})",
		sekisho.NoticeLongRunning:    "The update of {subject} is taking longer than usual ({pipeline}, {date})",
		sekisho.NoticeTimedOut:       "Data for {subject} was not updated ({pipeline}, {date})",
		sekisho.NoticeRecovery:       "Data for {subject} is up to date ({pipeline}, {date})",
		sekisho.NoticeTriggerUnknown: "Please check whether the update of {subject} started ({pipeline}, {date})",
		sekisho.NoticeConfigInvalid:  "sekisho refused a config reload (the previous config keeps running)",
		sekisho.NoticeDataAnomaly:    "The data volume of {subject} looks unusual ({pipeline}, {date})",
	},
	sentences: map[sekisho.NoticeKind]func(v view) string{
		sekisho.NoticeUpstreamFailed: func(v view) string {
			return "Upstream " + esc(v.f.Upstream) + " failed" + v.c.paren(idEn(v.f.ExternalID)) + colon(v.f.Message) + "."
		},
		sekisho.NoticeTriggerFailed: func(v view) string {
			if v.f.Reason == sekisho.ReasonDagPaused {
				return "The downstream DAG is paused; unpause it, then rerun the day" + colon(v.f.Message) + "."
			}
			if v.f.Reason == sekisho.ReasonLogicalDateTaken {
				return "The downstream DAG's logical date is held by a run sekisho did not create" + colon(v.f.Message) + "."
			}
			return "The downstream job could not be started" + colon(v.f.Message) + "."
		},
		sekisho.NoticeRunFailed: func(v view) string {
			return "The downstream run failed" + v.c.paren(idEn(v.f.ExternalID)) + colon(v.f.Message) + "."
		},
		sekisho.NoticeDelay: func(v view) string {
			return "The deadline has passed and the run is not done yet (" + v.c.state(v.f.State) + ")" + colon(v.f.Message) + "."
		},
		sekisho.NoticeAtRisk: func(v view) string {
			return "It is expected to finish around " + v.time(v.f.ExpectedAt) + ", after the deadline" + causeEn(v.f) + "."
		},
		sekisho.NoticeLongRunning: func(v view) string {
			who := "The downstream run"
			if v.f.Upstream != "" {
				who = "Upstream " + esc(v.f.Upstream)
			}
			return who + v.c.paren(idEn(v.f.ExternalID)) + " has been running for " + v.f.Duration + ", longer than the limit of " + v.f.MaxDuration + "."
		},
		sekisho.NoticeTimedOut: func(v view) string {
			return "The upstreams were not ready before the timeout, so nothing was started" + colon(v.f.Message) + "."
		},
		sekisho.NoticeRecovery: func(v view) string {
			return "The run succeeded at " + v.time(v.n.CreatedAt) + "."
		},
		sekisho.NoticeTriggerUnknown: func(v view) string {
			return "sekisho stopped while starting the downstream, so it cannot tell whether the job started. Check it in TROCCO, then rerun or skip the day" + colon(v.f.Message) + "."
		},
		sekisho.NoticeConfigInvalid: func(v view) string {
			return "pipelines.yaml has errors, so the reload was refused. Fix the errors below and reload again."
		},
		sekisho.NoticeDataAnomaly: func(v view) string {
			return "Upstream " + esc(v.f.Upstream) + " is outside its expected range (on_violation: warn, so the downstream starts anyway)" + colon(v.f.Message) + "."
		},
	},
	digest: digestWords{
		headline: marks.Digest.Line("en") + " (%s)",
		counts:   "Total",
		more:     "and %d more",
		none:     "no pipelines configured",
	},
}

// causeJa names what makes an at_risk run late (SPEC §21): an upstream of
// the first station on the line, the line's stations, or the run's own
// downstream.
func causeJa(f sekisho.NoticeFacts) string {
	via := ""
	if len(f.Via) > 1 {
		via = "（" + esc(strings.Join(f.Via, " → ")) + " 経由）"
	}
	switch {
	case f.Upstream != "" && len(f.Via) > 0:
		return "。原因は " + esc(f.Via[0]) + " の上流 " + esc(f.Upstream) + " です" + via
	case f.Upstream != "":
		return "。原因は上流の " + esc(f.Upstream) + " です"
	case len(f.Via) > 0:
		return "。原因は " + esc(f.Via[0]) + " の実行です" + via
	}
	return ""
}

// causeEn is causeJa in English.
func causeEn(f sekisho.NoticeFacts) string {
	via := ""
	if len(f.Via) > 1 {
		via = " (via " + esc(strings.Join(f.Via, " → ")) + ")"
	}
	switch {
	case f.Upstream != "" && len(f.Via) > 0:
		return ": upstream " + esc(f.Upstream) + " of " + esc(f.Via[0]) + " makes it late" + via
	case f.Upstream != "":
		return ": upstream " + esc(f.Upstream) + " makes it late"
	case len(f.Via) > 0:
		return ": the run of " + esc(f.Via[0]) + " makes it late" + via
	}
	return ""
}

func idJa(id string) string {
	if id == "" {
		return ""
	}
	return "実行ID " + esc(id)
}

func idEn(id string) string {
	if id == "" {
		return ""
	}
	return "run " + esc(id)
}

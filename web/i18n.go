package web

// texts are the board's words. Config strings (names, descriptions,
// impacts) are never translated: they are shown as written, escaped.
var texts = map[string]map[string]string{
	"ja": {
		"title":        "データ基盤ステータス",
		"ok":           "✅ すべてのデータは正常です",
		"trouble":      "🚨 一部のデータが遅延・欠損している可能性があります",
		"updated":      "最終更新",
		"affected":     "影響を受けているデータ",
		"affects":      "影響先",
		"no_affected":  "影響を受けている下流はありません。",
		"pipelines":    "データフロー",
		"slo30":        "直近30日の期限内率",
		"history":      "直近30日",
		"gate":         "開始",
		"upstreams":    "上流完了",
		"triggered":    "処理開始",
		"finished":     "完了",
		"deadline":     "期限",
		"now":          "現在",
		"impacts":      "利用先",
		"details":      "詳細",
		"runs":         "最近の実行",
		"attempt":      "試行",
		"transitions":  "状態の変化",
		"observations": "上流の観測",
		"chart":        "完了時刻と所要時間 (直近30日)",
		"back":         "← 一覧に戻る",
		"notfound":     "ページが見つかりません",
		"notfound_msg": "そのデータフローは設定にありません。",
		"legend":       "凡例",
		"no_slo":       "期限の設定なし",
		"error":        "確認エラー",
		"lang_other":   "English",
	},
	"en": {
		"title":        "Data platform status",
		"ok":           "✅ All data flows are normal",
		"trouble":      "🚨 Some data may be missing or late",
		"updated":      "Last updated",
		"affected":     "Affected data",
		"affects":      "Affects",
		"no_affected":  "No downstream flow is affected.",
		"pipelines":    "Data flows",
		"slo30":        "On time, last 30 days",
		"history":      "Last 30 days",
		"gate":         "Gate",
		"upstreams":    "Upstreams done",
		"triggered":    "Triggered",
		"finished":     "Finished",
		"deadline":     "Deadline",
		"now":          "Now",
		"impacts":      "Used by",
		"details":      "Details",
		"runs":         "Recent runs",
		"attempt":      "Attempt",
		"transitions":  "State changes",
		"observations": "Upstream observations",
		"chart":        "Finish time and duration (last 30 days)",
		"back":         "← Back to the board",
		"notfound":     "Page not found",
		"notfound_msg": "No such data flow in the configuration.",
		"legend":       "Legend",
		"no_slo":       "no deadline set",
		"error":        "check error",
		"lang_other":   "日本語",
	},
}

var cellWords = map[string][2]string{
	"met":       {"met", "期限内"},
	"late":      {"late", "遅延"},
	"failed":    {"failed", "失敗"},
	"timed_out": {"timed out", "タイムアウト"},
	"skipped":   {"skipped", "スキップ"},
	"missed":    {"missed", "実行なし"},
	"open":      {"in progress", "進行中"},
	"none":      {"no gate due", "予定なし"},
}

func cellWord(state, lang string) string {
	w, ok := cellWords[state]
	if !ok {
		return state
	}
	if lang == "en" {
		return w[0]
	}
	return w[1]
}

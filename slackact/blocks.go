package slackact

import (
	"fmt"

	"github.com/slack-go/slack"

	"github.com/sekisho-dev/sekisho"
)

// words are the buttons' labels in one language.
type words struct {
	ack, eta, noETA, rerun, skip, silence, hour, eod, etaTime string
	presets                                                   []string // per ETAPresets
	confirmTitle, confirmRerun, confirmSkip, yes, no          string
}

var wordsJa = words{ack: "対応中（復旧見込み）", noETA: "対応中（見込み未定）", rerun: "再実行", skip: "本日スキップ",
	silence: "ミュート", hour: "1 時間", eod: "本日中", etaTime: "復旧見込みの時刻",
	presets:      []string{"30 分後", "1 時間後", "2 時間後", "4 時間後"},
	confirmTitle: "確認", confirmRerun: "%s（%s）を再実行します。", confirmSkip: "%s（%s）を本日スキップします。SLO の集計から外れ、下流には完了として扱われます。",
	yes: "実行", no: "やめる"}

var wordsEn = words{ack: "Acknowledge (ETA)", noETA: "Acknowledge (no ETA yet)", rerun: "Rerun", skip: "Skip today",
	silence: "Silence", hour: "for 1 hour", eod: "until the end of the day", etaTime: "ETA (time)",
	presets:      []string{"in 30 min", "in 1 h", "in 2 h", "in 4 h"},
	confirmTitle: "Are you sure?", confirmRerun: "Rerun %s (%s).", confirmSkip: "Skip %s (%s): it leaves the SLO count and counts as done for pipelines downstream.",
	yes: "Do it", no: "Cancel"}

func wordsFor(lang string) *words {
	if lang == "en" {
		return &wordsEn
	}
	return &wordsJa
}

// Buttons are the action blocks of a notice or an incident root about t,
// whose run is in state: acknowledge with an ETA (a preset, or a time from
// the picker), rerun (a finished run only), skip (an unfinished or failed
// run), silence for an hour or the rest of the day. Their block_ids start
// with "sekisho_" so the sender's marker stays the headline's.
func Buttons(lang string, t Target, state sekisho.State) []slack.Block {
	w := wordsFor(lang)
	txt := func(s string) *slack.TextBlockObject {
		return slack.NewTextBlockObject(slack.PlainTextType, s, false, false)
	}
	var opts []*slack.OptionBlockObject
	for i, d := range ETAPresets {
		opts = append(opts, slack.NewOptionBlockObject(t.Value(d.String()), txt(w.presets[i]), nil))
	}
	opts = append(opts, slack.NewOptionBlockObject(t.Value(NoETA), txt(w.noETA), nil))
	elems := []slack.BlockElement{slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, txt(w.ack), ActionAck, opts...)}
	if state.Terminal() && state != sekisho.StateSkipped {
		b := slack.NewButtonBlockElement(ActionRerun, t.Value(""), txt(w.rerun)).WithStyle(slack.StylePrimary)
		b.Confirm = slack.NewConfirmationBlockObject(txt(w.confirmTitle), txt(fmt.Sprintf(w.confirmRerun, t.Pipeline, t.Key)), txt(w.yes), txt(w.no))
		elems = append(elems, b)
	}
	if state != sekisho.StateSucceeded && state != sekisho.StateSkipped {
		b := slack.NewButtonBlockElement(ActionSkip, t.Value(""), txt(w.skip)).WithStyle(slack.StyleDanger)
		b.Confirm = slack.NewConfirmationBlockObject(txt(w.confirmTitle), txt(fmt.Sprintf(w.confirmSkip, t.Pipeline, t.Key)), txt(w.yes), txt(w.no))
		elems = append(elems, b)
	}
	elems = append(elems, slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, txt(w.silence), ActionSilence,
		slack.NewOptionBlockObject(t.Value(SilenceForHour), txt(w.hour), nil),
		slack.NewOptionBlockObject(t.Value(SilenceEndOfDay), txt(w.eod), nil)))
	picker := slack.NewTimePickerBlockElement(ActionAck)
	picker.Placeholder = txt(w.etaTime)
	return []slack.Block{
		slack.NewActionBlock("sekisho_actions", elems...),
		slack.NewActionBlock(ETABlockPrefix+t.Value(""), picker),
	}
}

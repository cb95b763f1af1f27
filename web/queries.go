package web

import (
	"context"
	"fmt"
	"time"

	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/marks"
)

// queriesView lists the long-running warehouse queries alerted and still
// running (SPEC §15), for the board.
type queriesView struct {
	Emoji, Title string
	Rows         []queryRow
}

type queryRow struct {
	Watch, Warehouse, User, PID, Started, Elapsed, Text string
}

// longQueries reads the open query alerts; nil when there are none or the
// store cannot say (the board still renders the pipelines).
func (s *server) longQueries(ctx context.Context, cfg *config.Config, lang string, now time.Time) *queriesView {
	alerts, err := s.Store.OpenQueryAlerts(ctx, "")
	if err != nil {
		s.Logger.Warn("board: read query alerts", "err", err.Error())
		return nil
	}
	if len(alerts) == 0 {
		return nil
	}
	loc := cfg.Location
	// A query past its watch's threshold shows as late does (marks.Late).
	v := &queriesView{Emoji: marks.Late.Emoji, Title: "長時間実行中のクエリ"}
	minutes := "%d 分"
	if lang == "en" {
		v.Title, minutes = "Long-running queries", "%d min"
	}
	for _, a := range alerts {
		text := a.Text
		if r := []rune(text); len(r) > 200 {
			text = string(r[:200]) + "…"
		}
		v.Rows = append(v.Rows, queryRow{Watch: a.Watch, Warehouse: a.Warehouse, User: a.User, PID: a.PID,
			Started: a.StartedAt.In(loc).Format("01-02 15:04"), Elapsed: fmt.Sprintf(minutes, int(now.Sub(a.StartedAt).Minutes())),
			Text: text})
	}
	return v
}

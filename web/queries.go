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

// watchError is a standing watch whose last listing failed: the board says
// so, because a watch that cannot list (a PostgreSQL role without
// pg_read_all_stats, a warehouse that refuses the connection) reports no
// long query at all. The listing runs on the leader; the store carries its
// outcome to every replica's board.
type watchError struct {
	Watch, Warehouse, Error, Since string
}

// watchErrors reads the failing watches the config still has; nil when
// none fails or the store cannot say (the board still renders).
func (s *server) watchErrors(ctx context.Context, cfg *config.Config, lang string) []watchError {
	sts, err := s.Store.WatchStatuses(ctx)
	if err != nil {
		s.Logger.Warn("board: read watch status", "err", err.Error())
		return nil
	}
	var out []watchError
	for _, st := range sts {
		if st.Error == "" || cfg.Watch(st.Watch) == nil {
			continue
		}
		since := st.FailingSince
		if since.IsZero() {
			since = st.CheckedAt
		}
		out = append(out, watchError{Watch: st.Watch, Warehouse: st.Warehouse, Error: st.Error,
			Since: fmt.Sprintf(texts[lang]["watch_since"], since.In(cfg.Location).Format("01-02 15:04"),
				st.CheckedAt.In(cfg.Location).Format("15:04"))})
	}
	return out
}

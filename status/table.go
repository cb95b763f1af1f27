package status

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/marks"
)

// WriteTable writes the board as aligned columns for `sekisho status`.
// Columns are padded by display width, so emoji and Japanese words (two
// terminal cells each) still line up.
func WriteTable(w io.Writer, b *Board) error {
	head := marks.Banner(b.Overall == OverallOK).Line(b.Language)
	if _, err := fmt.Fprintf(w, "%s  (%s, %s)\n\n", head, b.Date, b.GeneratedAt.Format("2006-01-02 15:04 MST")); err != nil {
		return err
	}
	rows := [][]string{{"PIPELINE", "STATE", "ATTEMPT", "GATE", "FINISHED", "DEADLINE", "UPSTREAMS"}}
	for _, p := range b.Pipelines {
		emoji, word := Label(p.State, p.Late, b.Language)
		if p.Holiday != "" {
			word += " " + p.Holiday
		}
		if p.State == sekisho.StateSucceeded && p.SLOMet != nil && !*p.SLOMet {
			// Done, but after the deadline: the day counts as a miss.
			word += " (" + marks.Late.Emoji + " " + marks.Late.Word(b.Language) + ")"
		}
		attempt := "-"
		if p.Attempt > 0 {
			attempt = fmt.Sprint(p.Attempt)
		}
		rows = append(rows, []string{p.Name, emoji + " " + word, attempt,
			Clock(p.GateAt, p.LogicalDate, p.Location), Clock(p.FinishedAt, p.LogicalDate, p.Location),
			Clock(p.Deadline, p.LogicalDate, p.Location), upstreamSummary(p)})
	}
	widths := make([]int, len(rows[0]))
	for _, r := range rows {
		for i, c := range r {
			widths[i] = max(widths[i], marks.Width(c))
		}
	}
	for _, r := range rows {
		var line strings.Builder
		for i, c := range r {
			line.WriteString(c)
			if i < len(r)-1 {
				line.WriteString(strings.Repeat(" ", widths[i]-marks.Width(c)+2))
			}
		}
		if _, err := fmt.Fprintln(w, strings.TrimRight(line.String(), " ")); err != nil {
			return err
		}
	}
	return nil
}

// upstreamSummary reads "2/3 ok; hegel_export failed".
func upstreamSummary(p *Pipeline) string {
	if len(p.Upstreams) == 0 {
		return "-"
	}
	ok := 0
	var notes []string
	for _, u := range p.Upstreams {
		switch {
		case u.State == sekisho.JobSucceeded:
			ok++
		case u.State == sekisho.JobFailed:
			notes = append(notes, u.Name+" failed")
		case u.Error != "":
			notes = append(notes, u.Name+" check error")
		}
	}
	s := fmt.Sprintf("%d/%d ok", ok, len(p.Upstreams))
	if len(notes) > 0 {
		s += "; " + strings.Join(notes, ", ")
	}
	var next time.Time
	for _, u := range p.Upstreams {
		if !u.NextCheckAt.IsZero() && (next.IsZero() || u.NextCheckAt.Before(next)) {
			next = u.NextCheckAt
		}
	}
	if !next.IsZero() {
		s += "; next check " + next.In(p.Location).Format("15:04")
	}
	return s
}

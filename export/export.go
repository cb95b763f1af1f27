// Package export streams sekisho's record out of SQLite for BI loads (for
// example `bq load`): the runs and transitions tables and the slo_daily
// view, as newline-delimited JSON or CSV. Rows are written as they are
// read, so memory stays flat however long the history is. Times stay as
// stored, RFC 3339 in UTC, which BigQuery and most tools read as timestamps.
package export

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/sekisho-dev/sekisho/store"
)

// Tables lists what Export can write, with their columns in output order.
// runs.spec (the pipeline's config snapshot) is left out: it is not data
// about the run, and rendered trigger conf may hold values nobody meant to
// hand to a BI tool.
var Tables = map[string][]string{
	"runs": {"id", "pipeline", "logical_date", "run_key", "attempt", "state", "gate_at", "attempt_at", "timeout_at",
		"deadline", "recover_by", "intent_at", "triggered_at", "started_at", "finished_at", "first_success_at",
		"external_id", "message", "updated_at", "version"},
	"transitions": {"id", "run_id", "pipeline", "logical_date", "attempt", "from_state", "to_state", "at",
		"reason", "detail"},
	"slo_daily": {"pipeline", "logical_date", "run_key", "deadline", "finished_at", "slo_met", "sla_met", "state",
		"attempts", "duration_seconds"},
}

// TableNames and Formats list the choices in the order help texts show them.
var (
	TableNames = []string{"runs", "transitions", "slo_daily"}
	Formats    = []string{"ndjson", "csv"}
)

// order keeps output stable between exports, so two files diff cleanly.
var order = map[string]string{
	"runs":        "id",
	"transitions": "id",
	"slo_daily":   "logical_date, pipeline, run_key",
}

// Export writes every row of table to w in format (ndjson or csv). An
// unknown table or format is an error naming the choices.
func Export(ctx context.Context, st *store.Store, table, format string, w io.Writer) error {
	cols, ok := Tables[table]
	if !ok {
		return fmt.Errorf("unknown table %q: choose %s", table, strings.Join(TableNames, ", "))
	}
	var enc encoder
	switch format {
	case "ndjson":
		enc = &ndjson{cols: cols}
	case "csv":
		enc = &csvEnc{}
	default:
		return fmt.Errorf("unknown format %q: choose %s", format, strings.Join(Formats, ", "))
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	buf := make([]byte, 0, 1024)
	var err error
	if buf, err = enc.header(buf, cols); err != nil {
		return err
	}
	err = st.ScanPublic(ctx, table, cols, order[table], func(vals []any) error {
		if buf, err = enc.row(buf, vals); err != nil {
			return err
		}
		if len(buf) >= 32<<10 {
			if _, err := bw.Write(buf); err != nil {
				return fmt.Errorf("write: %w", err)
			}
			buf = buf[:0]
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("export %s: %w", table, err)
	}
	if _, err := bw.Write(buf); err != nil {
		return fmt.Errorf("export %s: write: %w", table, err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("export %s: write: %w", table, err)
	}
	return nil
}

// encoder appends one line per row to a reused buffer.
type encoder interface {
	header(buf []byte, cols []string) ([]byte, error)
	row(buf []byte, vals []any) ([]byte, error)
}

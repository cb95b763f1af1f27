package export

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"strconv"
)

// csvEnc writes RFC 4180 CSV with a header line. NULL is an empty field,
// which `bq load --source_format=CSV` and spreadsheets read as NULL.
type csvEnc struct {
	out    bytes.Buffer
	w      *csv.Writer
	fields []string
}

func (e *csvEnc) header(buf []byte, cols []string) ([]byte, error) {
	e.w = csv.NewWriter(&e.out)
	e.fields = make([]string, len(cols))
	return e.line(buf, cols)
}

func (e *csvEnc) row(buf []byte, vals []any) ([]byte, error) {
	for i, v := range vals {
		switch x := v.(type) {
		case nil:
			e.fields[i] = ""
		case int64:
			e.fields[i] = strconv.FormatInt(x, 10)
		case float64:
			e.fields[i] = strconv.FormatFloat(x, 'g', -1, 64)
		case string:
			e.fields[i] = x
		case []byte:
			e.fields[i] = string(x)
		case bool:
			e.fields[i] = strconv.FormatBool(x)
		default:
			return buf, fmt.Errorf("column %d: unexpected %T", i, v)
		}
	}
	return e.line(buf, e.fields)
}

func (e *csvEnc) line(buf []byte, fields []string) ([]byte, error) {
	if err := e.w.Write(fields); err != nil {
		return buf, err
	}
	e.w.Flush()
	buf = append(buf, e.out.Bytes()...)
	e.out.Reset()
	return buf, e.w.Error()
}

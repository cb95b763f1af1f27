package export

import (
	"fmt"
	"strconv"
	"unicode/utf8"
)

// ndjson writes one JSON object per line, keys in column order. INTEGER
// columns become numbers, TEXT strings, NULL null: what `bq load
// --source_format=NEWLINE_DELIMITED_JSON --autodetect` types as INTEGER,
// STRING/TIMESTAMP/DATE and NULL.
type ndjson struct {
	cols []string
	keys [][]byte // `"name":` per column, built once
}

func (e *ndjson) header(buf []byte, cols []string) ([]byte, error) {
	e.keys = make([][]byte, len(cols))
	for i, c := range cols {
		sep := ","
		if i == 0 {
			sep = "{"
		}
		e.keys[i] = append(appendString([]byte(sep), c), ':')
	}
	return buf, nil
}

func (e *ndjson) row(buf []byte, vals []any) ([]byte, error) {
	for i, v := range vals {
		buf = append(buf, e.keys[i]...)
		switch x := v.(type) {
		case nil:
			buf = append(buf, "null"...)
		case int64:
			buf = strconv.AppendInt(buf, x, 10)
		case float64:
			buf = strconv.AppendFloat(buf, x, 'g', -1, 64)
		case string:
			buf = appendString(buf, x)
		case []byte:
			buf = appendString(buf, string(x))
		case bool:
			buf = strconv.AppendBool(buf, x)
		default:
			return buf, fmt.Errorf("column %s: unexpected %T", e.cols[i], v)
		}
	}
	return append(buf, '}', '\n'), nil
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string. Invalid UTF-8 becomes U+FFFD, as
// encoding/json does, so every line stays valid JSON for a loader.
func appendString(buf []byte, s string) []byte {
	buf = append(buf, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				buf = append(buf, '\\', c)
			case c == '\n':
				buf = append(buf, '\\', 'n')
			case c == '\r':
				buf = append(buf, '\\', 'r')
			case c == '\t':
				buf = append(buf, '\\', 't')
			case c < 0x20:
				buf = append(buf, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			default:
				buf = append(buf, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			buf = append(buf, `\ufffd`...)
		} else {
			buf = append(buf, s[i:i+size]...)
		}
		i += size
	}
	return append(buf, '"')
}

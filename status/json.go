package status

import (
	"errors"
	"io"
	"math"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"
)

// The status answer (GET /api/v1/status, `sekisho status --json`) is
// written by hand: at 10,000 pipelines encoding/json's reflection and its
// json.Indent pass cost more than building the board (issue #23). The
// bytes are the ones encoding/json's Encoder with SetIndent("", "  ") and
// its default HTML escaping writes for a Board (the MarshalJSON methods in
// board.go stay that reference); TestWriteJSONIsTheEncodersAnswer,
// TestAppendJSONMatchesEncodingJSON and FuzzPipelineJSON hold them equal,
// and TestJSONGeneratorSetsEveryField fails when a field is added to a
// type here without a line in the encoder.

// flushAt is how much of the answer is kept before it is written out.
const flushAt = 32 << 10

var answerBufs = sync.Pool{New: func() any { b := make([]byte, 0, flushAt+8<<10); return &b }}

// putAnswerBuf gives bp back to answerBufs, emptied; a buffer an outsized
// entry grew is left to the collector.
func putAnswerBuf(bp *[]byte) {
	if cap(*bp) <= 4*flushAt {
		*bp = (*bp)[:0]
		answerBufs.Put(bp)
	}
}

// WriteJSON writes b as GET /api/v1/status and `sekisho status --json`
// answer it: byte for byte what encoding/json's Encoder with a two-space
// indent writes, one pipeline at a time into a pooled buffer, so a board
// of 10,000 pipelines is never held in memory a second time as one text.
func (b *Board) WriteJSON(w io.Writer) error {
	if b.Pipelines == nil {
		return b.writeJSON(w, -1, nil)
	}
	return b.writeJSON(w, len(b.Pipelines), func(buf []byte, w io.Writer) ([]byte, error) {
		return appendEntries(buf, w, 0, len(b.Pipelines), func(i int) *Pipeline { return b.Pipelines[i] })
	})
}

// writeJSON writes b with its n entries (n < 0: null), which body appends
// to buf, writing out what it holds past flushAt: the whole board
// (WriteJSON) or entries made as they are written (Answer).
func (b *Board) writeJSON(w io.Writer, n int, body func(buf []byte, w io.Writer) ([]byte, error)) error {
	bp := answerBufs.Get().(*[]byte)
	buf := (*bp)[:0]
	defer func() {
		*bp = buf
		putAnswerBuf(bp)
	}()

	buf = append(buf, "{\n  \"generated_at\": "...)
	var err error
	if buf, err = appendTime(buf, b.GeneratedAt); err != nil {
		return err
	}
	buf = append(buf, ",\n  \"date\": "...)
	buf = appendString(buf, b.Date)
	buf = append(buf, ",\n  \"overall\": "...)
	buf = appendString(buf, b.Overall)
	buf = append(buf, ",\n  \"pipelines\": "...)
	if n < 0 {
		buf = append(buf, "null"...)
	} else {
		buf = append(buf, '[')
		if buf, err = body(buf, w); err != nil {
			return err
		}
		if n > 0 {
			buf = append(buf, "\n  "...)
		}
		buf = append(buf, ']')
	}
	buf = append(buf, "\n}\n"...)
	_, err = w.Write(buf)
	return err
}

// appendEntries appends the entries from..to, entry(i) each (asked for
// once the one before is appended), writing buf out to w whenever it
// holds flushAt (w nil: it keeps them all).
func appendEntries(buf []byte, w io.Writer, from, to int, entry func(i int) *Pipeline) ([]byte, error) {
	var err error
	for i := from; i < to; i++ {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, "\n    "...)
		if buf, err = entry(i).appendJSON(buf, 2); err != nil {
			return buf, err
		}
		if w != nil && len(buf) >= flushAt {
			if _, err := w.Write(buf); err != nil {
				return buf, err
			}
			buf = buf[:0]
		}
	}
	return buf, nil
}

// spaces indents up to depth len(spaces)/2; deeper levels are built.
const spaces = "                "

func indent(b []byte, depth int) []byte {
	b = append(b, '\n')
	for ; depth > len(spaces)/2; depth -= len(spaces) / 2 {
		b = append(b, spaces...)
	}
	return append(b, spaces[:2*depth]...)
}

// object writes one JSON object's members indented at depth+1, its braces
// at depth, as json.Indent lays them out.
type object struct {
	b     []byte
	depth int
	n     int
	err   error // the first value JSON cannot say; close returns it
}

func openObject(b []byte, depth int) object { return object{b: append(b, '{'), depth: depth} }

// key starts the member k (a plain name: no escaping needed).
func (o *object) key(k string) {
	if o.n > 0 {
		o.b = append(o.b, ',')
	}
	o.n++
	o.b = indent(o.b, o.depth+1)
	o.b = append(o.b, '"')
	o.b = append(o.b, k...)
	o.b = append(o.b, "\": "...)
}

func (o *object) str(k, v string) { o.key(k); o.b = appendString(o.b, v) }

func (o *object) strOmitEmpty(k, v string) {
	if v != "" {
		o.str(k, v)
	}
}

func (o *object) boolean(k string, v bool) { o.key(k); o.b = strconv.AppendBool(o.b, v) }

func (o *object) boolPtr(k string, v *bool) {
	o.key(k)
	if v == nil {
		o.b = append(o.b, "null"...)
		return
	}
	o.b = strconv.AppendBool(o.b, *v)
}

// timeIn writes t in loc as RFC 3339 seconds, null when unknown: board.go's
// jsonTime.
func (o *object) timeIn(k string, t time.Time, loc *time.Location) {
	o.key(k)
	if t.IsZero() {
		o.b = append(o.b, "null"...)
		return
	}
	o.b = append(o.b, '"')
	o.b = t.In(loc).AppendFormat(o.b, time.RFC3339)
	o.b = append(o.b, '"')
}

func (o *object) strings(k string, v []string) {
	o.key(k)
	if v == nil {
		o.b = append(o.b, "null"...)
		return
	}
	o.b = append(o.b, '[')
	for i, s := range v {
		if i > 0 {
			o.b = append(o.b, ',')
		}
		o.b = indent(o.b, o.depth+2)
		o.b = appendString(o.b, s)
	}
	if len(v) > 0 {
		o.b = indent(o.b, o.depth+1)
	}
	o.b = append(o.b, ']')
}

// time writes t as time.Time's MarshalJSON does.
func (o *object) time(k string, t time.Time) {
	o.key(k)
	var err error
	if o.b, err = appendTime(o.b, t); err != nil && o.err == nil {
		o.err = err
	}
}

func (o *object) float(k string, f float64) {
	o.key(k)
	var err error
	if o.b, err = appendFloat(o.b, f); err != nil && o.err == nil {
		o.err = err
	}
}

// array writes v as k, null when nil, each element by elem at depth+2.
func array[T any](o *object, k string, v []T, elem func(*T, []byte, int) ([]byte, error)) {
	o.key(k)
	if v == nil {
		o.b = append(o.b, "null"...)
		return
	}
	o.b = append(o.b, '[')
	for i := range v {
		if i > 0 {
			o.b = append(o.b, ',')
		}
		o.b = indent(o.b, o.depth+2)
		var err error
		if o.b, err = elem(&v[i], o.b, o.depth+2); err != nil && o.err == nil {
			o.err = err
		}
	}
	if len(v) > 0 {
		o.b = indent(o.b, o.depth+1)
	}
	o.b = append(o.b, ']')
}

func (o *object) close() ([]byte, error) {
	if o.n > 0 {
		o.b = indent(o.b, o.depth)
	}
	return append(o.b, '}'), o.err
}

// appendJSON appends p as the board's Encoder writes it at depth (its
// braces indented depth levels): the fields of Pipeline.MarshalJSON, in its
// order (the time overrides come last).
func (p *Pipeline) appendJSON(b []byte, depth int) ([]byte, error) {
	if p == nil {
		return append(b, "null"...), nil
	}
	o := openObject(b, depth)
	o.str("name", p.Name)
	o.str("description", p.Description)
	o.str("logical_date", p.LogicalDate)
	o.str("key", p.Key)
	if len(p.Intervals) > 0 {
		array(&o, "intervals", p.Intervals, (*Interval).appendJSON)
	}
	o.str("state", string(p.State))
	o.key("attempt")
	o.b = strconv.AppendInt(o.b, int64(p.Attempt), 10)
	o.str("summary", p.Summary)
	o.boolPtr("slo_met", p.SLOMet)
	o.boolean("late", p.Late)
	o.strOmitEmpty("holiday", p.Holiday)
	o.strOmitEmpty("message", p.Message)
	array(&o, "upstreams", p.Upstreams, (*Upstream).appendJSON)
	o.strings("affected_by", p.AffectedBy)
	if p.ETA == nil {
		o.key("eta")
		o.b = append(o.b, "null"...)
	} else {
		o.time("eta", *p.ETA)
	}
	if c := p.ETACause; c != nil {
		o.key("eta_cause")
		co := openObject(o.b, depth+1)
		co.strOmitEmpty("upstream", c.Upstream)
		if len(c.Via) > 0 {
			co.strings("via", c.Via)
		}
		o.b, _ = co.close()
	}
	o.strOmitEmpty("eta_source", p.ETASource)
	o.strings("impacts", p.Impacts)
	o.timeIn("gate_at", p.GateAt, p.Location)
	o.timeIn("triggered_at", p.TriggeredAt, p.Location)
	o.timeIn("finished_at", p.FinishedAt, p.Location)
	o.timeIn("deadline", p.Deadline, p.Location)
	return o.close()
}

// appendJSON appends iv as encoding/json writes it (no MarshalJSON: its
// gate time is time.Time's own RFC 3339 with nanoseconds).
func (iv *Interval) appendJSON(b []byte, depth int) ([]byte, error) {
	o := openObject(b, depth)
	o.str("key", iv.Key)
	o.str("time", iv.Time)
	o.str("state", string(iv.State))
	o.time("gate_at", iv.GateAt)
	o.boolPtr("slo_met", iv.SLOMet)
	o.boolean("late", iv.Late)
	return o.close()
}

// appendJSON appends u as Upstream.MarshalJSON writes it, indented.
func (u *Upstream) appendJSON(b []byte, depth int) ([]byte, error) {
	o := openObject(b, depth)
	o.str("name", u.Name)
	o.str("type", u.Type)
	o.str("state", string(u.State))
	o.str("external_id", u.ExternalID)
	o.str("message", u.Message)
	o.str("error", u.Error)
	if u.Value != nil {
		o.float("value", *u.Value)
	}
	o.strOmitEmpty("reason", u.Reason)
	o.timeIn("started_at", u.StartedAt, time.UTC)
	o.timeIn("finished_at", u.FinishedAt, time.UTC)
	o.timeIn("observed_at", u.ObservedAt, time.UTC)
	o.timeIn("next_check_at", u.NextCheckAt, time.UTC)
	return o.close()
}

// appendTime appends t as time.Time's MarshalJSON does: RFC 3339 with
// nanoseconds, refusing what RFC 3339 cannot say (a year past 9999).
func appendTime(b []byte, t time.Time) ([]byte, error) {
	out, err := t.AppendText(append(b, '"'))
	if err != nil {
		return b, errors.New("status: time " + err.Error())
	}
	return append(out, '"'), nil
}

// appendFloat appends f as encoding/json writes a float64: the shortest
// decimal, in exponent form below 1e-6 and from 1e21, "e-07" as "e-7".
func appendFloat(b []byte, f float64) ([]byte, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return b, errors.New("status: unsupported value " + strconv.FormatFloat(f, 'g', -1, 64))
	}
	format := byte('f')
	if a := math.Abs(f); a != 0 && (a < 1e-6 || a >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if n := len(b); format == 'e' && n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
		b[n-2] = b[n-1]
		b = b[:n-1]
	}
	return b, nil
}

const hexDigits = "0123456789abcdef"

// appendString appends s quoted as encoding/json does by default: '"' and
// '\\' and the control characters escaped (\b \f \n \r \t by name), '<',
// '>' and '&' as \u00XX for HTML, U+2028 and U+2029 as \u2028 and \u2029
// for JavaScript, and each byte of invalid UTF-8 as \ufffd.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

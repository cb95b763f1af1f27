package status

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/policy/eta"
)

// jsonStrings are the strings the random values draw from: each kind of
// byte encoding/json escapes its own way.
var jsonStrings = []string{
	"", "p00001", "a<b>&c", `bad "quote" \ back`, "line\nfeed\r\ttab\b\f", "\x00\x01\x1f\x7f",
	"\u2028 and \u2029", "日本語の説明", "bad utf-8 \xff\xfe", "cut \xe6\x97", "surrogate \xed\xa0\x80", "emoji 🚦",
}

var jsonZones = []*time.Location{time.UTC, time.FixedZone("JST", 9*3600), time.FixedZone("", -(3*3600 + 30*60)),
	time.FixedZone("NPT", 5*3600+45*60)}

// jsonGen makes random status values with every serialized field set in
// some of them: TestJSONGeneratorSetsEveryField holds it to that.
type jsonGen struct{ r *rand.Rand }

func (g jsonGen) str() string { return jsonStrings[g.r.IntN(len(jsonStrings))] }

func (g jsonGen) strs() []string {
	switch g.r.IntN(3) {
	case 0:
		return nil
	case 1:
		return []string{}
	}
	out := make([]string, 1+g.r.IntN(3))
	for i := range out {
		out[i] = g.str()
	}
	return out
}

func (g jsonGen) time() time.Time {
	if g.r.IntN(3) == 0 {
		return time.Time{}
	}
	t := time.Unix(1_700_000_000+g.r.Int64N(200_000_000), 0)
	if g.r.IntN(2) == 0 {
		t = t.Add(time.Duration(g.r.IntN(1e9)))
	}
	return t.In(jsonZones[g.r.IntN(len(jsonZones))])
}

func (g jsonGen) boolPtr() *bool {
	if g.r.IntN(3) == 0 {
		return nil
	}
	v := g.r.IntN(2) == 0
	return &v
}

var jsonFloats = []float64{0, math.Copysign(0, -1), 1, -2.5, 123456.789, 1e-6, 9.99e-7, 1e-7, 1.5e-300, 1e20, 1e21, -3e22, math.MaxFloat64}

func (g jsonGen) pipeline() *Pipeline {
	p := &Pipeline{Name: g.str(), Description: g.str(), LogicalDate: g.str(), Key: g.str(),
		State: sekisho.State(g.str()), Attempt: g.r.IntN(5) - 1, Summary: g.str(),
		GateAt: g.time(), TriggeredAt: g.time(), FinishedAt: g.time(), Deadline: g.time(),
		SLOMet: g.boolPtr(), Late: g.r.IntN(2) == 0, Holiday: g.str(), Message: g.str(),
		AffectedBy: g.strs(), ETASource: g.str(), Impacts: g.strs(),
		Location: jsonZones[g.r.IntN(len(jsonZones))]}
	if g.r.IntN(2) == 0 {
		p.Intervals = []Interval{}
		for range g.r.IntN(3) {
			p.Intervals = append(p.Intervals, Interval{Key: g.str(), Time: g.str(), State: sekisho.State(g.str()),
				GateAt: g.time(), SLOMet: g.boolPtr(), Late: g.r.IntN(2) == 0})
		}
	}
	if g.r.IntN(4) > 0 {
		p.Upstreams = []Upstream{}
		for range g.r.IntN(3) {
			u := Upstream{Name: g.str(), Type: g.str(), State: sekisho.JobState(g.str()), ExternalID: g.str(),
				StartedAt: g.time(), FinishedAt: g.time(), Message: g.str(), Error: g.str(), Reason: g.str(),
				ObservedAt: g.time(), NextCheckAt: g.time()}
			if g.r.IntN(2) == 0 {
				v := jsonFloats[g.r.IntN(len(jsonFloats))] * float64(1+g.r.IntN(3))
				u.Value = &v
			}
			p.Upstreams = append(p.Upstreams, u)
		}
	}
	if t := g.time(); !t.IsZero() {
		p.ETA = &t
	}
	if g.r.IntN(2) == 0 {
		p.ETACause = &eta.Cause{Upstream: g.str(), Via: g.strs()}
	}
	return p
}

func (g jsonGen) board() *Board {
	b := &Board{GeneratedAt: g.time(), Date: g.str(), Overall: g.str(), Language: g.str()}
	if g.r.IntN(5) > 0 {
		b.Pipelines = []*Pipeline{}
		for range g.r.IntN(4) {
			p := g.pipeline()
			if g.r.IntN(10) == 0 {
				p = nil
			}
			b.Pipelines = append(b.Pipelines, p)
		}
	}
	return b
}

// encoderAnswer is the reference: encoding/json's Encoder, two-space
// indent, HTML escaping on (the default), as the API answered before
// WriteJSON streamed.
func encoderAnswer(b *Board) ([]byte, error) {
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetIndent("", "  ")
	err := enc.Encode(b)
	return out.Bytes(), err
}

// sameAsEncoder fails t unless WriteJSON writes the Encoder's bytes for b,
// or both refuse b; it returns the answer.
func sameAsEncoder(t *testing.T, b *Board) []byte {
	t.Helper()
	want, werr := encoderAnswer(b)
	var got bytes.Buffer
	gerr := b.WriteJSON(&got)
	if (werr != nil) != (gerr != nil) {
		t.Fatalf("WriteJSON error %v, encoding/json error %v", gerr, werr)
	}
	if werr == nil && !bytes.Equal(got.Bytes(), want) {
		t.Fatalf("WriteJSON:\n%s\nencoding/json:\n%s", got.Bytes(), want)
	}
	return got.Bytes()
}

// Random boards, with every field set in some of them and every kind of
// string escape, encode as encoding/json encodes them.
func TestAppendJSONMatchesEncodingJSON(t *testing.T) {
	g := jsonGen{rand.New(rand.NewPCG(23, 2026))}
	for range 2000 {
		sameAsEncoder(t, g.board())
	}
	// A board bigger than one flush, so the answer is written in parts.
	b := &Board{Pipelines: make([]*Pipeline, 400)}
	for i := range b.Pipelines {
		b.Pipelines[i] = g.pipeline()
	}
	if out := sameAsEncoder(t, b); len(out) < 2*flushAt {
		t.Fatalf("the big board is only %d bytes", len(out))
	}
}

// What RFC 3339 and JSON cannot say is refused, as encoding/json refuses it.
func TestWriteJSONRefusesWhatEncodingJSONRefuses(t *testing.T) {
	nan, far := math.NaN(), time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
	for name, p := range map[string]*Pipeline{
		"NaN value":      {Location: time.UTC, Upstreams: []Upstream{{Value: &nan}}},
		"ETA past 9999":  {Location: time.UTC, ETA: &far},
		"interval gate ": {Location: time.UTC, Intervals: []Interval{{GateAt: far}}},
	} {
		b := &Board{Pipelines: []*Pipeline{p}}
		if err := b.WriteJSON(&bytes.Buffer{}); err == nil {
			t.Errorf("%s: WriteJSON wrote it", name)
		}
		sameAsEncoder(t, b)
	}
}

// A field added to a serialized status type must be given values by the
// generator (so the comparison with encoding/json covers it) and written
// by the encoder: this fails until both are done.
func TestJSONGeneratorSetsEveryField(t *testing.T) {
	set := map[reflect.Type]map[string]bool{}
	var walk func(v reflect.Value)
	walk = func(v reflect.Value) {
		switch v.Kind() {
		case reflect.Pointer:
			if !v.IsNil() {
				walk(v.Elem())
			}
		case reflect.Slice:
			for i := range v.Len() {
				walk(v.Index(i))
			}
		case reflect.Struct:
			if v.Type().PkgPath() != reflect.TypeFor[Board]().PkgPath() && v.Type() != reflect.TypeFor[eta.Cause]() {
				return // time.Time and the like: encoded whole
			}
			if set[v.Type()] == nil {
				set[v.Type()] = map[string]bool{}
			}
			for i := range v.NumField() {
				f := v.Type().Field(i)
				if !f.IsExported() || f.Tag.Get("json") == "-" {
					continue
				}
				if !v.Field(i).IsZero() {
					set[v.Type()][f.Name] = true
				}
				walk(v.Field(i))
			}
		}
	}
	g := jsonGen{rand.New(rand.NewPCG(1, 2))}
	var out []byte
	for range 300 {
		b := g.board()
		walk(reflect.ValueOf(b))
		out = append(out, sameAsEncoder(t, b)...)
	}
	for _, typ := range []reflect.Type{reflect.TypeFor[Board](), reflect.TypeFor[Pipeline](), reflect.TypeFor[Interval](),
		reflect.TypeFor[Upstream](), reflect.TypeFor[eta.Cause]()} {
		for i := range typ.NumField() {
			f := typ.Field(i)
			tag := f.Tag.Get("json")
			if !f.IsExported() || tag == "-" {
				continue
			}
			if !set[typ][f.Name] {
				t.Errorf("%s.%s: the generator never sets it; give it values in jsonGen", typ.Name(), f.Name)
			}
			if name, _, _ := strings.Cut(tag, ","); !bytes.Contains(out, []byte(`"`+name+`": `)) {
				t.Errorf("%s.%s: %q never written; add it to appendJSON (json.go)", typ.Name(), f.Name, name)
			}
		}
	}
}

// FuzzPipelineJSON compares WriteJSON with encoding/json on a random
// pipeline whose strings, number and times the fuzzer picks.
func FuzzPipelineJSON(f *testing.F) {
	f.Add(uint64(1), "a<b>&c", "\u2028\xff", 1.5, int64(1_700_000_000), int64(5))
	f.Add(uint64(2), "", "\x00\"\\", 1e-7, int64(-62135596800), int64(0))
	f.Add(uint64(3), "日本", "\xed\xa0\x80", math.Inf(1), int64(253402300800), int64(999999999))
	f.Fuzz(func(t *testing.T, seed uint64, s1, s2 string, v float64, sec, nsec int64) {
		g := jsonGen{rand.New(rand.NewPCG(seed, 0))}
		p := g.pipeline()
		at := time.Unix(sec, nsec).In(jsonZones[seed%uint64(len(jsonZones))])
		p.Name, p.Message, p.Summary, p.ETA = s1, s2, s1+s2, &at
		p.GateAt = at
		p.AffectedBy = append(p.AffectedBy, s2)
		p.Intervals = append(p.Intervals, Interval{Key: s1, Time: s2, GateAt: at})
		p.Upstreams = append(p.Upstreams, Upstream{Name: s2, Error: s1, Value: &v, ObservedAt: at})
		p.ETACause = &eta.Cause{Upstream: s1, Via: []string{s2}}
		sameAsEncoder(t, &Board{GeneratedAt: at, Date: s1, Overall: s2, Pipelines: []*Pipeline{p}})
	})
}

package web

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/slo"
	"github.com/sekisho-dev/sekisho/status"
	"github.com/sekisho-dev/sekisho/store"
)

func (s *server) apiStatus(w http.ResponseWriter, r *http.Request) {
	date := r.URL.Query().Get("date")
	if date != "" && !validDate(date) {
		writeError(w, http.StatusBadRequest, "date "+strconv.Quote(date)+" is not a date: use YYYY-MM-DD")
		return
	}
	cfg, ok := s.needConfig(w)
	if !ok {
		return
	}
	// Each entry is made as it is written: the answer never holds them all.
	an, err := s.listing.Answer(r.Context(), s.Store, cfg, date, s.Clock.Now())
	if err != nil {
		s.internal(w, "status", err)
		return
	}
	jsonHeader(w, http.StatusOK)
	_ = an.WriteJSON(w)
}

func (s *server) apiRuns(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := store.RunFilter{Pipeline: q.Get("pipeline"), From: q.Get("from"), To: q.Get("to"), Limit: 100}
	for _, d := range []struct{ key, v string }{{"from", f.From}, {"to", f.To}} {
		if d.v != "" && !validDate(d.v) {
			writeError(w, http.StatusBadRequest, d.key+" "+strconv.Quote(d.v)+" is not a date: use YYYY-MM-DD")
			return
		}
	}
	if f.From != "" && f.To != "" && f.From > f.To {
		writeError(w, http.StatusBadRequest, "from "+f.From+" is after to "+f.To+": swap them")
		return
	}
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 1000 {
			writeError(w, http.StatusBadRequest, "limit "+strconv.Quote(l)+" must be a number from 1 to 1000")
			return
		}
		f.Limit = n
	}
	cfg, ok := s.needConfig(w)
	if !ok {
		return
	}
	runs, err := s.Store.Runs(r.Context(), f)
	if err != nil {
		s.internal(w, "runs", err)
		return
	}
	if f.Pipeline != "" && cfg.Pipeline(f.Pipeline) == nil && len(runs) == 0 {
		writeError(w, http.StatusNotFound, "unknown pipeline "+strconv.Quote(f.Pipeline))
		return
	}
	out := make([]runJSON, 0, len(runs))
	for _, run := range runs {
		out = append(out, newRunJSON(run, s.Clock.Now()))
	}
	writeJSON(w, http.StatusOK, map[string]any{"runs": out})
}

// runPath reads the pipeline and the run key of a run's path
// (/api/v1/runs/{pipeline}/{key}): a logical date or, for a sub-daily
// pipeline, a fire time (SPEC §19).
func runPath(w http.ResponseWriter, r *http.Request) (name, key string, ok bool) {
	name, key = r.PathValue("pipeline"), r.PathValue("key")
	if _, err := sekisho.ParseKey(key); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return "", "", false
	}
	return name, key, true
}

func (s *server) apiRun(w http.ResponseWriter, r *http.Request) {
	name, key, ok := runPath(w, r)
	if !ok {
		return
	}
	cfg, ok := s.needConfig(w)
	if !ok {
		return
	}
	ctx := r.Context()
	run, err := s.Store.Run(ctx, name, key)
	if errors.Is(err, sekisho.ErrNotFound) {
		msg := "no run of " + name + " on " + key
		if sekisho.SubDailyKey(key) {
			msg = "no run of " + name + " at " + key
		}
		if cfg.Pipeline(name) == nil {
			msg = "unknown pipeline " + strconv.Quote(name)
		}
		writeError(w, http.StatusNotFound, msg)
		return
	}
	if err != nil {
		s.internal(w, "run", err)
		return
	}
	entry, err := status.ForPipeline(ctx, s.Store, cfg, name, run.LogicalDate, s.Clock.Now())
	if err != nil {
		s.internal(w, "run", err)
		return
	}
	d, err := s.runDetail(r, run)
	if err != nil {
		s.internal(w, "run", err)
		return
	}
	// The run's fields are the board entry's, plus the stored run's own.
	fields := map[string]any{}
	raw, _ := json.Marshal(entry)
	_ = json.Unmarshal(raw, &fields)
	raw, _ = json.Marshal(newRunJSON(run, s.Clock.Now()))
	_ = json.Unmarshal(raw, &fields)
	fields["transitions"], fields["observations"], fields["notices"] = d.Transitions, d.Observations, d.Notices
	writeJSON(w, http.StatusOK, fields)
}

func (s *server) apiSLO(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	cfg, ok := s.needConfig(w)
	if !ok {
		return
	}
	rep, err := slo.Compute(r.Context(), s.Store, cfg, slo.Query{From: q.Get("from"), To: q.Get("to"),
		Pipeline: q.Get("pipeline"), Now: s.Clock.Now()})
	switch {
	case errors.Is(err, slo.ErrBadRange):
		writeError(w, http.StatusBadRequest, err.Error())
	case errors.Is(err, sekisho.ErrNotFound):
		writeError(w, http.StatusNotFound, "unknown pipeline "+strconv.Quote(q.Get("pipeline")))
	case err != nil:
		s.internal(w, "slo", err)
	default:
		writeJSON(w, http.StatusOK, rep)
	}
}

func (s *server) needConfig(w http.ResponseWriter) (*config.Config, bool) {
	cfg := s.cfg()
	if cfg == nil || s.Store == nil {
		writeError(w, http.StatusServiceUnavailable, "sekisho is starting: try again in a few seconds")
		return nil, false
	}
	return cfg, true
}

// internal answers 500 without the error's text, which may name files or
// hosts, and logs it.
func (s *server) internal(w http.ResponseWriter, what string, err error) {
	s.Logger.Error("http: "+what+" failed", "err", err)
	writeError(w, http.StatusInternalServerError, what+" failed: see the sekisho log")
}

func validDate(d string) bool {
	t, err := time.Parse(sekisho.DateLayout, d)
	return err == nil && t.Format(sekisho.DateLayout) == d
}

// runJSON is a stored run as the API shows it. The run's config snapshot
// stays out: it is internal and may hold conf values meant for the DAG only.
type runJSON struct {
	Pipeline       string        `json:"pipeline"`
	LogicalDate    string        `json:"logical_date"`
	Key            string        `json:"key"` // the run's key (SPEC §19): logical_date, or a sub-daily run's fire time
	State          sekisho.State `json:"state"`
	Attempt        int           `json:"attempt"`
	GateAt         *string       `json:"gate_at"`
	AttemptAt      *string       `json:"attempt_at"`
	TimeoutAt      *string       `json:"timeout_at"`
	Deadline       *string       `json:"deadline"`
	RecoverBy      *string       `json:"recover_by"`
	TriggeredAt    *string       `json:"triggered_at"`
	StartedAt      *string       `json:"started_at"`
	FinishedAt     *string       `json:"finished_at"`
	FirstSuccessAt *string       `json:"first_success_at"`
	ExternalID     string        `json:"external_id"`
	Message        string        `json:"message"`
	SLOMet         *bool         `json:"slo_met"`
	// DurationSeconds is gate to first success.
	DurationSeconds *int64 `json:"duration_seconds"`
}

func newRunJSON(r sekisho.Run, now time.Time) runJSON {
	j := runJSON{Pipeline: r.Pipeline, LogicalDate: r.LogicalDate, Key: r.Key, State: r.State, Attempt: r.Attempt,
		GateAt: ptime(r.GateAt), AttemptAt: ptime(r.AttemptAt), TimeoutAt: ptime(r.TimeoutAt),
		Deadline: ptime(r.Deadline), RecoverBy: ptime(r.RecoverBy), TriggeredAt: ptime(r.TriggeredAt),
		StartedAt: ptime(r.StartedAt), FinishedAt: ptime(r.FinishedAt), FirstSuccessAt: ptime(r.FirstSuccessAt),
		ExternalID: r.ExternalID, Message: r.Message}
	j.SLOMet = slo.JudgeRun(r, now).SLO.Bool()
	if !r.FirstSuccessAt.IsZero() {
		d := int64(r.FirstSuccessAt.Sub(r.GateAt).Round(time.Second) / time.Second)
		j.DurationSeconds = &d
	}
	return j
}

func ptime(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := t.UTC().Format(time.RFC3339)
	return &s
}

type transitionJSON struct {
	Attempt int            `json:"attempt"`
	From    string         `json:"from"`
	To      string         `json:"to"`
	At      string         `json:"at"`
	Reason  string         `json:"reason"`
	Detail  map[string]any `json:"detail"`
}

type observationJSON struct {
	Upstream   string  `json:"upstream"`
	Type       string  `json:"type"`
	State      string  `json:"state"`
	ExternalID string  `json:"external_id"`
	StartedAt  *string `json:"started_at"`
	FinishedAt *string `json:"finished_at"`
	Message    string  `json:"message"`
	Error      string  `json:"error"`
	ObservedAt *string `json:"observed_at"`
	// Value is a data check's number, Reason why it holds or warned (SPEC §21).
	Value  *float64 `json:"value"`
	Reason string   `json:"reason,omitempty"`
	// NextCheckAt is when a waiting upstream is checked next (SPEC §13).
	NextCheckAt *string `json:"next_check_at"`
}

// noticeJSON leaves out the delivery error: it comes from Slack's side and
// is for the log, not for every reader of the API.
type noticeJSON struct {
	Kind      string  `json:"kind"`
	Attempt   int     `json:"attempt"`
	CreatedAt *string `json:"created_at"`
	SentAt    *string `json:"sent_at"`
	Text      string  `json:"text"`
}

type runDetail struct {
	Transitions  []transitionJSON
	Observations []observationJSON
	Notices      []noticeJSON
}

func (s *server) runDetail(r *http.Request, run sekisho.Run) (runDetail, error) {
	ctx := r.Context()
	d := runDetail{Transitions: []transitionJSON{}, Observations: []observationJSON{}, Notices: []noticeJSON{}}
	ts, err := s.Store.Transitions(ctx, run.ID)
	if err != nil {
		return d, err
	}
	for _, t := range ts {
		det := t.Detail
		if det == nil {
			det = map[string]any{}
		}
		d.Transitions = append(d.Transitions, transitionJSON{Attempt: t.Attempt, From: string(t.From), To: string(t.To),
			At: t.At.UTC().Format(time.RFC3339), Reason: t.Reason, Detail: det})
	}
	obs, err := s.Store.Observations(ctx, run.ID)
	if err != nil {
		return d, err
	}
	next := s.nextChecksOf(r, run)
	for _, o := range obs {
		oj := observationJSON{Upstream: o.Upstream, Type: o.Type, State: string(o.State),
			ExternalID: o.ExternalID, StartedAt: ptime(o.StartedAt), FinishedAt: ptime(o.FinishedAt), Message: o.Message,
			Error: o.Error, ObservedAt: ptime(o.ObservedAt), Value: o.Value, Reason: o.Reason}
		if !o.State.Ended() && !run.State.Terminal() {
			oj.NextCheckAt = ptime(next[o.Upstream])
		}
		d.Observations = append(d.Observations, oj)
	}
	ns, err := s.Store.Notices(ctx, run.ID)
	if err != nil {
		return d, err
	}
	for _, n := range ns {
		d.Notices = append(d.Notices, noticeJSON{Kind: string(n.Kind), Attempt: n.Attempt, CreatedAt: ptime(n.CreatedAt),
			SentAt: ptime(n.SentAt), Text: n.Text})
	}
	return d, nil
}

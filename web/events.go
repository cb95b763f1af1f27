package web

import (
	"errors"
	"net/http"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/sensors/glue"
	"github.com/sekisho-dev/sekisho/sensors/trocco"
)

// Events are accepted with 202 once parsed, whether or not a pipeline waits
// on the job: a sender that got an error would retry forever, and events
// only speed up what polling finds anyway.

func (s *server) glueEvent(w http.ResponseWriter, r *http.Request) {
	if s.Events == nil {
		writeError(w, http.StatusNotImplemented, "event ingestion is not available on this server")
		return
	}
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	job, run, err := glue.ParseEvent(body)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	res := sekisho.Resource{Type: config.TypeGlueJob, ID: job}
	if !s.watched(res) {
		s.Logger.Info("http: glue event for a job no pipeline waits on, ignored", "job", job, "run", run.ExternalID)
		writeJSON(w, http.StatusAccepted, map[string]string{"status": "ignored", "reason": "no pipeline waits on this job"})
		return
	}
	if !s.lookUpStart(w, r, res, &run) {
		return
	}
	if err := s.Events.Ingest(r.Context(), res, run); err != nil {
		s.eventFailed(w, res, err)
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]string{"status": "accepted"})
}

// lookUpStart sets run's start time from one look-up of the run, so an
// event counts only towards the window its run started in. On failure it
// answers and reports false: 503 so the sender retries (the event changed
// nothing), or 202 ignored for a run the vendor does not know.
func (s *server) lookUpStart(w http.ResponseWriter, r *http.Request, res sekisho.Resource, run *sekisho.JobRun) bool {
	if s.Lookup == nil || !run.StartedAt.IsZero() {
		return true
	}
	l := s.Lookup(res.Type)
	if l == nil {
		return true
	}
	started, err := l.StartedAt(r.Context(), res, run.ExternalID)
	if err != nil {
		if errors.Is(err, sekisho.ErrNotFound) {
			s.eventFailed(w, res, err)
			return false
		}
		s.Logger.Warn("http: start time look-up failed; event not counted", "resource", res.Key(), "run", run.ExternalID, "err", err)
		writeError(w, http.StatusServiceUnavailable, "the run's start time could not be read: try again later")
		return false
	}
	run.StartedAt = started
	return true
}

func (s *server) troccoEvent(w http.ResponseWriter, r *http.Request) {
	if s.Events == nil {
		writeError(w, http.StatusNotImplemented, "event ingestion is not available on this server")
		return
	}
	ev, err := trocco.ParseEvent(r)
	var mbe *http.MaxBytesError
	switch {
	case errors.Is(err, trocco.ErrEventTooLarge), errors.As(err, &mbe):
		writeError(w, http.StatusRequestEntityTooLarge, "request body over 1 MiB")
		return
	case err != nil:
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if ev.Test {
		now := s.Clock.Now()
		if s.Store != nil {
			if err := s.Store.RecordEventTest(r.Context(), "trocco", now); err != nil {
				s.Logger.Error("http: trocco test send not recorded", "err", err)
			}
		}
		s.Logger.Info("http: trocco test send received; no run changed", "resource", ev.Resource.Key())
		writeJSON(w, http.StatusOK, map[string]bool{"test": true})
		return
	}
	if !s.watched(ev.Resource) {
		s.Logger.Info("http: trocco event for a definition no pipeline waits on, ignored", "resource", ev.Resource.Key(), "job", ev.JobID)
		writeJSON(w, http.StatusAccepted, map[string]string{"status": "ignored", "reason": "no pipeline waits on this definition"})
		return
	}
	if ev.Resource.Type == config.TypeTroccoWorkflow {
		if err := s.Events.Learn(r.Context(), ev.Resource, ev.JobID); err != nil {
			s.eventFailed(w, ev.Resource, err)
			return
		}
	}
	// An unknown status word only teaches the job id; the sensor reads
	// the job's real state from the API. So does "skipped": whether it
	// fails an upstream depends on that upstream's skipped_is_success,
	// which the sensor's run carries and a pushed row does not.
	if ev.Known && ev.State.Ended() && !ev.Skipped {
		run := sekisho.JobRun{ExternalID: ev.JobID, State: ev.State, FinishedAt: s.Clock.Now().UTC()}
		if !s.lookUpStart(w, r, ev.Resource, &run) {
			return
		}
		if err := s.Events.Ingest(r.Context(), ev.Resource, run); err != nil {
			s.eventFailed(w, ev.Resource, err)
			return
		}
	}
	writeJSON(w, http.StatusAccepted, map[string]string{"status": "accepted"})
}

func (s *server) eventFailed(w http.ResponseWriter, res sekisho.Resource, err error) {
	if errors.Is(err, sekisho.ErrNotFound) {
		s.Logger.Info("http: event for an unknown job, ignored", "resource", res.Key(), "err", err)
		writeJSON(w, http.StatusAccepted, map[string]string{"status": "ignored", "reason": "unknown job"})
		return
	}
	// 503 lets the sender retry later; the event changed nothing.
	s.Logger.Error("http: event ingestion failed", "resource", res.Key(), "err", err)
	writeError(w, http.StatusServiceUnavailable, "event not recorded: try again later")
}

// watched reports whether a pipeline of the current config waits on res,
// from an index built once per config.
func (s *server) watched(res sekisho.Resource) bool {
	cfg := s.cfg()
	if cfg == nil {
		return false
	}
	idx := s.watch.Load()
	if idx == nil || idx.cfg != cfg {
		idx = &watchIndex{cfg: cfg, waiters: cfg.Waiters()}
		s.watch.Store(idx)
	}
	_, ok := idx.waiters[res]
	return ok
}

// watchIndex is the resources a config's pipelines wait on.
type watchIndex struct {
	cfg     *config.Config
	waiters map[sekisho.Resource]config.Waiter
}

package web

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/engine"
)

// operate serves rerun and skip. Nothing is read from the body: the path
// says everything, so a retried request cannot mean something else.
func (s *server) operate(action string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !drainBody(w, r) {
			return
		}
		name, date := r.PathValue("pipeline"), r.PathValue("date")
		if !validDate(date) {
			writeError(w, http.StatusBadRequest, "date "+strconv.Quote(date)+" is not a date: use YYYY-MM-DD")
			return
		}
		if s.Operator == nil {
			writeError(w, http.StatusNotImplemented, "operator actions are not available on this server")
			return
		}
		do := s.Operator.Rerun
		if action == "skip" {
			do = s.Operator.Skip
		}
		run, err := do(r.Context(), name, date, engine.By{Who: engine.ByAPI})
		switch {
		case errors.Is(err, sekisho.ErrNotFound):
			writeError(w, http.StatusNotFound, err.Error())
		case errors.Is(err, sekisho.ErrConflict), errors.Is(err, sekisho.ErrRejected):
			writeError(w, http.StatusConflict, err.Error())
		case err != nil:
			s.internal(w, action, err)
		default:
			s.Logger.Info("http: operator "+action, "pipeline", name, "date", date, "attempt", run.Attempt, "state", run.State)
			writeJSON(w, http.StatusOK, newRunJSON(run, s.Clock.Now()))
		}
	}
}

package incident

import (
	"time"

	"github.com/sekisho-dev/sekisho"
)

// Locate says where a pipeline's upstream points: the key of the job
// resource it polls (sekisho.Resource.Key()), or, for a type: pipeline
// upstream, the pipeline it waits on.
type Locate func(pipeline, upstream string) (resource, upstreamPipeline string)

// placed are the notice kinds that are a pipeline's trouble: the three an
// affected pipeline leaves to its incident, and a failed run's own two,
// which open an incident with the run as cause and are still sent.
var placed = map[sekisho.NoticeKind]bool{
	sekisho.NoticeUpstreamFailed: true, sekisho.NoticeDelay: true, sekisho.NoticeTimedOut: true,
	sekisho.NoticeRunFailed: true, sekisho.NoticeTriggerFailed: true,
}

// Fold is the one call a decision function makes: it places the trouble
// of each notice a step is about to queue among the open incidents, and
// returns the incident changes to write in the same transaction
// (store.Step.Incidents, or store.RecordIncidents for notices no state
// change carries) and the open incidents with the changes merged in, for
// the next decision. The notices themselves are queued as before: the
// sender marks those an incident speaks for as grouped instead of posting
// them (notify), so the run's notice history and its dedupe keys stay.
func Fold(g Graph, open []Incident, ns []sekisho.Notice, locate Locate, now time.Time) ([]Change, []Incident) {
	var changes []Change
	for _, n := range ns {
		if !placed[n.Kind] || n.Pipeline == "" {
			continue
		}
		d := Place(g, open, troubleOf(n, locate), now)
		changes = append(changes, d.Change)
		open = Merge(open, d.Change, now)
	}
	return changes, open
}

// troubleOf reads a trouble from the notice the engine would send.
func troubleOf(n sekisho.Notice, locate Locate) Trouble {
	t := Trouble{Pipeline: n.Pipeline, Date: n.LogicalDate, RunID: n.RunID, State: n.Facts.State, Kind: n.Kind,
		Message: n.Facts.Message}
	switch n.Kind {
	case sekisho.NoticeTimedOut:
		t.State = sekisho.StateTimedOut
	case sekisho.NoticeRunFailed, sekisho.NoticeTriggerFailed:
		t.State = sekisho.StateFailed
	case sekisho.NoticeUpstreamFailed:
		t.Upstream, t.ExternalID = n.Facts.Upstream, n.Facts.ExternalID
		if locate != nil {
			t.Resource, t.UpstreamPipeline = locate(n.Pipeline, n.Facts.Upstream)
		}
	}
	return t
}

package store

import (
	"sync"
)

// Changes is what this Store's own writes changed of what the status
// listing keeps between calls (ListingVersion), so a listing can re-read
// those rows only instead of everything. At 10,000 pipelines a whole
// re-read is ~400 ms, and in a live daemon some write comes between any
// two calls (issue 23).
type Changes struct {
	// Runs are (pipeline, logical date) pairs whose runs were written: a
	// gate opened, a transition.
	Runs [][2]string
	// RunIDs are runs, by id, whose upstream observations were written.
	RunIDs []int64
	// Incidents is true when incidents, their members or their
	// acknowledgements were written.
	Incidents bool
}

// touch is what one write changes of what the listings read. A write
// fills it inside its transaction; it is logged only once committed.
type touch struct {
	runs      [][2]string
	ids       []int64
	incidents bool
	// all: the write does not say (a migration, retention): a listing
	// must read everything again.
	all bool
}

// everything is the touch of a listed write that names nothing.
func everything() *touch { return &touch{all: true} }

// changeLogSize bounds the log of changes kept for listings; a listing
// that falls further behind reads everything again.
const changeLogSize = 1 << 14

// changeLog is the recent changes of this Store's listed writes, each
// under the own count (ListingVersion) its commit raised.
type changeLog struct {
	mu      sync.Mutex
	entries []change
	// lost is the highest count whose changes are no longer all in
	// entries: dropped from the log, or a write that named nothing.
	lost int64
}

type change struct {
	seq       int64
	run       [2]string
	id        int64
	incidents bool
}

// changed counts one committed write of this Store to a listed table and
// logs what it touched. The count and the log move together under the
// log's lock: a reader that saw count n and then asks for the changes up
// to n finds them all.
func (s *Store) changed(t *touch) {
	l := &s.changeLog
	l.mu.Lock()
	defer l.mu.Unlock()
	n := s.changes.Add(1)
	if t.all {
		l.lost = n
		l.entries = l.entries[:0]
		return
	}
	for _, r := range t.runs {
		l.entries = append(l.entries, change{seq: n, run: r})
	}
	for _, id := range t.ids {
		l.entries = append(l.entries, change{seq: n, id: id})
	}
	if t.incidents {
		l.entries = append(l.entries, change{seq: n, incidents: true})
	}
	if over := len(l.entries) - changeLogSize; over > 0 {
		// Drop the oldest quarter at once, whole counts only, so the
		// copy is rare.
		cut := max(over, changeLogSize/4)
		for cut < len(l.entries) && l.entries[cut].seq == l.entries[cut-1].seq {
			cut++
		}
		l.lost = max(l.lost, l.entries[cut-1].seq)
		l.entries = append(l.entries[:0], l.entries[cut:]...)
	}
}

// ChangesBetween returns what changed between listing versions from and
// to (to read after from) by this Store's own writes. ok is false when it
// cannot say and a listing must read everything again: another
// connection wrote (DataVersion moved), a write named nothing (a
// migration, retention), or the changes fell out of the log. Changes may
// include some committed after to; a listing reading them again is only
// newer.
func (s *Store) ChangesBetween(from, to ListingVersion) (Changes, bool) {
	if from.others != to.others || from.own > to.own {
		return Changes{}, false
	}
	l := &s.changeLog
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.lost > from.own {
		return Changes{}, false
	}
	var c Changes
	seen := map[[2]string]bool{}
	seenID := map[int64]bool{}
	for i := len(l.entries) - 1; i >= 0 && l.entries[i].seq > from.own; i-- {
		switch e := l.entries[i]; {
		case e.incidents:
			c.Incidents = true
		case e.id != 0:
			if !seenID[e.id] {
				seenID[e.id] = true
				c.RunIDs = append(c.RunIDs, e.id)
			}
		case !seen[e.run]:
			seen[e.run] = true
			c.Runs = append(c.Runs, e.run)
		}
	}
	return c, true
}

package engine

import (
	"context"
	"sort"
	"strings"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/config"
)

type noticeKey struct {
	run int64
	key string
}

// notice builds a notice of run r.
func (e *Engine) notice(p *config.Pipeline, r sekisho.Run, kind sekisho.NoticeKind, key string, f sekisho.NoticeFacts) sekisho.Notice {
	return sekisho.Notice{RunID: r.ID, Pipeline: r.Pipeline, LogicalDate: r.LogicalDate, Attempt: r.Attempt,
		Kind: kind, DedupeKey: key, Facts: f, CreatedAt: e.clock.Now()}
}

// addNotices queues notices that no state change causes (a deadline passing,
// a second upstream failing while blocked). The dedupe key keeps each one
// once; the loop remembers what it queued to spare the store the writes.
func (e *Engine) addNotices(ctx context.Context, ns []sekisho.Notice) error {
	added := false
	for _, n := range ns {
		k := noticeKey{n.RunID, n.DedupeKey}
		if e.queued[k] {
			continue
		}
		ok, err := e.st.AddNotice(ctx, n)
		if err != nil {
			return err
		}
		e.queued[k] = true
		added = added || ok
	}
	if added {
		e.noticed()
	}
	return nil
}

// upstreamFailedNotices: once per failed upstream run (SPEC §7).
func (e *Engine) upstreamFailedNotices(p *config.Pipeline, r sekisho.Run, obs map[string]obsView) []sekisho.Notice {
	var out []sekisho.Notice
	for _, name := range sortedKeys(obs) {
		o := obs[name]
		if o.State != sekisho.JobFailed {
			continue
		}
		key := sekisho.NoticeKey(sekisho.NoticeUpstreamFailed, sekisho.NoticeSubject{Run: r.ID, Upstream: name, ExternalID: o.ExternalID})
		if e.queued[noticeKey{r.ID, key}] {
			continue
		}
		out = append(out, e.notice(p, r, sekisho.NoticeUpstreamFailed, key, sekisho.NoticeFacts{
			State: r.State, Upstream: name, ExternalID: o.ExternalID, Message: o.Message,
			Deadline: r.Deadline, Reason: o.Type}))
	}
	return out
}

// timeNotices are the notices time alone causes: delay once the deadline
// passes, at_risk before it, long_running for a watched upstream.
func (e *Engine) timeNotices(ctx context.Context, p *config.Pipeline, r sekisho.Run, obs map[string]obsView, now time.Time) error {
	var ns []sekisho.Notice
	if !r.Deadline.IsZero() && r.FirstSuccessAt.IsZero() {
		if !now.Before(r.Deadline) {
			ns = append(ns, e.notice(p, r, sekisho.NoticeDelay, sekisho.NoticeKey(sekisho.NoticeDelay, sekisho.NoticeSubject{Run: r.ID}),
				sekisho.NoticeFacts{State: r.State, Deadline: r.Deadline, Message: r.Message}))
		} else if exp, ok := e.expectedFinish(ctx, p, r, now); ok && exp.After(r.Deadline) {
			ns = append(ns, e.notice(p, r, sekisho.NoticeAtRisk, sekisho.NoticeKey(sekisho.NoticeAtRisk, sekisho.NoticeSubject{Run: r.ID}),
				sekisho.NoticeFacts{State: r.State, Deadline: r.Deadline, ExpectedAt: exp}))
		}
	}
	if p.MaxDuration > 0 {
		for _, name := range sortedKeys(obs) {
			o := obs[name]
			if o.State == sekisho.JobRunning && !o.StartedAt.IsZero() && now.Sub(o.StartedAt) > p.MaxDuration {
				ns = append(ns, e.notice(p, r, sekisho.NoticeLongRunning,
					sekisho.NoticeKey(sekisho.NoticeLongRunning, sekisho.NoticeSubject{Run: r.ID, Attempt: r.Attempt, Upstream: name, ExternalID: o.ExternalID}),
					sekisho.NoticeFacts{State: r.State, Upstream: name, ExternalID: o.ExternalID, StartedAt: o.StartedAt,
						Duration: now.Sub(o.StartedAt).Round(time.Second).String(), MaxDuration: p.MaxDuration.String(),
						Deadline: r.Deadline}))
			}
		}
	}
	if len(ns) == 0 {
		return nil
	}
	return e.addNotices(ctx, ns)
}

// recoveryNotice: a run that succeeds after any alert gets one recovery.
func (e *Engine) recoveryNotice(ctx context.Context, p *config.Pipeline, r sekisho.Run) ([]sekisho.Notice, error) {
	ns, err := e.st.Notices(ctx, r.ID)
	if err != nil {
		return nil, err
	}
	var kinds []string
	for _, n := range ns {
		if n.Kind != sekisho.NoticeRecovery && n.Kind != sekisho.NoticeDigest {
			kinds = append(kinds, string(n.Kind))
		}
	}
	if len(kinds) == 0 {
		return nil, nil
	}
	return []sekisho.Notice{e.notice(p, r, sekisho.NoticeRecovery, sekisho.NoticeKey(sekisho.NoticeRecovery, sekisho.NoticeSubject{Run: r.ID}),
		sekisho.NoticeFacts{State: sekisho.StateSucceeded, Deadline: r.Deadline, Reason: strings.Join(kinds, ",")})}, nil
}

// historyStats are a pipeline's recent durations, for at_risk.
type historyStats struct {
	date  string        // logical date they were computed for
	total time.Duration // p80 of gate → success
	down  time.Duration // p80 of trigger → success
	n     int
}

const minHistory = 5

// expectedFinish estimates when the run will succeed from the pipeline's
// own history (p80 durations): while waiting, the later of the gate plus
// the usual total duration and now plus the usual downstream time; once
// triggered, the trigger plus the usual downstream time.
func (e *Engine) expectedFinish(ctx context.Context, p *config.Pipeline, r sekisho.Run, now time.Time) (time.Time, bool) {
	h := e.history[p.Name]
	if h == nil || h.date != r.LogicalDate {
		h = &historyStats{date: r.LogicalDate}
		e.history[p.Name] = h
		past, err := e.st.RecentDurations(ctx, p.Name, r.LogicalDate, 30)
		if err != nil {
			return time.Time{}, false
		}
		var totals, downs []time.Duration
		for _, d := range past {
			totals = append(totals, d.Total)
			downs = append(downs, d.Downstream)
		}
		h.n = len(totals)
		h.total, h.down = p80(totals), p80(downs)
	}
	if h.n < minHistory {
		return time.Time{}, false
	}
	exp := r.GateAt.Add(h.total)
	if r.TriggeredAt.IsZero() {
		// Still waiting: the downstream's usual run time has to come after now.
		if t := now.Add(h.down); t.After(exp) {
			exp = t
		}
	} else {
		exp = r.TriggeredAt.Add(h.down)
	}
	if exp.Before(now) {
		exp = now
	}
	return exp, true
}

func p80(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	i := (len(s)*8+9)/10 - 1
	return s[i]
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func joinComma(xs []string) string { return strings.Join(xs, ", ") }

// redactErr turns an error into a bounded message for the store and logs.
// Adapters keep secrets out of their errors; this only bounds the length.
func redactErr(err error) string {
	s := err.Error()
	if len(s) > 500 {
		s = s[:500] + "…"
	}
	return s
}

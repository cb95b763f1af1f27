package airflowapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/sekisho-dev/sekisho"
)

// maxPages bounds one listing, so a DAG with years of runs and a filter
// Airflow ignored cannot keep a poke busy forever.
const maxPages = 50

// ListDagRuns returns the runs of a DAG that started at or after since,
// plus the runs still queued (which have no start date, so Airflow's
// start_date_gte filter drops them). A queued run belongs to the window
// when DagRun.Since is at or after the window start; callers decide.
func (c *Client) ListDagRuns(ctx context.Context, dagID string, since time.Time) ([]DagRun, error) {
	started := url.Values{"start_date_gte": {since.UTC().Format(time.RFC3339)}, "order_by": {"-start_date"}}
	runs, err := c.listPages(ctx, dagID, started)
	if err != nil {
		return nil, err
	}
	queued := url.Values{"state": {StateQueued}}
	if c.version == V2 {
		// run_after is when a v2 run became runnable: the trigger time
		// of a manual run, the interval end of a scheduled one.
		queued.Set("run_after_gte", since.UTC().Format(time.RFC3339))
		queued.Set("order_by", "-run_after")
	} else {
		queued.Set("order_by", "-execution_date")
	}
	waiting, err := c.listPages(ctx, dagID, queued)
	if err != nil {
		return nil, err
	}
	seen := make(map[string]bool, len(runs))
	for _, r := range runs {
		seen[r.DagRunID] = true
	}
	for _, r := range waiting {
		if !seen[r.DagRunID] && r.StartDate.IsZero() {
			seen[r.DagRunID] = true
			runs = append(runs, r)
		}
	}
	return runs, nil
}

func (c *Client) listPages(ctx context.Context, dagID string, q url.Values) ([]DagRun, error) {
	var runs []DagRun
	path := "/dags/" + url.PathEscape(dagID) + "/dagRuns"
	for page, offset := 0, 0; page < maxPages; page++ {
		q.Set("limit", strconv.Itoa(c.pageSize))
		q.Set("offset", strconv.Itoa(offset))
		var list wireDagRunList
		if err := c.do(ctx, http.MethodGet, path, q, nil, &list); err != nil {
			return nil, err
		}
		for _, w := range list.DagRuns {
			r := w.dagRun()
			if r.DagID == "" {
				r.DagID = dagID
			}
			runs = append(runs, r)
		}
		offset += len(list.DagRuns)
		if len(list.DagRuns) == 0 || list.TotalEntries == nil || offset >= *list.TotalEntries {
			return runs, nil
		}
	}
	c.log.Warn("airflow listing cut short", "connection", c.name, "dag_id", dagID, "pages", maxPages)
	return runs, nil
}

// GetDagRun returns one DAG run.
func (c *Client) GetDagRun(ctx context.Context, dagID, runID string) (DagRun, error) {
	return c.oneRun(ctx, http.MethodGet, dagID, runID, "", nil)
}

// oneRun makes a request about one DAG run (…/dagRuns/{id}, with suffix)
// whose answer is that run.
func (c *Client) oneRun(ctx context.Context, method, dagID, runID, suffix string, body any) (DagRun, error) {
	var w wireDagRun
	path := "/dags/" + url.PathEscape(dagID) + "/dagRuns/" + url.PathEscape(runID) + suffix
	if err := c.do(ctx, method, path, nil, body, &w); err != nil {
		return DagRun{}, err
	}
	r := w.dagRun()
	if r.DagID == "" {
		r.DagID = dagID
	}
	if r.DagRunID == "" {
		r.DagRunID = runID
	}
	return r, nil
}

// GetDag returns a DAG's pause state.
func (c *Client) GetDag(ctx context.Context, dagID string) (Dag, error) {
	var w wireDag
	if err := c.do(ctx, http.MethodGet, "/dags/"+url.PathEscape(dagID), nil, nil, &w); err != nil {
		return Dag{}, err
	}
	return Dag{DagID: dagID, IsPaused: w.IsPaused != nil && *w.IsPaused}, nil
}

// Unpause sets is_paused to false.
func (c *Client) Unpause(ctx context.Context, dagID string) (Dag, error) {
	var q url.Values
	if c.version == V1 {
		// Without the mask Airflow 2 would update every modifiable field.
		q = url.Values{"update_mask": {"is_paused"}}
	}
	var w wireDag
	body := map[string]any{"is_paused": false}
	if err := c.do(ctx, http.MethodPatch, "/dags/"+url.PathEscape(dagID), q, body, &w); err != nil {
		return Dag{}, err
	}
	return Dag{DagID: dagID, IsPaused: w.IsPaused != nil && *w.IsPaused}, nil
}

// Triggered is the outcome of TriggerDagRun.
type Triggered struct {
	Run DagRun
	// Existed is true when Airflow answered 409: a run with this
	// dag_run_id exists already. With sekisho's deterministic ids that is
	// our own earlier request, so it counts as accepted; Run then holds
	// only the ids, and GetDagRun tells the rest.
	Existed bool
}

// TriggerDagRun creates a DAG run with the given id, conf, note and dates
// (SPEC §18). Without a logical date it is left to Airflow: omitted in v1
// (Airflow 2 takes the trigger time), null in v2 (Airflow 3 gives the run
// none, so its templates have no ds). The data interval is sent when both
// ends are set; both versions take it (Airflow 2's post_dag_run reads
// data_interval_start and _end together, Airflow 3's
// TriggerDAGRunPostBody refuses one without the other).
func (c *Client) TriggerDagRun(ctx context.Context, dagID, runID string, conf map[string]any, note string, dates sekisho.DagDates) (Triggered, error) {
	if conf == nil {
		conf = map[string]any{}
	}
	body := map[string]any{"dag_run_id": runID, "conf": conf, "note": note}
	switch {
	case !dates.Logical.IsZero():
		body["logical_date"] = apiTime(dates.Logical)
		if !dates.IntervalStart.IsZero() && !dates.IntervalEnd.IsZero() {
			body["data_interval_start"] = apiTime(dates.IntervalStart)
			body["data_interval_end"] = apiTime(dates.IntervalEnd)
		}
	case c.version == V2:
		// Airflow 3 answers 422 when logical_date is missing; null
		// lets it choose.
		body["logical_date"] = nil
	}
	var w wireDagRun
	err := c.do(ctx, http.MethodPost, "/dags/"+url.PathEscape(dagID)+"/dagRuns", nil, body, &w)
	var ae *APIError
	if errors.As(err, &ae) && ae.Status == http.StatusConflict {
		return Triggered{Run: DagRun{DagID: dagID, DagRunID: runID}, Existed: true}, nil
	}
	if err != nil {
		return Triggered{}, err
	}
	r := w.dagRun()
	if r.DagRunID == "" {
		return Triggered{}, fmt.Errorf("airflow %s: POST dagRuns of %s: answer has no dag_run_id", c.name, dagID)
	}
	return Triggered{Run: r}, nil
}

// apiTime writes an instant as Airflow reads it: RFC 3339 in UTC.
func apiTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// DagRunsAt returns the DAG runs whose logical date is exactly at: at most
// one, since Airflow keeps one run per (dag_id, logical_date) (Airflow 2,
// and Airflow 3 again since apache/airflow#46295).
func (c *Client) DagRunsAt(ctx context.Context, dagID string, at time.Time) ([]DagRun, error) {
	name := "execution_date"
	if c.version == V2 {
		name = "logical_date"
	}
	q := url.Values{name + "_gte": {apiTime(at)}, name + "_lte": {apiTime(at)}}
	return c.listPages(ctx, dagID, q)
}

// ClearDagRun clears every task of a DAG run so it runs again (POST
// …/dagRuns/{dag_run_id}/clear, both versions). dry_run defaults to true in
// both documents, so it is sent false. A clear is not idempotent: Airflow
// queues a finished run again (state queued, start and end dates null,
// clear_number + 1, which the API does not show), and a second clear would
// run it a third time. Callers record their intent first and look at the
// run before clearing again (triggers/airflow).
func (c *Client) ClearDagRun(ctx context.Context, dagID, runID string) (DagRun, error) {
	return c.oneRun(ctx, http.MethodPost, dagID, runID, "/clear", map[string]any{"dry_run": false})
}

package warehouse

import (
	"context"
	"errors"
	"fmt"

	"cloud.google.com/go/bigquery"
	"google.golang.org/api/iterator"
	"google.golang.org/api/option"
	htransport "google.golang.org/api/transport/http"

	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/policy/budget"
)

// bq runs check queries as BigQuery query jobs with Application Default
// Credentials (the service account of the Cloud Run or GKE workload, or
// GOOGLE_APPLICATION_CREDENTIALS).
type bq struct {
	w      *config.Warehouse
	client *bigquery.Client
}

func openBigQuery(ctx context.Context, w *config.Warehouse, o Options) (*bq, error) {
	var opts []option.ClientOption
	if w.Endpoint != "" {
		opts = append(opts, option.WithEndpoint(w.Endpoint))
	}
	if o.NoGoogleAuth {
		opts = append(opts, option.WithoutAuthentication())
	}
	if b := o.budgetOf(w); b != nil {
		// The authenticated client Google's transport would build, with
		// every request (the SDK's retries and job polls included)
		// drawing from the warehouse's budget first.
		hc, _, err := htransport.NewClient(ctx, append(opts, option.WithScopes(bigquery.Scope))...)
		if err != nil {
			return nil, fmt.Errorf("warehouse %s: bigquery transport: %w", w.Name, err)
		}
		opts = append(opts, option.WithHTTPClient(budget.Client(hc, b)))
	}
	c, err := bigquery.NewClient(ctx, w.Project, opts...)
	if err != nil {
		return nil, fmt.Errorf("warehouse %s: bigquery client: %w", w.Name, err)
	}
	// Client.Location covers the jobs.insert path only; see query.
	c.Location = w.Location
	return &bq{w: w, client: c}, nil
}

// query is a query job in the warehouse's location. The client's jobs.query
// fast path (Query.Read → probeFastPath in cloud.google.com/go/bigquery)
// sends the Query's own Location and never falls back to Client.Location,
// so without this BigQuery runs the job in the US and a table in
// asia-northeast1 is "not found in location US".
func (b *bq) query(sql string) *bigquery.Query {
	q := b.client.Query(sql)
	q.Location = b.w.Location
	q.Labels = map[string]string{labelKey: AppName}
	return q
}

// labelKey labels sekisho's own query jobs (BigQuery job labels travel in
// jobs.query and come back in jobs.list), so the long-query watch leaves
// them out as it leaves out sekisho's PostgreSQL sessions.
const labelKey = "sekisho"

func (b *bq) Check(ctx context.Context, query string) (Result, error) {
	it, err := b.query(query).Read(ctx)
	if err != nil {
		return Result{}, fmt.Errorf("bigquery: %w", err)
	}
	var row []bigquery.Value
	if err := it.Next(&row); err != nil {
		if errors.Is(err, iterator.Done) {
			return Result{}, nil
		}
		return Result{}, fmt.Errorf("bigquery: %w", err)
	}
	if len(row) == 0 {
		return Result{}, nil
	}
	return Read(row[0]), nil
}

// Running lists the project's running query jobs of every user: jobs.list
// with allUsers=true and stateFilter=running (the caller needs
// bigquery.jobs.listAll, e.g. roles/bigquery.resourceViewer; without it
// BigQuery lists only the caller's own jobs). Capacity (slot) pricing bills
// slot time, so a query running for an hour costs whoever pays for the
// reservation. The key is the job id; jobs labelled as sekisho's are left
// out.
func (b *bq) Running(ctx context.Context) ([]Query, error) {
	it := b.client.Jobs(ctx)
	it.AllUsers = true
	it.State = bigquery.Running
	var out []Query
	for {
		j, err := it.Next()
		if errors.Is(err, iterator.Done) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("bigquery jobs.list: %w", err)
		}
		cfg, err := j.Config()
		if err != nil {
			continue // not a job kind the client knows: not a query
		}
		qc, ok := cfg.(*bigquery.QueryConfig)
		if !ok || qc.Labels[labelKey] == AppName {
			continue
		}
		q := Query{Key: j.ID(), User: j.Email(), PID: j.ID(), Text: qc.Q}
		if st := j.LastStatus(); st != nil && st.Statistics != nil {
			q.StartedAt = st.Statistics.StartTime.UTC()
			if q.StartedAt.IsZero() {
				q.StartedAt = st.Statistics.CreationTime.UTC()
			}
		}
		if q.StartedAt.IsZero() {
			continue // a job with no times yet cannot be measured
		}
		out = append(out, q)
	}
}

func (b *bq) Close() error { return b.client.Close() }

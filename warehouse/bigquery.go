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
	if w.Location != "" {
		c.Location = w.Location
	}
	return &bq{w: w, client: c}, nil
}

func (b *bq) Check(ctx context.Context, query string) (Result, error) {
	it, err := b.client.Query(query).Read(ctx)
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

// Running is not offered: BigQuery bills by bytes scanned, not by time, and
// its jobs are listed per project with jobs.list; SPEC §15 watches Redshift
// and PostgreSQL.
func (b *bq) Running(context.Context) ([]Query, error) {
	return nil, fmt.Errorf("bigquery long-query watch: %w", ErrUnsupported)
}

func (b *bq) Close() error { return b.client.Close() }

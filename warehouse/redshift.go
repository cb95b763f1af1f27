package warehouse

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/redshiftdata"
	"github.com/aws/aws-sdk-go-v2/service/redshiftdata/types"

	"github.com/sekisho-dev/sekisho/client/awslog"
	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/policy/budget"
)

// redshift runs statements through the Data API: ExecuteStatement, then
// DescribeStatement until it ends, then GetStatementResult. It works the
// same for provisioned clusters and Serverless workgroups.
type redshift struct {
	w    *config.Warehouse
	api  *redshiftdata.Client
	poll time.Duration

	mu    sync.Mutex
	users map[string]string // user_id → name, from pg_user
}

func openRedshift(ctx context.Context, w *config.Warehouse, o Options) (*redshift, error) {
	load := []func(*awsconfig.LoadOptions) error{awsconfig.WithRegion(w.Region), awsconfig.WithLogger(awslog.Logger{})}
	if o.AWSAccessKey != "" {
		load = append(load, awsconfig.WithCredentialsProvider(
			credentials.NewStaticCredentialsProvider(o.AWSAccessKey, o.AWSSecretKey, "")))
	}
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx, load...)
	if err != nil {
		return nil, fmt.Errorf("warehouse %s: load aws config: %w", w.Name, err)
	}
	api := redshiftdata.NewFromConfig(awsCfg, func(ro *redshiftdata.Options) {
		if w.Endpoint != "" {
			ro.BaseEndpoint = aws.String(w.Endpoint)
		}
		if b := o.budgetOf(w); b != nil {
			ro.APIOptions = append(ro.APIOptions, budget.AWSStep(b))
		}
	})
	return newRedshift(w, api, o.StatementPoll), nil
}

func newRedshift(w *config.Warehouse, api *redshiftdata.Client, poll time.Duration) *redshift {
	if poll <= 0 {
		poll = 250 * time.Millisecond
	}
	return &redshift{w: w, api: api, poll: poll, users: map[string]string{}}
}

// run executes one statement and returns its rows; a statement without a
// result set has none.
func (r *redshift) run(ctx context.Context, sql string) ([][]types.Field, error) {
	in := &redshiftdata.ExecuteStatementInput{Sql: aws.String(sql), Database: aws.String(r.w.Database)}
	if r.w.WorkgroupName != "" {
		in.WorkgroupName = aws.String(r.w.WorkgroupName)
	} else {
		in.ClusterIdentifier = aws.String(r.w.ClusterIdentifier)
	}
	if r.w.DBUser != "" {
		in.DbUser = aws.String(r.w.DBUser)
	}
	if r.w.SecretARN != "" {
		in.SecretArn = aws.String(r.w.SecretARN)
	}
	out, err := r.api.ExecuteStatement(ctx, in)
	if err != nil {
		return nil, fmt.Errorf("redshift ExecuteStatement: %w", err)
	}
	id := aws.ToString(out.Id)
	wait := r.poll
	for {
		d, err := r.api.DescribeStatement(ctx, &redshiftdata.DescribeStatementInput{Id: aws.String(id)})
		if err != nil {
			return nil, fmt.Errorf("redshift DescribeStatement: %w", err)
		}
		switch d.Status {
		case types.StatusStringFinished:
			if d.HasResultSet == nil || !*d.HasResultSet {
				return nil, nil
			}
			return r.result(ctx, id)
		case types.StatusStringFailed, types.StatusStringAborted:
			return nil, fmt.Errorf("redshift statement %s: %s", strings.ToLower(string(d.Status)), aws.ToString(d.Error))
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
		if wait *= 2; wait > 2*time.Second {
			wait = 2 * time.Second
		}
	}
}

func (r *redshift) result(ctx context.Context, id string) ([][]types.Field, error) {
	var rows [][]types.Field
	var token *string
	for {
		out, err := r.api.GetStatementResult(ctx, &redshiftdata.GetStatementResultInput{Id: aws.String(id), NextToken: token})
		if err != nil {
			return nil, fmt.Errorf("redshift GetStatementResult: %w", err)
		}
		rows = append(rows, out.Records...)
		if out.NextToken == nil || *out.NextToken == "" {
			return rows, nil
		}
		token = out.NextToken
	}
}

func (r *redshift) Check(ctx context.Context, query string) (Result, error) {
	rows, err := r.run(ctx, query)
	if err != nil || len(rows) == 0 || len(rows[0]) == 0 {
		return Result{}, err
	}
	return Read(fieldValue(rows[0][0])), nil
}

// fieldValue is a Data API field as a Go value.
func fieldValue(f types.Field) any {
	switch v := f.(type) {
	case *types.FieldMemberBooleanValue:
		return v.Value
	case *types.FieldMemberLongValue:
		return v.Value
	case *types.FieldMemberDoubleValue:
		return v.Value
	case *types.FieldMemberStringValue:
		return v.Value
	}
	return nil
}

// runningRedshift lists in-flight queries from SYS_QUERY_HISTORY, which
// both provisioned clusters and Serverless keep: every status before the
// query ends (planning, queued in WLM, running, returning rows), so a query
// stuck in the queue is seen and one returning its rows is not taken for
// ended. status is character(10), so it is trimmed. Queries that started in
// the same microsecond come in query_id order, so the listing is stable. A user sees only their
// own rows unless granted sys:monitor.
const runningRedshift = `SELECT query_id, user_id, session_id, start_time, TRIM(query_text)
FROM sys_query_history
WHERE TRIM(status) IN ('planning', 'queued', 'running', 'returning')
ORDER BY start_time, query_id`

// usersRedshift maps user ids to names; asked only for an id not seen yet.
const usersRedshift = `SELECT usesysid, usename FROM pg_user`

// redshiftTime is how the Data API returns a timestamp column (UTC).
const redshiftTime = "2006-01-02 15:04:05.999999"

func (r *redshift) Running(ctx context.Context) ([]Query, error) {
	rows, err := r.run(ctx, runningRedshift)
	if err != nil {
		return nil, err
	}
	var out []Query
	var unknown bool
	for _, row := range rows {
		if len(row) < 5 {
			return nil, errors.New("redshift: sys_query_history answered fewer columns than asked")
		}
		q := Query{Key: str(row[0]), PID: str(row[2]), Text: str(row[4])}
		q.User = str(row[1]) // a user id until named below
		if t, err := time.Parse(redshiftTime, str(row[3])); err == nil {
			q.StartedAt = t.UTC()
		} else {
			return nil, fmt.Errorf("redshift: start_time %q: %w", str(row[3]), err)
		}
		r.mu.Lock()
		_, known := r.users[q.User]
		r.mu.Unlock()
		unknown = unknown || !known
		out = append(out, q)
	}
	if unknown {
		if err := r.loadUsers(ctx); err != nil {
			return nil, err
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := range out {
		if name, ok := r.users[out[i].User]; ok {
			out[i].User = name
		}
	}
	return out, nil
}

func (r *redshift) loadUsers(ctx context.Context) error {
	rows, err := r.run(ctx, usersRedshift)
	if err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, row := range rows {
		if len(row) >= 2 {
			r.users[str(row[0])] = strings.TrimSpace(str(row[1]))
		}
	}
	return nil
}

// str is a field as text: numbers in decimal, null as "".
func str(f types.Field) string {
	switch v := fieldValue(f).(type) {
	case string:
		return v
	case int64:
		return strconv.FormatInt(v, 10)
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(v)
	}
	return ""
}

func (r *redshift) Close() error { return nil }

// Package glue is the sekisho sensor for AWS Glue jobs and workflows. It asks
// Glue through the real aws-sdk-go-v2 client (default credential chain,
// adaptive retries) and reads EventBridge "Glue Job State Change" events, so
// pushed events and polling speak the same JobRun.
package glue

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	"github.com/aws/aws-sdk-go-v2/service/glue/types"
	smithy "github.com/aws/smithy-go"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/client/awslog"
	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/policy/budget"
)

// Resource types this sensor serves.
const (
	TypeJob      = config.TypeGlueJob
	TypeWorkflow = config.TypeGlueWorkflow
)

// Defaults of the production client.
const (
	DefaultMaxAttempts = 5
	DefaultMaxBackoff  = 20 * time.Second
	// DefaultPageSize keeps one request enough for a daily job: the newest
	// runs come first and paging stops at the window start.
	DefaultPageSize = 50
	// maxPages bounds paging against a misbehaving endpoint that keeps
	// answering a NextToken.
	maxPages = 100
)

// GlueAPI is the part of the Glue client the sensor uses; *glue.Client
// satisfies it.
type GlueAPI interface {
	GetJobRuns(ctx context.Context, in *glue.GetJobRunsInput, optFns ...func(*glue.Options)) (*glue.GetJobRunsOutput, error)
	GetJobRun(ctx context.Context, in *glue.GetJobRunInput, optFns ...func(*glue.Options)) (*glue.GetJobRunOutput, error)
	GetWorkflowRuns(ctx context.Context, in *glue.GetWorkflowRunsInput, optFns ...func(*glue.Options)) (*glue.GetWorkflowRunsOutput, error)
}

// Sensor reports Glue job and workflow runs. It is safe for concurrent use.
type Sensor struct {
	api      GlueAPI
	log      *slog.Logger
	pageSize int32
	wfPage   int32    // GetWorkflowRuns' page: workflowRunsPage unless WithPageSize
	unknown  sync.Map // unknown state words already logged
}

var _ sekisho.Sensor = (*Sensor)(nil)

type options struct {
	creds    aws.CredentialsProvider
	retryer  func() aws.Retryer
	logger   *slog.Logger
	pageSize int32
	wfPage   int32
	budget   *budget.Budget
}

// Option configures a Sensor.
type Option func(*options)

// WithStaticCredentials replaces the default credential chain; for tests
// and the demo, never for production config.
func WithStaticCredentials(accessKeyID, secretAccessKey string) Option {
	return func(o *options) {
		o.creds = credentials.NewStaticCredentialsProvider(accessKeyID, secretAccessKey, "")
	}
}

// WithBudget makes every request to Glue, retries included, draw from b:
// the connection's request budget (SPEC §13).
func WithBudget(b *budget.Budget) Option { return func(o *options) { o.budget = b } }

// WithRetryer replaces the adaptive retryer.
func WithRetryer(fn func() aws.Retryer) Option { return func(o *options) { o.retryer = fn } }

// WithRetry uses the standard retryer with the given attempts and backoff
// cap and no retry quota, so tests and the demo can retry injected faults
// quickly and without running out of retry tokens.
func WithRetry(maxAttempts int, maxBackoff time.Duration) Option {
	return WithRetryer(func() aws.Retryer {
		return retry.NewStandard(func(so *retry.StandardOptions) {
			so.MaxAttempts = maxAttempts
			so.MaxBackoff = maxBackoff
			so.Backoff = retry.NewExponentialJitterBackoff(maxBackoff)
			so.RateLimiter = ratelimit.None
			so.Retryables = append(so.Retryables, retryTruncated{})
		})
	})
}

// WithLogger sets the logger for unknown Glue states (default slog.Default).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// WithPageSize sets MaxResults per request (1–200).
func WithPageSize(n int32) Option { return func(o *options) { o.pageSize, o.wfPage = n, n } }

// New builds a sensor on the AWS default credential chain (environment,
// shared profile, web identity / IRSA, container and instance roles) in
// cfg.Region, sending to cfg.Endpoint when set.
func New(ctx context.Context, cfg *config.Glue, opts ...Option) (*Sensor, error) {
	if cfg == nil {
		return nil, errors.New("glue: no connections.glue in the config: add it with a region")
	}
	o := collect(opts)
	load := []func(*awsconfig.LoadOptions) error{}
	if cfg.Region != "" {
		load = append(load, awsconfig.WithRegion(cfg.Region))
	}
	if o.creds != nil {
		load = append(load, awsconfig.WithCredentialsProvider(o.creds))
	}
	retryer := o.retryer
	if retryer == nil {
		retryer = defaultRetryer
	}
	load = append(load, awsconfig.WithRetryer(retryer), awsconfig.WithLogger(awslog.Logger{L: o.logger}))
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx, load...)
	if err != nil {
		return nil, fmt.Errorf("glue: load aws config: %w", err)
	}
	if awsCfg.Region == "" {
		return nil, errors.New("glue: no region: set connections.glue.region or AWS_REGION")
	}
	client := glue.NewFromConfig(awsCfg, func(g *glue.Options) {
		if cfg.Endpoint != "" {
			g.BaseEndpoint = aws.String(cfg.Endpoint)
		}
		if o.budget != nil {
			g.APIOptions = append(g.APIOptions, budget.AWSStep(o.budget))
		}
	})
	return newSensor(client, o), nil
}

func collect(opts []Option) options {
	o := options{logger: slog.Default(), pageSize: DefaultPageSize, wfPage: workflowRunsPage}
	for _, f := range opts {
		f(&o)
	}
	return o
}

func newSensor(api GlueAPI, o options) *Sensor {
	return &Sensor{api: api, log: o.logger, pageSize: o.pageSize, wfPage: o.wfPage}
}

// defaultRetryer is the production retryer: adaptive mode, which backs off
// its own request rate when Glue throttles, over standard retries of 5xx,
// throttling and transport errors, plus truncated bodies.
func defaultRetryer() aws.Retryer {
	return retry.NewAdaptiveMode(func(ao *retry.AdaptiveModeOptions) {
		ao.StandardOptions = append(ao.StandardOptions, func(so *retry.StandardOptions) {
			so.MaxAttempts = DefaultMaxAttempts
			so.MaxBackoff = DefaultMaxBackoff
			so.Retryables = append(so.Retryables, retryTruncated{})
		})
	})
}

// retryTruncated retries a response body that could not be decoded: a
// connection cut mid-body is transient, and GetJobRuns is safe to repeat.
type retryTruncated struct{}

func (retryTruncated) IsErrorRetryable(err error) aws.Ternary {
	var de *smithy.DeserializationError
	if errors.As(err, &de) {
		return aws.TrueTernary
	}
	return aws.UnknownTernary
}

// Runs returns the runs of a glue_job or glue_workflow resource that started
// at or after since.
func (s *Sensor) Runs(ctx context.Context, r sekisho.Resource, since time.Time) ([]sekisho.JobRun, error) {
	switch r.Type {
	case TypeJob:
		return s.jobRuns(ctx, r.ID, since)
	case TypeWorkflow:
		return s.workflowRuns(ctx, r.ID, since)
	}
	return nil, fmt.Errorf("glue: resource type %q is not a glue_job or glue_workflow", r.Type)
}

// wrap turns an SDK error into sekisho's terms: EntityNotFoundException
// becomes ErrNotFound with a hint, anything else stays transient.
func wrap(kind, name string, err error) error {
	var nf *types.EntityNotFoundException
	if errors.As(err, &nf) {
		return fmt.Errorf("glue %s %q not found: check the name and connections.glue.region: %w", kind, name, sekisho.ErrNotFound)
	}
	return fmt.Errorf("glue %s %q: %w", kind, name, err)
}

func (s *Sensor) logUnknown(kind, word string) {
	if _, seen := s.unknown.LoadOrStore(kind+":"+word, true); !seen {
		s.log.Warn("unknown glue state; treating it as running", "kind", kind, "state", word)
	}
}

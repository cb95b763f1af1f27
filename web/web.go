// Package web serves sekisho over HTTP: the status board for business users
// (server-rendered, no external assets, readable on a phone and without
// JavaScript), the JSON API, operator actions, pushed events from Glue and
// TROCCO, health probes and Prometheus metrics.
package web

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/engine"
	"github.com/sekisho-dev/sekisho/metrics"
	"github.com/sekisho-dev/sekisho/slackact"
	"github.com/sekisho-dev/sekisho/status"
	"github.com/sekisho-dev/sekisho/store"
)

// MaxBodyBytes is the largest request body accepted (SPEC §8).
const MaxBodyBytes = 1 << 20

// Operator carries out the operator actions. The engine implements it.
// Errors wrapping sekisho.ErrNotFound answer 404; errors wrapping
// sekisho.ErrConflict or sekisho.ErrRejected (the run's state does not
// allow the action) answer 409 with the error's message.
type Operator interface {
	Rerun(ctx context.Context, pipeline, date string, by engine.By) (sekisho.Run, error)
	Skip(ctx context.Context, pipeline, date string, by engine.By) (sekisho.Run, error)
}

// Events takes pushed upstream events. Ingest hands a finished job run to the
// engine as if a sensor had seen it; Learn records a TROCCO workflow job id
// the sensor cannot list. Both must be harmless when replayed.
type Events interface {
	Ingest(ctx context.Context, r sekisho.Resource, run sekisho.JobRun) error
	Learn(ctx context.Context, r sekisho.Resource, jobID string) error
}

// RunLookup finds when a run reported by an event started: events carry
// only the end, and a run counts towards a logical date only once its start
// is known (SPEC §13). The Glue and TROCCO sensors implement it, each call
// drawn from its connection's budget.
type RunLookup interface {
	StartedAt(ctx context.Context, r sekisho.Resource, externalID string) (time.Time, error)
}

// Options wires the server to the rest of the daemon.
type Options struct {
	// Config returns the current config; it changes on reload.
	Config   func() *config.Config
	Store    *store.Store
	Operator Operator // nil: operator actions answer 501
	Events   Events   // nil: events answer 501
	// Lookup returns the start-time look-up of a resource type, or nil
	// when the type has none (then the event's end stands in for its start).
	Lookup  func(resourceType string) RunLookup
	Metrics *metrics.Metrics
	Clock   sekisho.Clock // default: the wall clock
	Logger  *slog.Logger  // default: discard
	// Ready reports why the daemon cannot serve yet; nil means ready. The
	// default checks that a config is loaded and the store answers.
	Ready func() error
	// Cluster reports the replica's role for /api/v1/cluster and the
	// board's footer (cluster.go); nil: no leader election.
	Cluster func() Cluster
	// Slack carries out Slack's button clicks (POST /slack/interactions,
	// SPEC §20); nil: the endpoint answers 404.
	Slack *slackact.Service
	// Kick wakes the notice sender after an action queued a reply; nil on
	// a follower, whose leader reads the outbox on its own.
	Kick func()
}

type server struct {
	Options
	// listing keeps the status board's store reads between writes, for
	// GET /api/v1/status and the board pages (status.Cache).
	listing *status.Cache
	watch   atomic.Pointer[watchIndex] // the current config's watched resources
}

type wallClock struct{}

func (wallClock) Now() time.Time { return time.Now() }

// New returns the HTTP handler of every endpoint of SPEC §8.
func New(o Options) http.Handler {
	if o.Clock == nil {
		o.Clock = wallClock{}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	s := &server{Options: o, listing: &status.Cache{}}
	if s.Ready == nil {
		s.Ready = s.defaultReady
	}
	mux := http.NewServeMux()
	mux.Handle("GET /{$}", s.read(s.board))
	mux.Handle("GET /pipelines/{name}", s.read(s.pipelinePage))
	mux.Handle("GET /map", s.read(s.routeMapPage))
	mux.Handle("GET /static/", http.StripPrefix("/static/", staticHandler()))
	mux.Handle("GET /api/v1/status", s.read(s.apiStatus))
	mux.Handle("GET /api/v1/runs", s.read(s.apiRuns))
	mux.Handle("GET /api/v1/runs/{pipeline}/{key}", s.read(s.apiRun))
	mux.Handle("GET /api/v1/slo", s.read(s.apiSLO))
	mux.Handle("GET /api/v1/cluster", s.read(s.apiCluster))
	mux.Handle("POST /api/v1/runs/{pipeline}/{key}/rerun", s.write(s.operate("rerun")))
	mux.Handle("POST /api/v1/runs/{pipeline}/{key}/skip", s.write(s.operate("skip")))
	mux.Handle("POST /api/v1/events/glue", s.write(s.glueEvent))
	mux.Handle("POST /api/v1/events/trocco", s.write(s.troccoEvent))
	s.routes17(mux)
	s.routes20(mux)
	o.Metrics.ShareListing(s.listing) // one copy of the listing's reads
	mux.Handle("GET /metrics", s.read(o.Metrics.Handler(o.Store, o.Config, o.Clock).ServeHTTP))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", s.readyz)
	mux.Handle("GET /api/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "no such endpoint: see docs/board.md for the API")
	}))
	mux.Handle("GET /", s.read(s.notFoundPage))
	return secure(limitBody(mux))
}

// NewServer wraps h in a server with timeouts, so a slow or stalled client
// cannot hold connections open.
func NewServer(addr string, h http.Handler) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
}

func (s *server) cfg() *config.Config {
	if s.Config == nil {
		return nil
	}
	return s.Config()
}

func (s *server) defaultReady() error {
	if s.cfg() == nil {
		return errors.New("config not loaded")
	}
	if s.Store == nil {
		return errors.New("store not open")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := s.Store.Ping(ctx); err != nil {
		return errors.New("store not answering")
	}
	return nil
}

func (s *server) readyz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if err := s.Ready(); err != nil {
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write([]byte("not ready: " + err.Error() + "\n"))
		return
	}
	w.Write([]byte("ready\n"))
}

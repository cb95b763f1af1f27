package notify

import (
	"bytes"
	"context"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"
	_ "time/tzdata" // Asia/Tokyo on machines without zoneinfo

	"github.com/jonboulle/clockwork"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/store"
	"github.com/sekisho-dev/sekisho/testkit/teststore"
)

var tokyo = mustLoc("Asia/Tokyo")

func mustLoc(name string) *time.Location {
	l, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return l
}

// t0 is 02:00 JST on 2026-11-21, socrates_daily's gate.
var t0 = time.Date(2026, 11, 21, 2, 0, 0, 0, tokyo)

func testPipeline() *config.Pipeline {
	deadline, _ := sekisho.ParseTimeOfDay("06:00")
	return &config.Pipeline{
		Name: "socrates_daily", Description: "BigQuery marts behind the learning dashboards",
		Schedule: "0 2 * * *", Timezone: "Asia/Tokyo", Location: tokyo,
		SLO:     &config.SLO{Deadline: deadline, Objective: 0.95},
		Notify:  config.Notify{Channel: "#socrates", Mention: "<!subteam^S0123>"},
		Impacts: []string{"Tableau: 学習状況ダッシュボード", "Service dashboard (reverse ETL)"},
	}
}

func testConfig(lang string) *config.Config {
	kant := &config.Pipeline{Name: "kant_daily", Schedule: "0 1 * * *", Timezone: "Asia/Tokyo", Location: tokyo}
	return config.Fill(&config.Config{
		Timezone: "Asia/Tokyo", Location: tokyo,
		Server:    config.Server{PublicURL: "https://sekisho.example.internal"},
		Slack:     config.Slack{Language: lang},
		Pipelines: []*config.Pipeline{testPipeline(), kant},
	})
}

func openStore(t *testing.T) *store.Store {
	t.Helper()
	st, err := teststore.Open(context.Background(), filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// openRun opens the gate of pipeline p on date and returns the run.
func openRun(t *testing.T, st *store.Store, p *config.Pipeline, date string) sekisho.Run {
	t.Helper()
	gate := time.Date(2026, 11, 21, 2, 0, 0, 0, tokyo)
	r, _, err := st.OpenGate(context.Background(), sekisho.Run{Pipeline: p.Name, LogicalDate: date, GateAt: gate,
		TimeoutAt: gate.Add(6 * time.Hour), Deadline: p.Deadline(date), RecoverBy: p.RecoverBy(date), Spec: p.Spec()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// queue writes notices with a state change of the run, as the engine does.
func queue(t *testing.T, st *store.Store, r sekisho.Run, to sekisho.State, at time.Time, ns ...sekisho.Notice) sekisho.Run {
	t.Helper()
	next := r
	next.State = to
	for i := range ns {
		ns[i].Pipeline, ns[i].LogicalDate, ns[i].Attempt = r.Pipeline, r.LogicalDate, r.Attempt
		if ns[i].DedupeKey == "" {
			ns[i].DedupeKey = string(ns[i].Kind) + ":" + r.Pipeline + ":" + r.LogicalDate
		}
	}
	got, err := st.Apply(context.Background(), r, next, at, store.Step{Reason: "test", Notices: ns})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// syncBuffer is a log sink the race detector accepts.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newLogger(buf *syncBuffer) *slog.Logger {
	return slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// fixedRand makes the jitter deterministic: every wait is 3/4 of its step.
func fixedRand() float64 { return 0.5 }

func newSender(t *testing.T, cfg *config.Config, st *store.Store, clock clockwork.Clock, log *slog.Logger, opts ...Option) *Sender {
	t.Helper()
	opts = append([]Option{WithBackoff(5*time.Second, 10*time.Minute), WithCallTimeout(5 * time.Second)}, opts...)
	s, err := New(cfg, st, clock, log, opts...)
	if err != nil {
		t.Fatal(err)
	}
	s.backoff.rand = fixedRand
	if fc, ok := clock.(*clockwork.FakeClock); ok {
		drivePacing(t, fc)
	}
	return s
}

var drivenClocks sync.Map // *clockwork.FakeClock → true

// drivePacing lets the second pass that the sender waits between two posts
// to one channel (pace.go): whenever something waits on the fake clock, it
// moves the clock on by PostInterval. The tests call pass directly, so the
// one thing that waits during a pass is the pacer.
func drivePacing(t *testing.T, fc *clockwork.FakeClock) {
	if _, driven := drivenClocks.LoadOrStore(fc, true); driven {
		return // one driver per clock, however many senders share it
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	t.Cleanup(func() { cancel(); <-done; drivenClocks.Delete(fc) })
	go func() {
		defer close(done)
		for fc.BlockUntilContext(ctx, 1) == nil {
			fc.Advance(PostInterval)
		}
	}()
}

// drain runs passes, advancing the fake clock to each next pass, until the
// outbox is empty or the limit passes; it returns how many passes ran.
func drain(t *testing.T, s *Sender, clock *clockwork.FakeClock, limit time.Time) int {
	t.Helper()
	ctx := context.Background()
	passes := 0
	for {
		next, err := s.pass(ctx)
		if err != nil {
			t.Fatal(err)
		}
		passes++
		n, err := s.st.OutboxBacklog(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 || clock.Now().After(limit) {
			return passes
		}
		if d := next.Sub(clock.Now()); d > 0 {
			clock.Advance(d)
		}
		if passes > 100000 {
			t.Fatal("drain does not end")
		}
	}
}

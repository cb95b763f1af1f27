// Package redshiftsim simulates the Amazon Redshift Data API over
// awsJson1_1 (X-Amz-Target RedshiftData.ExecuteStatement,
// DescribeStatement, GetStatementResult), so the real aws-sdk-go-v2
// redshiftdata client can run sekisho's check queries and its long-query
// listing against it on loopback. Statements run asynchronously as on
// Redshift: ExecuteStatement answers an Id at once, DescribeStatement moves
// from STARTED to FINISHED (or FAILED), and only a finished statement with
// a result set has a GetStatementResult.
//
// SQL is not parsed: a test registers the answer of each check query with
// Answer, and queries that read SYS_QUERY_HISTORY or pg_user are answered
// from the simulated in-flight queries and users, with SYS_QUERY_HISTORY's
// visibility rule (a user without sys:monitor sees only their own rows) and
// its status filter: a listing sees only the statuses its WHERE names.
package redshiftsim

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/sim/awsjson"
	"github.com/sekisho-dev/sekisho/sim/simlimit"
)

const targetPrefix = "RedshiftData."

// IAMUser is the database user a statement runs as when it names neither
// DbUser nor SecretArn: the caller's IAM role, as Redshift names it
// ("IAMR:<role>"; an IAM user would be "IAM:<user>").
const IAMUser = "IAMR:sekisho"

// Value is one column value of an answer: nil, bool, int64, float64 or string.
type Value any

// Sim is the simulated Data API with its cluster's running queries.
type Sim struct {
	clock  sekisho.Clock
	region string
	keys   map[string]string
	// describes is how many DescribeStatement calls see a statement
	// STARTED before it is FINISHED.
	describes int
	limit     simlimit.Counter

	mu         sync.Mutex
	answers    map[string]func() ([]Value, error)
	fallback   func(sql string) ([]Value, bool, error)
	statements map[string]*statement
	running    map[int64]*Running
	users      map[string]int64 // user name → usesysid
	monitor    map[string]bool  // users granted sys:monitor
	nextQuery  int64
	stats      Stats
}

// Stats counts the requests the simulator answered.
type Stats struct {
	ByTarget map[string]int
	// BySQL counts ExecuteStatement calls per SQL text.
	BySQL map[string]int
}

// In-flight statuses of SYS_QUERY_HISTORY, in the order a query passes
// them (AWS, SYS_QUERY_HISTORY: status is planning, queued, running,
// returning, failed, canceled or success).
const (
	StatusPlanning  = "planning"
	StatusQueued    = "queued"
	StatusRunning   = "running"
	StatusReturning = "returning"
)

// Running is an in-flight query on the simulated cluster: planned, queued
// by WLM, running, or returning its rows.
type Running struct {
	QueryID   int64
	User      string
	SessionID int64
	Start     time.Time
	Text      string
	Status    string
}

type statement struct {
	id        string
	sql       string
	user      string
	created   time.Time
	updated   time.Time
	describes int
	rows      [][]Value
	columns   []string
	err       string
	hasResult bool
}

// Option configures a Sim.
type Option func(*Sim)

// WithRegion makes the simulator refuse signatures scoped to another region.
func WithRegion(region string) Option { return func(s *Sim) { s.region = region } }

// WithCredentials makes the simulator check SigV4 signatures against this key.
func WithCredentials(accessKey, secretKey string) Option {
	return func(s *Sim) { s.keys[accessKey] = secretKey }
}

// WithDescribes sets how many DescribeStatement calls see a statement
// STARTED before it is FINISHED (default 1).
func WithDescribes(n int) Option { return func(s *Sim) { s.describes = n } }

// WithLimit makes the simulator answer 400 ThrottlingException "Rate
// exceeded" to calls beyond limit, as AWS answers a throttled Data API call
// (https://docs.aws.amazon.com/redshift-data/latest/APIReference/CommonErrors.html).
// A client within its budget never sees one (see Throttled).
func WithLimit(limit simlimit.Limit) Option { return func(s *Sim) { s.limit.Limit = limit } }

// Throttled is how many calls WithLimit's limit refused.
func (s *Sim) Throttled() int { return s.limit.Throttled() }

// WithFallback answers check queries no Answer names: fn reports whether it
// knows sql (the demo answers every day's rendered query this way).
func WithFallback(fn func(sql string) (row []Value, known bool, err error)) Option {
	return func(s *Sim) { s.fallback = fn }
}

// New returns a simulator on the given clock (the real one when nil).
func New(clock sekisho.Clock, opts ...Option) *Sim {
	if clock == nil {
		clock = clockwork.NewRealClock()
	}
	s := &Sim{clock: clock, keys: map[string]string{}, describes: 1,
		answers: map[string]func() ([]Value, error){}, statements: map[string]*statement{},
		running: map[int64]*Running{}, users: map[string]int64{"rdsdb": 1}, monitor: map[string]bool{},
		nextQuery: 1000, stats: Stats{ByTarget: map[string]int{}, BySQL: map[string]int{}}}
	for _, o := range opts {
		o(s)
	}
	return s
}

// NewServer starts the simulator on a loopback httptest server; point the
// SDK's BaseEndpoint at its URL. The caller closes it.
func (s *Sim) NewServer() *httptest.Server { return httptest.NewServer(s) }

// Answer registers the first row of a check query's result; fn is asked at
// every execution, so a test can make the rows arrive late. A non-nil error
// fails the statement with that message, as Redshift reports SQL errors.
func (s *Sim) Answer(sql string, fn func() ([]Value, error)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.answers[sql] = fn
}

// AddUser creates a database user.
func (s *Sim) AddUser(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.addUser(name)
}

func (s *Sim) addUser(name string) int64 {
	if id, ok := s.users[name]; ok {
		return id
	}
	id := int64(100 + len(s.users))
	s.users[name] = id
	return id
}

// GrantMonitor grants the sys:monitor role: the user sees every user's rows
// in SYS_QUERY_HISTORY.
func (s *Sim) GrantMonitor(user string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.monitor[user] = true
}

// StartQuery starts a query of user now, running, and returns its query_id.
func (s *Sim) StartQuery(user, text string) int64 { return s.SubmitQuery(user, text, StatusRunning) }

// SubmitQuery submits a query of user now in the given in-flight status
// (StatusQueued: waiting in a WLM queue) and returns its query_id. Its
// start_time is now, whatever the status: the queue wait counts.
func (s *Sim) SubmitQuery(user, text, status string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.addUser(user)
	s.nextQuery++
	id := s.nextQuery
	s.running[id] = &Running{QueryID: id, User: user, SessionID: 1073741824 + id, Start: s.clock.Now().UTC(), Text: text, Status: status}
	return id
}

// SetStatus moves an in-flight query to another in-flight status (queued →
// running → returning).
func (s *Sim) SetStatus(id int64, status string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r, ok := s.running[id]; ok {
		r.Status = status
	}
}

// Started returns when a running query started (zero when it is not running).
func (s *Sim) Started(id int64) time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r, ok := s.running[id]; ok {
		return r.Start
	}
	return time.Time{}
}

// EndQuery ends a running query (it finished, or was cancelled).
func (s *Sim) EndQuery(id int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.running, id)
}

// Stats returns a copy of the request counts.
func (s *Sim) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := Stats{ByTarget: map[string]int{}, BySQL: map[string]int{}}
	for k, v := range s.stats.ByTarget {
		out.ByTarget[k] = v
	}
	for k, v := range s.stats.BySQL {
		out.BySQL[k] = v
	}
	return out
}

// ServeHTTP answers one awsJson1_1 request.
func (s *Sim) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("x-amzn-RequestId", newID())
	target, body, aerr := awsjson.ReadRequest(r, targetPrefix)
	if aerr == nil {
		aerr = awsjson.Authenticate(r, body, "redshift-data", s.region, s.keys)
	}
	if aerr == nil {
		if ok, _ := s.limit.Take(s.clock.Now()); !ok {
			aerr = &awsjson.Error{Status: http.StatusBadRequest, Type: "ThrottlingException", Msg: "Rate exceeded"}
		}
	}
	if aerr != nil {
		awsjson.WriteError(w, aerr)
		return
	}
	s.mu.Lock()
	s.stats.ByTarget[target]++
	s.mu.Unlock()
	out, aerr := s.dispatch(target, body)
	if aerr != nil {
		awsjson.WriteError(w, aerr)
		return
	}
	awsjson.WriteResult(w, out)
}

func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// reads reports whether sql reads the named system relation.
func reads(sql, relation string) bool { return strings.Contains(strings.ToLower(sql), relation) }

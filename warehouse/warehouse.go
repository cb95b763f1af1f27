// Package warehouse talks to the SQL warehouses sekisho checks and watches:
// PostgreSQL through pgx, Amazon Redshift through the Redshift Data API, and
// BigQuery through cloud.google.com/go/bigquery. It offers the two
// operations of SPEC §15: run a check query and read its first value, and
// list the queries running now. Every call to a warehouse, retries
// included, draws from that warehouse's request budget (SPEC §13).
package warehouse

import (
	"context"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/policy/budget"
)

// AppName is how sekisho names its own sessions (PostgreSQL
// application_name), so the long-query watch never reports them.
const AppName = "sekisho"

// Client runs sekisho's queries on one warehouse. Implementations are safe
// for concurrent use.
type Client interface {
	// Check runs a data-quality query and reads the first column of its
	// first row: whether it is true or a number above zero, and the number
	// when it is one (SPEC §21 compares it with expectations). No row
	// fails the check.
	Check(ctx context.Context, query string) (Result, error)
	// Running lists the queries running now, other than sekisho's own.
	Running(ctx context.Context) ([]Query, error)
	// Close releases connections.
	Close() error
}

// Query is one running query as the long-query watch sees it.
type Query struct {
	// Key identifies the query across listings: Redshift's query_id,
	// PostgreSQL's pid and query start, BigQuery's job id.
	Key       string
	User      string
	PID       string // Redshift session_id, PostgreSQL backend pid, BigQuery job id
	StartedAt time.Time
	Text      string
}

// Options are the test and demo hooks of Open; production leaves them zero.
type Options struct {
	// AWSStaticCredentials replaces the AWS default chain (Redshift against
	// a simulator).
	AWSAccessKey, AWSSecretKey string
	// NoGoogleAuth skips Application Default Credentials (BigQuery against
	// a simulator).
	NoGoogleAuth bool
	// StatementPoll is the first wait between Redshift DescribeStatement
	// calls (default 250ms, doubling to 2s).
	StatementPoll time.Duration
	// Budget gives the request budget a warehouse's calls draw from (SPEC
	// §13). The daemon passes its shared one, so the sql sensor and the
	// long-query watch of one warehouse spend a single budget. When nil,
	// each client gets its own budget of the warehouse's rate_limit on the
	// real clock.
	Budget func(w *config.Warehouse) *budget.Budget
}

// budgetOf is the budget w's calls draw from; nil (unlimited) without a
// rate_limit.
func (o Options) budgetOf(w *config.Warehouse) *budget.Budget {
	if o.Budget != nil {
		return o.Budget(w)
	}
	return budget.New("warehouse "+w.Name, budget.Limit(w.RateLimit), nil)
}

// Open returns a client for one configured warehouse.
func Open(ctx context.Context, w *config.Warehouse, o Options) (Client, error) {
	switch w.Type {
	case config.WarehousePostgres:
		return openPostgres(ctx, w, o.budgetOf(w))
	case config.WarehouseRedshift:
		return openRedshift(ctx, w, o)
	case config.WarehouseBigQuery:
		return openBigQuery(ctx, w, o)
	}
	return nil, fmt.Errorf("warehouse %s: unknown type %q", w.Name, w.Type)
}

// Result is a check query's answer.
type Result struct {
	// Passed: the first value is true or a number above zero (SPEC §15).
	Passed bool
	// Value is the first value as a number; nil when it is not one (a
	// boolean, text that spells no number, no row).
	Value *float64
}

// String is the result as a test or a log reads it: "pass 7", "fail 0",
// "pass" (no number).
func (r Result) String() string {
	s := "fail"
	if r.Passed {
		s = "pass"
	}
	if r.Value != nil {
		s += " " + strconv.FormatFloat(*r.Value, 'g', -1, 64)
	}
	return s
}

// Read is the Result of a check query whose first value is v.
func Read(v any) Result {
	res := Result{Passed: Truthy(v)}
	if f, ok := Number(v); ok {
		res.Value = &f
	}
	return res
}

// Number reads v as a number: the integer, float and decimal kinds the
// drivers return, or text that spells a number. Booleans are not numbers.
func Number(v any) (float64, bool) {
	switch x := v.(type) {
	case int:
		return float64(x), true
	case int8:
		return float64(x), true
	case int16:
		return float64(x), true
	case int32:
		return float64(x), true
	case int64:
		return float64(x), true
	case uint8:
		return float64(x), true
	case uint16:
		return float64(x), true
	case uint32:
		return float64(x), true
	case uint64:
		return float64(x), true
	case float32:
		return float64(x), true
	case float64:
		return x, true
	case *big.Rat:
		if x == nil {
			return 0, false
		}
		f, _ := x.Float64()
		return f, true
	case *big.Int:
		if x == nil {
			return 0, false
		}
		f, _ := new(big.Float).SetInt(x).Float64()
		return f, true
	case string:
		s := strings.TrimSpace(x)
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			return f, true
		}
		if r, ok := new(big.Rat).SetString(s); ok {
			f, _ := r.Float64()
			return f, true
		}
	}
	return 0, false
}

// Truthy is the check rule of SPEC §15: true, or a number above zero. A
// string counts when it spells one of those (warehouses that return text).
func Truthy(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	case int:
		return x > 0
	case int8:
		return x > 0
	case int16:
		return x > 0
	case int32:
		return x > 0
	case int64:
		return x > 0
	case uint8:
		return x > 0
	case uint16:
		return x > 0
	case uint32:
		return x > 0
	case uint64:
		return x > 0
	case float32:
		return x > 0
	case float64:
		return x > 0
	case *big.Rat:
		return x != nil && x.Sign() > 0
	case *big.Int:
		return x != nil && x.Sign() > 0
	case string:
		s := strings.TrimSpace(strings.ToLower(x))
		switch s {
		case "t", "true":
			return true
		}
		if r, ok := new(big.Rat).SetString(s); ok {
			return r.Sign() > 0
		}
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			return f > 0
		}
	}
	return false
}

// Truncate keeps the first n characters (runes) of a query text.
func Truncate(s string, n int) string {
	i := 0
	for pos := range s {
		if i == n {
			return s[:pos]
		}
		i++
	}
	return s
}

// OpenAll opens a client for each named warehouse. On an error the clients
// already opened are closed.
func OpenAll(ctx context.Context, ws map[string]*config.Warehouse, o Options) (map[string]Client, error) {
	out := map[string]Client{}
	for name, w := range ws {
		c, err := Open(ctx, w, o)
		if err != nil {
			CloseAll(out)
			return nil, err
		}
		out[name] = c
	}
	return out, nil
}

// CloseAll closes every client.
func CloseAll(cs map[string]Client) {
	for _, c := range cs {
		c.Close()
	}
}

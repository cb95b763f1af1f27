package warehouse

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/sim/redshiftsim"
)

// openRedshiftSim points the real SDK at the Data API simulator, with
// signatures checked.
func openRedshiftSim(t *testing.T, w config.Warehouse, opts ...redshiftsim.Option) (Client, *redshiftsim.Sim, *clockwork.FakeClock) {
	t.Helper()
	clock := clockwork.NewFakeClockAt(time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC))
	sim := redshiftsim.New(clock, append([]redshiftsim.Option{redshiftsim.WithRegion("ap-northeast-1"),
		redshiftsim.WithCredentials("AKIDSEKISHO", "secret")}, opts...)...)
	srv := sim.NewServer()
	t.Cleanup(srv.Close)
	w.Name, w.Type, w.Region, w.Endpoint = "analytics", config.WarehouseRedshift, "ap-northeast-1", srv.URL
	c, err := Open(context.Background(), &w, Options{AWSAccessKey: "AKIDSEKISHO", AWSSecretKey: "secret", StatementPoll: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return c, sim, clock
}

func TestRedshiftCheck(t *testing.T) {
	c, sim, _ := openRedshiftSim(t, config.Warehouse{WorkgroupName: "analytics", Database: "dev"}, redshiftsim.WithDescribes(2))
	ctx := context.Background()
	rows := int64(0)
	const q = "SELECT COUNT(*) FROM sales.orders WHERE order_date = '2026-03-02'"
	sim.Answer(q, func() ([]redshiftsim.Value, error) { return []redshiftsim.Value{rows}, nil })
	sim.Answer("SELECT true", func() ([]redshiftsim.Value, error) { return []redshiftsim.Value{true}, nil })
	sim.Answer("SELECT NULL", func() ([]redshiftsim.Value, error) { return []redshiftsim.Value{nil}, nil })
	sim.Answer("SELECT 1 WHERE false", func() ([]redshiftsim.Value, error) { return nil, nil })
	sim.Answer("SELECT 1 FROM missing", func() ([]redshiftsim.Value, error) {
		return nil, errors.New(`ERROR: relation "missing" does not exist`)
	})
	for _, tt := range []struct {
		query string
		want  string
	}{{q, "fail 0"}, {"SELECT true", "pass"}, {"SELECT NULL", "fail"}, {"SELECT 1 WHERE false", "fail"}} {
		if got, err := c.Check(ctx, tt.query); err != nil || got.String() != tt.want {
			t.Errorf("Check(%q) = %v, %v; want %v", tt.query, got, err, tt.want)
		}
	}
	rows = 42
	if got, err := c.Check(ctx, q); err != nil || got.String() != "pass 42" {
		t.Errorf("after the rows landed: %v, %v", got, err)
	}
	if _, err := c.Check(ctx, "SELECT 1 FROM missing"); err == nil || !strings.Contains(err.Error(), `relation "missing" does not exist`) {
		t.Errorf("a failed statement gave %v", err)
	}
	st := sim.Stats()
	if st.BySQL[q] != 2 || st.ByTarget["ExecuteStatement"] != 6 || st.ByTarget["DescribeStatement"] < 18 {
		t.Errorf("requests: %+v", st)
	}
}

func TestRedshiftRunningNeedsSysMonitor(t *testing.T) {
	c, sim, clock := openRedshiftSim(t, config.Warehouse{ClusterIdentifier: "prod", Database: "dev", DBUser: "sekisho"})
	ctx := context.Background()
	id := sim.StartQuery("analyst", "SELECT * FROM logs.access -- no date filter")
	clock.Advance(time.Minute)
	own := sim.StartQuery("sekisho", "SELECT 1")
	qs, err := c.Running(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Without sys:monitor a user sees only their own queries (and the
	// listing statement itself is not among them: it is not running yet).
	if len(qs) != 1 || qs[0].Text != "SELECT 1" {
		t.Fatalf("without sys:monitor: %+v", qs)
	}
	sim.EndQuery(own)
	sim.GrantMonitor("sekisho")
	qs, err = c.Running(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(qs) != 1 {
		t.Fatalf("with sys:monitor: %+v", qs)
	}
	q := qs[0]
	want := time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC)
	if q.User != "analyst" || !q.StartedAt.Equal(want) || q.Key == "" || q.PID == "" || !strings.Contains(q.Text, "no date filter") {
		t.Errorf("listed %+v", q)
	}
	if q.Key != itoa(id) {
		t.Errorf("key %q, want the query_id %d", q.Key, id)
	}
}

// TestRedshiftInFlightStatuses: a query waiting in the WLM queue is listed
// from its submission, and a query returning its rows is still listed, so
// the watch neither misses the first nor ends the second's alert early.
func TestRedshiftInFlightStatuses(t *testing.T) {
	c, sim, clock := openRedshiftSim(t, config.Warehouse{ClusterIdentifier: "prod", Database: "dev", DBUser: "sekisho"})
	sim.GrantMonitor("sekisho")
	queued := sim.SubmitQuery("analyst", "SELECT * FROM big", redshiftsim.StatusQueued)
	planning := sim.SubmitQuery("etl", "INSERT INTO mart SELECT 1", redshiftsim.StatusPlanning)
	clock.Advance(40 * time.Minute)
	keys := func() []string {
		t.Helper()
		qs, err := c.Running(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, q := range qs {
			out = append(out, q.Key)
		}
		return out
	}
	if got := keys(); len(got) != 2 || got[0] != itoa(queued) || got[1] != itoa(planning) {
		t.Errorf("queued and planning queries: listed %v, want [%d %d]", got, queued, planning)
	}
	sim.SetStatus(queued, redshiftsim.StatusRunning)
	sim.SetStatus(planning, redshiftsim.StatusReturning)
	if got := keys(); len(got) != 2 {
		t.Errorf("running and returning queries: listed %v, want both", got)
	}
	sim.EndQuery(planning)
	if got := keys(); len(got) != 1 || got[0] != itoa(queued) {
		t.Errorf("after one ended: listed %v", got)
	}
}

// TestRedshiftProvisionedAsIAMIdentity: a provisioned cluster with neither
// db_user nor secret_arn runs as the caller's IAM identity, which the Data
// API accepts (ClusterIdentifier + Database alone).
func TestRedshiftProvisionedAsIAMIdentity(t *testing.T) {
	c, sim, _ := openRedshiftSim(t, config.Warehouse{ClusterIdentifier: "prod", Database: "dev"})
	sim.Answer("SELECT true", func() ([]redshiftsim.Value, error) { return []redshiftsim.Value{true}, nil })
	if ok, err := c.Check(context.Background(), "SELECT true"); err != nil || !ok.Passed {
		t.Fatalf("Check as the IAM identity = %v, %v", ok, err)
	}
	sim.StartQuery(redshiftsim.IAMUser, "SELECT 1")
	qs, err := c.Running(context.Background())
	if err != nil || len(qs) != 1 || qs[0].User != redshiftsim.IAMUser {
		t.Errorf("the identity's own queries: %+v, %v", qs, err)
	}
}

func TestRedshiftRefusesWrongKey(t *testing.T) {
	clock := clockwork.NewFakeClock()
	sim := redshiftsim.New(clock, redshiftsim.WithCredentials("AKIDSEKISHO", "secret"))
	srv := sim.NewServer()
	defer srv.Close()
	w := &config.Warehouse{Name: "a", Type: config.WarehouseRedshift, Region: "ap-northeast-1", WorkgroupName: "wg", Database: "dev", Endpoint: srv.URL}
	c, err := Open(context.Background(), w, Options{AWSAccessKey: "AKIDSEKISHO", AWSSecretKey: "wrong", StatementPoll: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Check(context.Background(), "SELECT true"); err == nil || !strings.Contains(err.Error(), "InvalidSignatureException") {
		t.Errorf("a wrong secret gave %v", err)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

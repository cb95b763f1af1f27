package airflowapi_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/sekisho-dev/sekisho/client/airflowapi"
	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/policy/budget"
	"github.com/sekisho-dev/sekisho/sim/airflowsim"
	"github.com/sekisho-dev/sekisho/sim/simlimit"
	"github.com/sekisho-dev/sekisho/testkit/budgettest"
)

func passwordEnv(t *testing.T, life time.Duration) (*env, *airflowapi.Client) {
	e := newEnv(t, airflowsim.Options{Auth: airflowsim.AuthPassword, Username: "sekisho", Password: password,
		TokenLifetime: life}, nil)
	e.sim.AddDAG("daily", airflowsim.DAG{})
	c := e.client(t, config.Airflow{APIVersion: airflowapi.V2, Auth: airflowapi.AuthPassword, Username: "sekisho",
		Password: config.Secret(password)}, airflowapi.WithClock(e.clock))
	return e, c
}

func TestPasswordAuthKeepsTheTokenUntilShortlyBeforeExp(t *testing.T) {
	e, c := passwordEnv(t, airflowsim.DefaultTokenLifetime)
	ctx := context.Background()
	for range 3 {
		if _, err := c.GetDag(ctx, "daily"); err != nil {
			t.Fatal(err)
		}
	}
	if n := e.sim.Requests()["auth_token"]; n != 1 {
		t.Fatalf("%d token requests for 3 calls, want 1", n)
	}
	e.clock.Advance(23*time.Hour + 56*time.Minute) // within 5 minutes of exp
	if _, err := c.GetDag(ctx, "daily"); err != nil {
		t.Fatal(err)
	}
	if n := e.sim.Requests()["auth_token"]; n != 2 {
		t.Fatalf("%d token requests after 23h56m, want a renewal before exp", n)
	}
	if n := e.sim.Requests()["unauthenticated"]; n != 0 {
		t.Errorf("%d requests refused", n)
	}
}

func TestPasswordAuthRenewsOnceOn401(t *testing.T) {
	e, c := passwordEnv(t, airflowsim.DefaultTokenLifetime)
	ctx := context.Background()
	if _, err := c.GetDag(ctx, "daily"); err != nil {
		t.Fatal(err)
	}
	e.sim.RevokeTokens() // a restart with a new jwt_secret: the cached token is refused before its exp
	if _, err := c.GetDag(ctx, "daily"); err != nil {
		t.Fatal(err)
	}
	r := e.sim.Requests()
	if r["auth_token"] != 2 || r["unauthenticated"] != 1 {
		t.Fatalf("token requests %d, refused %d; want one 401 and one renewal", r["auth_token"], r["unauthenticated"])
	}
	e.sim.RevokeTokens()
	e.sim.SetPassword("changed") // now renewal fails too: one retry only, then the error
	if _, err := c.GetDag(ctx, "daily"); err == nil {
		t.Fatal("want an error once the password no longer works")
	}
	if r := e.sim.Requests(); r["auth_token"] != 3 {
		t.Errorf("token requests %d, want 3 (one retry, no loop)", r["auth_token"])
	}
}

func TestPasswordAuthWrongPasswordSaysWhat(t *testing.T) {
	e := newEnv(t, airflowsim.Options{Auth: airflowsim.AuthPassword, Username: "sekisho", Password: password}, nil)
	c := e.client(t, config.Airflow{APIVersion: airflowapi.V2, Auth: airflowapi.AuthPassword, Username: "sekisho",
		Password: config.Secret("wrong-" + password)}, airflowapi.WithClock(e.clock))
	_, err := c.GetDag(context.Background(), "daily")
	if err == nil || !strings.Contains(err.Error(), "check username and password") || strings.Contains(err.Error(), password) {
		t.Fatalf("err = %v", err)
	}
}

func TestAirflowBudgetNoThrottling(t *testing.T) {
	e := newEnv(t, airflowsim.Options{Limit: simlimit.Limit{Requests: 3, Per: time.Second}}, nil)
	e.sim.AddDAG("daily", airflowsim.DAG{})
	b := budget.New("airflow", budget.Limit{Requests: 3, Per: time.Second}, e.clock)
	c := e.client(t, config.Airflow{APIVersion: airflowapi.V2, Auth: airflowapi.AuthNone}, airflowapi.WithBudget(b))
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 10 {
			if _, err := c.GetDag(context.Background(), "daily"); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	budgettest.Drive(e.clock, 100*time.Millisecond, done)
	if n := e.sim.Requests()["throttled"]; n != 0 {
		t.Fatalf("%d calls throttled", n)
	}
}

package gluesim_test

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	"github.com/jonboulle/clockwork"

	"github.com/sekisho-dev/sekisho/sim/gluesim"
)

// Example scripts a job that starts at 01:00 and fails after 40 minutes,
// then reads it through the real AWS SDK as the clock moves.
func Example() {
	clock := clockwork.NewFakeClockAt(time.Date(2025, 3, 10, 0, 30, 0, 0, time.UTC))
	sim := gluesim.New(clock)
	sim.PlanRun("hegel-rds-export", gluesim.Run{
		Start:    time.Date(2025, 3, 10, 1, 0, 0, 0, time.UTC),
		Duration: 40 * time.Minute,
		Outcome:  gluesim.Failed,
		Message:  "An error occurred while calling o97.getDynamicFrame",
	})
	srv := sim.NewServer()
	defer srv.Close()

	client := glue.New(glue.Options{
		Region:       "ap-northeast-1",
		BaseEndpoint: aws.String(srv.URL),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDDEMO", "demo-secret", ""),
	})
	for _, step := range []time.Duration{0, time.Hour, time.Hour} {
		clock.Advance(step)
		out, err := client.GetJobRuns(context.Background(), &glue.GetJobRunsInput{JobName: aws.String("hegel-rds-export")})
		if err != nil {
			fmt.Println(err)
			return
		}
		for _, r := range out.JobRuns {
			fmt.Println(strings.TrimSpace(fmt.Sprint(clock.Now().Format("15:04"), " ", r.JobRunState, " ", aws.ToString(r.ErrorMessage))))
		}
		if len(out.JobRuns) == 0 {
			fmt.Println(clock.Now().Format("15:04"), "no runs yet")
		}
	}
	fmt.Println(sim.Requests().ByResource["glue_job:hegel-rds-export"], "requests")
	// Output:
	// 00:30 no runs yet
	// 01:30 RUNNING
	// 02:30 FAILED An error occurred while calling o97.getDynamicFrame
	// 3 requests
}

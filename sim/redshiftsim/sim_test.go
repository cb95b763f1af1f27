package redshiftsim

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/redshiftdata"
	"github.com/aws/aws-sdk-go-v2/service/redshiftdata/types"
	smithy "github.com/aws/smithy-go"
	"github.com/jonboulle/clockwork"
)

func client(url string) *redshiftdata.Client {
	return redshiftdata.New(redshiftdata.Options{Region: "ap-northeast-1", BaseEndpoint: aws.String(url),
		Credentials: credentials.NewStaticCredentialsProvider("AKID", "secret", "")})
}

func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// TestDataAPIRules: the simulator refuses what the Data API refuses, in
// its error words, through the real SDK.
func TestDataAPIRules(t *testing.T) {
	sim := New(clockwork.NewFakeClock(), WithCredentials("AKID", "secret"))
	srv := sim.NewServer()
	defer srv.Close()
	c := client(srv.URL)
	ctx := context.Background()
	_, err := c.ExecuteStatement(ctx, &redshiftdata.ExecuteStatementInput{Sql: aws.String("SELECT 1"), Database: aws.String("dev"),
		WorkgroupName: aws.String("wg"), ClusterIdentifier: aws.String("c")})
	if apiCode(err) != "ValidationException" {
		t.Errorf("cluster and workgroup together: %v", err)
	}
	// A provisioned cluster with neither DbUser nor SecretArn is the IAM
	// identity's connection, which the Data API accepts; without a
	// database it is refused.
	if _, err = c.ExecuteStatement(ctx, &redshiftdata.ExecuteStatementInput{Sql: aws.String("SELECT 1"), Database: aws.String("dev"),
		ClusterIdentifier: aws.String("c")}); err != nil {
		t.Errorf("provisioned as the IAM identity: %v", err)
	}
	_, err = c.ExecuteStatement(ctx, &redshiftdata.ExecuteStatementInput{Sql: aws.String("SELECT 1"), ClusterIdentifier: aws.String("c")})
	if apiCode(err) != "ValidationException" {
		t.Errorf("provisioned without a database: %v", err)
	}
	_, err = c.DescribeStatement(ctx, &redshiftdata.DescribeStatementInput{Id: aws.String("00000000-0000-0000-0000-000000000000")})
	if apiCode(err) != "ResourceNotFoundException" {
		t.Errorf("unknown statement: %v", err)
	}
	sim.Answer("SELECT 1", func() ([]Value, error) { return []Value{int64(1)}, nil })
	out, err := c.ExecuteStatement(ctx, &redshiftdata.ExecuteStatementInput{Sql: aws.String("SELECT 1"), Database: aws.String("dev"),
		WorkgroupName: aws.String("wg")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetStatementResult(ctx, &redshiftdata.GetStatementResultInput{Id: out.Id}); apiCode(err) != "ValidationException" {
		t.Errorf("result before the statement finished: %v", err)
	}
	d, _ := c.DescribeStatement(ctx, &redshiftdata.DescribeStatementInput{Id: out.Id})
	if d.Status != types.StatusStringStarted || d.CreatedAt == nil {
		t.Errorf("first describe: %+v", d)
	}
	d, _ = c.DescribeStatement(ctx, &redshiftdata.DescribeStatementInput{Id: out.Id})
	if d.Status != types.StatusStringFinished || d.HasResultSet == nil || !*d.HasResultSet {
		t.Errorf("second describe: %+v", d)
	}
	res, err := c.GetStatementResult(ctx, &redshiftdata.GetStatementResultInput{Id: out.Id})
	if err != nil || len(res.Records) != 1 {
		t.Fatalf("result: %+v, %v", res, err)
	}
	if v, ok := res.Records[0][0].(*types.FieldMemberLongValue); !ok || v.Value != 1 {
		t.Errorf("record: %#v", res.Records[0][0])
	}
}

// TestEnvelope: an unsigned request and a wrong content type are refused
// as AWS's front end refuses them.
func TestEnvelope(t *testing.T) {
	srv := New(nil).NewServer()
	defer srv.Close()
	post := func(ct, auth string) (int, string) {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/", strings.NewReader(`{"Id":"x"}`))
		req.Header.Set("X-Amz-Target", "RedshiftData.DescribeStatement")
		req.Header.Set("Content-Type", ct)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		var e struct {
			Type string `json:"__type"`
		}
		json.Unmarshal(b, &e)
		return resp.StatusCode, e.Type
	}
	if code, typ := post("application/x-amz-json-1.1", ""); code != 400 || typ != "MissingAuthenticationTokenException" {
		t.Errorf("unsigned: %d %s", code, typ)
	}
	if code, typ := post("application/json", ""); code != 400 || typ != "SerializationException" {
		t.Errorf("wrong content type: %d %s", code, typ)
	}
	glue := "AWS4-HMAC-SHA256 Credential=AKID/20260302/ap-northeast-1/glue/aws4_request, SignedHeaders=host, Signature=" + strings.Repeat("0", 64)
	if code, typ := post("application/x-amz-json-1.1", glue); code != 400 || typ != "IncompleteSignatureException" {
		t.Errorf("signed for another service: %d %s", code, typ)
	}
}

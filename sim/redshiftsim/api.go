package redshiftsim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/sekisho-dev/sekisho/sim/awsjson"
)

// Wire shapes of the Redshift Data API reference
// (https://docs.aws.amazon.com/redshift-data/latest/APIReference/).

type executeStatementInput struct {
	Sql                     *string
	Database                *string
	ClusterIdentifier       *string
	WorkgroupName           *string
	DbUser                  *string
	SecretArn               *string
	StatementName           *string
	WithEvent               *bool
	Parameters              []map[string]string
	ClientToken             *string
	SessionId               *string
	SessionKeepAliveSeconds *int
	ResultFormat            *string
}

type executeStatementOutput struct {
	Id                string  `json:"Id"`
	CreatedAt         float64 `json:"CreatedAt"`
	Database          string  `json:"Database,omitempty"`
	DbUser            string  `json:"DbUser,omitempty"`
	ClusterIdentifier string  `json:"ClusterIdentifier,omitempty"`
	WorkgroupName     string  `json:"WorkgroupName,omitempty"`
	SecretArn         string  `json:"SecretArn,omitempty"`
}

type idInput struct {
	Id        *string
	NextToken *string
}

type describeStatementOutput struct {
	Id              string  `json:"Id"`
	Status          string  `json:"Status"`
	CreatedAt       float64 `json:"CreatedAt"`
	UpdatedAt       float64 `json:"UpdatedAt"`
	QueryString     string  `json:"QueryString"`
	HasResultSet    bool    `json:"HasResultSet"`
	ResultRows      int64   `json:"ResultRows"`
	ResultSize      int64   `json:"ResultSize"`
	Duration        int64   `json:"Duration"`
	Error           string  `json:"Error,omitempty"`
	RedshiftPid     int64   `json:"RedshiftPid"`
	RedshiftQueryId int64   `json:"RedshiftQueryId"`
}

type columnMetadata struct {
	Name     string `json:"name"`
	Label    string `json:"label"`
	TypeName string `json:"typeName"`
}

type getStatementResultOutput struct {
	Records        [][]map[string]any `json:"Records"`
	ColumnMetadata []columnMetadata   `json:"ColumnMetadata"`
	TotalNumRows   int64              `json:"TotalNumRows"`
	NextToken      string             `json:"NextToken,omitempty"`
}

// epoch encodes t as awsJson1_1 does: seconds since 1970 with a fraction.
func epoch(t time.Time) float64 { return float64(t.UnixMilli()) / 1e3 }

// sysTime is how a timestamp column comes back as a stringValue.
const sysTime = "2006-01-02 15:04:05.000000"

func validation(format string, a ...any) *awsjson.Error {
	return awsjson.Invalid("ValidationException", format, a...)
}

func (s *Sim) dispatch(target string, body []byte) (any, *awsjson.Error) {
	decode := func(v any) *awsjson.Error {
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		if err := dec.Decode(v); err != nil {
			return awsjson.Invalid("SerializationException", "cannot read the request body: %v", err)
		}
		return nil
	}
	switch target {
	case "ExecuteStatement":
		var in executeStatementInput
		if e := decode(&in); e != nil {
			return nil, e
		}
		return s.execute(in)
	case "DescribeStatement":
		var in idInput
		if e := decode(&in); e != nil {
			return nil, e
		}
		return s.describe(in)
	case "GetStatementResult":
		var in idInput
		if e := decode(&in); e != nil {
			return nil, e
		}
		return s.result(in)
	}
	return nil, awsjson.Invalid("UnknownOperationException", "the simulator does not implement %s", target)
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// execute checks the connection parameters as the Data API does and queues
// the statement: provisioned (ClusterIdentifier) or Serverless
// (WorkgroupName), never both. Without DbUser or SecretArn the statement
// runs as the caller's IAM identity, on either kind: AWS's ExecuteStatement
// reference, "Temporary credentials": "When connecting to a cluster as an
// IAM identity, specify the cluster identifier and the database name. The
// database user name is derived from the IAM identity"
// (redshift:GetClusterCredentialsWithIAM; on Serverless
// redshift-serverless:GetCredentials).
func (s *Sim) execute(in executeStatementInput) (any, *awsjson.Error) {
	if str(in.Sql) == "" {
		return nil, validation("1 validation error detected: Value null at 'sql' failed to satisfy constraint: Member must not be null")
	}
	cluster, workgroup := str(in.ClusterIdentifier), str(in.WorkgroupName)
	switch {
	case cluster != "" && workgroup != "":
		return nil, validation("Either ClusterIdentifier or WorkgroupName must be specified, not both.")
	case cluster == "" && workgroup == "":
		return nil, validation("Either ClusterIdentifier or WorkgroupName must be specified.")
	case str(in.Database) == "" && str(in.SecretArn) == "":
		return nil, validation("Database must be specified.")
	}
	user := str(in.DbUser)
	if user == "" {
		user = IAMUser // the IAM identity's database user
	}
	now := s.clock.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.addUser(user)
	s.stats.BySQL[*in.Sql]++
	st := &statement{id: newID(), sql: *in.Sql, user: user, created: now, updated: now}
	s.statements[st.id] = st
	return executeStatementOutput{Id: st.id, CreatedAt: epoch(now), Database: str(in.Database), DbUser: str(in.DbUser),
		ClusterIdentifier: cluster, WorkgroupName: workgroup, SecretArn: str(in.SecretArn)}, nil
}

func (s *Sim) lookup(id *string) (*statement, *awsjson.Error) {
	if str(id) == "" {
		return nil, validation("1 validation error detected: Value null at 'id' failed to satisfy constraint: Member must not be null")
	}
	st, ok := s.statements[*id]
	if !ok {
		return nil, &awsjson.Error{Status: http.StatusBadRequest, Type: "ResourceNotFoundException", Msg: "Query does not exist."}
	}
	return st, nil
}

// describe moves a statement on: STARTED for the first describes, then it
// runs (against the answers and the simulated system tables) and FINISHED
// or FAILED.
func (s *Sim) describe(in idInput) (any, *awsjson.Error) {
	now := s.clock.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	st, e := s.lookup(in.Id)
	if e != nil {
		return nil, e
	}
	status := "STARTED"
	if st.describes >= s.describes {
		if st.updated.Equal(st.created) && st.rows == nil && st.err == "" {
			s.run(st)
			st.updated = now
		}
		status = "FINISHED"
		if st.err != "" {
			status = "FAILED"
		}
	}
	st.describes++
	return describeStatementOutput{Id: st.id, Status: status, CreatedAt: epoch(st.created), UpdatedAt: epoch(st.updated),
		QueryString: st.sql, HasResultSet: status == "FINISHED" && st.hasResult, ResultRows: int64(len(st.rows)),
		Duration: st.updated.Sub(st.created).Nanoseconds(), Error: st.err, RedshiftPid: 1073741824, RedshiftQueryId: 1}, nil
}

// run computes a statement's rows. Callers hold s.mu.
func (s *Sim) run(st *statement) {
	st.hasResult = true
	switch {
	case reads(st.sql, "sys_query_history"):
		st.columns = []string{"query_id", "user_id", "session_id", "start_time", "btrim"}
		var rs []*Running
		statuses := statusFilter(st.sql)
		for _, r := range s.running {
			// SYS views show a user their own rows only, unless granted
			// sys:monitor (or a superuser).
			if !s.monitor[st.user] && st.user != "rdsdb" && r.User != st.user {
				continue
			}
			if statuses != nil && !statuses[r.Status] {
				continue
			}
			rs = append(rs, r)
		}
		// ORDER BY start_time, query_id, as sekisho asks.
		sort.Slice(rs, func(i, j int) bool {
			if !rs[i].Start.Equal(rs[j].Start) {
				return rs[i].Start.Before(rs[j].Start)
			}
			return rs[i].QueryID < rs[j].QueryID
		})
		for _, r := range rs {
			st.rows = append(st.rows, []Value{r.QueryID, s.users[r.User], r.SessionID, r.Start.UTC().Format(sysTime), r.Text})
		}
	case reads(st.sql, "pg_user"):
		st.columns = []string{"usesysid", "usename"}
		for name, id := range s.users {
			st.rows = append(st.rows, []Value{id, name})
		}
	default:
		var row []Value
		var err error
		fn, ok := s.answers[st.sql]
		if ok {
			row, err = fn()
		} else if s.fallback != nil {
			row, ok, err = s.fallback(st.sql)
		}
		if !ok {
			st.err = fmt.Sprintf("ERROR: the simulator has no answer for this query: %.80s", st.sql)
			return
		}
		if err != nil {
			st.err = err.Error()
			return
		}
		st.columns = []string{"?column?"}
		st.rows = [][]Value{}
		if row != nil {
			st.rows = append(st.rows, row)
		}
	}
}

// statusRE finds a filter on SYS_QUERY_HISTORY's status: `status =
// 'running'`, `TRIM(status) IN ('queued', 'running')`.
var statusRE = regexp.MustCompile(`(?i)status\)?\s*(?:=\s*'([a-z]+)'|in\s*\(([^)]*)\))`)

// statusFilter is the set of statuses a listing asks for; nil when it names
// none (every in-flight row).
func statusFilter(sql string) map[string]bool {
	m := statusRE.FindStringSubmatch(sql)
	if m == nil {
		return nil
	}
	out := map[string]bool{}
	if m[1] != "" {
		out[strings.ToLower(m[1])] = true
		return out
	}
	for _, w := range strings.Split(m[2], ",") {
		out[strings.ToLower(strings.Trim(strings.TrimSpace(w), "'"))] = true
	}
	return out
}

func field(v Value) map[string]any {
	switch x := v.(type) {
	case nil:
		return map[string]any{"isNull": true}
	case bool:
		return map[string]any{"booleanValue": x}
	case int:
		return map[string]any{"longValue": int64(x)}
	case int64:
		return map[string]any{"longValue": x}
	case float64:
		return map[string]any{"doubleValue": x}
	case string:
		return map[string]any{"stringValue": x}
	}
	return map[string]any{"stringValue": fmt.Sprint(v)}
}

// resultPage bounds the records of one GetStatementResult page.
const resultPage = 1000

func (s *Sim) result(in idInput) (any, *awsjson.Error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, e := s.lookup(in.Id)
	if e != nil {
		return nil, e
	}
	if st.describes <= s.describes || st.err != "" {
		return nil, validation("Query does not have result. Please check query status with DescribeStatement.")
	}
	from := 0
	if t := str(in.NextToken); t != "" {
		if _, err := fmt.Sscanf(t, "p%d", &from); err != nil || from > len(st.rows) {
			return nil, validation("Invalid NextToken")
		}
	}
	to := min(len(st.rows), from+resultPage)
	out := getStatementResultOutput{Records: [][]map[string]any{}, TotalNumRows: int64(len(st.rows))}
	for _, c := range st.columns {
		out.ColumnMetadata = append(out.ColumnMetadata, columnMetadata{Name: c, Label: c, TypeName: "varchar"})
	}
	for _, row := range st.rows[from:to] {
		rec := make([]map[string]any, len(row))
		for i, v := range row {
			rec[i] = field(v)
		}
		out.Records = append(out.Records, rec)
	}
	if to < len(st.rows) {
		out.NextToken = fmt.Sprintf("p%d", to)
	}
	return out, nil
}

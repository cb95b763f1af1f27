package config

// pipelineKeys are the keys of one pipeline. defaults: takes all but name.
var pipelineKeys = []string{"name", "description", "schedule", "timezone", "poke_interval", "timeout",
	"window_start", "upstreams", "condition", "on_upstream_failure", "trigger", "slo", "sla",
	"max_duration", "notify", "impacts", "calendar", "business_day", "owners", "runbook"}

// upstreamFields says which keys, besides name and type, each upstream type takes.
var upstreamFields = map[string][]string{
	TypeGlueJob:        {"job_name"},
	TypeGlueWorkflow:   {"workflow_name"},
	TypeTroccoJob:      {"job_definition_id", "skipped_is_success"},
	TypeTroccoWorkflow: {"pipeline_definition_id", "skipped_is_success"},
	TypeAirflowDag:     {"connection", "dag_id"},
	TypePipeline:       {"pipeline", "runs", "skipped_is_success"},
	TypeSQL:            {"warehouse", "query", "expect", "on_violation"},
	TypeReconcile:      {"source", "target", "tolerance"},
}

// KnownKeys lists the keys the parser accepts at each level of
// pipelines.yaml, keyed by a path pattern ("" is the top level). The JSON
// Schema test compares it with schema/pipelines.schema.json so the two
// cannot drift.
var KnownKeys = map[string][]string{
	"":                         {"version", "timezone", "defaults", "store", "ha", "server", "connections", "slack", "lineage", "pipelines", "watches", "calendars", "maintenance"},
	"calendars.*":              {"base", "weekend", "holidays", "workdays"},
	"defaults":                 pipelineKeys[1:],
	"store":                    {"path", "retention"},
	"ha":                       {"lease"},
	"server":                   {"listen", "public_url", "token", "read_token"},
	"connections":              {"glue", "trocco", "airflow", "warehouses"},
	"connections.glue":         {"region", "endpoint", "rate_limit", "account_id"},
	"connections.trocco":       {"base_url", "api_key", "rate_limit"},
	"connections.airflow.*":    {"base_url", "api_version", "auth", "username", "password", "token", "rate_limit"},
	"connections.*.rate_limit": {"requests", "per", "daily"},
	"slack": {"webhook_url", "token", "channel", "api_url", "language", "digest_at", "group_wait",
		"interactivity", "app_token", "signing_secret", "operators"},
	"lineage":     {"url", "namespace", "auth", "token"},
	"pipelines[]": pipelineKeys,
	"pipelines[].upstreams[]": {"name", "type", "job_name", "workflow_name", "job_definition_id",
		"pipeline_definition_id", "connection", "dag_id", "pipeline", "runs", "warehouse", "query", "skipped_is_success",
		"expect", "on_violation", "source", "target", "tolerance"},
	"pipelines[].upstreams[].expect":            expectKeys,
	"pipelines[].upstreams[].expect.vs_history": vsHistoryKeys,
	"pipelines[].upstreams[].source":            checkQueryKeys,
	"pipelines[].upstreams[].target":            checkQueryKeys,
	"pipelines[].trigger": {"type", "connection", "dag_id", "conf", "note", "unpause",
		"pipeline_definition_id", "retry_unknown", "trace_context", "logical_date"},
	"pipelines[].slo":    {"deadline", "within", "objective"},
	"pipelines[].sla":    {"recover_by", "within"},
	"pipelines[].notify": {"channel", "mention", "on", "escalate_after", "escalate_to"},
	"maintenance[]":      {"schedule", "duration", "pipelines", "reason"},
	"connections.warehouses.*": {"type", "dsn", "region", "workgroup_name", "cluster_identifier",
		"database", "db_user", "secret_arn", "project", "location", "endpoint", "rate_limit"},
	"watches[]":        {"name", "type", "warehouse", "threshold", "interval", "exclude_users", "notify"},
	"watches[].notify": {"channel", "mention"},
}

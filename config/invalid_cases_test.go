package config

// invalidCases are the files under testdata/invalid with every error line
// validate must print for them, in order.
var invalidCases = []struct {
	name string
	want []string
}{
	{"airflow_auth", []string{
		`airflow_auth.yaml:5:7: connections.airflow.a.password: is required with auth: basic`,
		`airflow_auth.yaml:6:7: connections.airflow.a.api_version: unknown api_version "v3" (did you mean "v1"?)`,
		`airflow_auth.yaml:10:7: connections.airflow.b.base_url: want an absolute http or https URL, got "not a url"`,
		`airflow_auth.yaml:10:7: connections.airflow.b.token: is required with auth: bearer`,
		`airflow_auth.yaml:15:7: connections.airflow.c.token: is not used with auth: google; did you mean auth: bearer?`,
		`airflow_auth.yaml:17:7: connections.airflow.d.base_url: is required; the Airflow web server or Composer URL`,
	}},
	{"airflow3_basic", []string{
		`airflow3_basic.yaml:9:7: connections.airflow.three.auth: auth: basic does not work with api_version: v2 (Airflow 3's API takes only bearer tokens); use auth: password with username and password, and sekisho gets the tokens from /auth/token`,
		`airflow3_basic.yaml:14:7: connections.airflow.two.auth: auth: password is Airflow 3's /auth/token and needs api_version: v2; for Airflow 2 use auth: basic or google`,
	}},
	{"bad_names", []string{
		`bad_names.yaml:3:5: pipelines[0].name: name "Socrates Daily" may only hold lowercase letters, digits, _ and -`,
		`bad_names.yaml:6:9: pipelines[0].upstreams[0].name: name "up.stream" may only hold lowercase letters, digits, _ and -`,
	}},
	{"calendars", []string{
		`calendars.yaml:5:28: calendars.company.weekend[2]: unknown weekday "caturday"; write sat, sun, mon, tue, wed, thu or fri`,
		`calendars.yaml:6:30: calendars.company.holidays[1]: bad date "2026-12-32"; write YYYY-MM-DD, like "2026-12-29"`,
		`calendars.yaml:7:30: calendars.company.workdays[1]: 2026-12-29 is also under holidays; a day is a holiday or a workday, not both`,
		`calendars.yaml:8:3: calendars.jp: calendar jp is built in; give yours another name and set base: jp`,
		`calendars.yaml:11:5: calendars.plain.base: unknown base "us" (want jp, none)`,
		`calendars.yaml:15:5: pipelines[0].calendar: unknown calendar "compnay" (did you mean "company"?)`,
		`calendars.yaml:20:5: pipelines[1].business_day: business_day 0 is not a day; count from 1 (the first business day of the month) or from -1 (the last)`,
		`calendars.yaml:24:5: pipelines[2].business_day: business_day needs a calendar; set calendar: jp_business (or one under calendars:)`,
		`calendars.yaml:26:11: pipelines[2].slo.deadline: "+1bd 09:00" counts business days and needs a calendar; set calendar: jp_business (or one under calendars:)`,
		`calendars.yaml:30:5: pipelines[3].timeout: "-1bd 09:00" counts back; timeout counts business days after the logical date, like "+1bd 09:00"`,
		`calendars.yaml:32:11: pipelines[3].sla.recover_by: "-1bd 12:00" counts back; recover_by counts business days after the logical date, like "+1bd 09:00"`,
		`calendars.yaml:36:5: pipelines[4].timeout: timeout "+0bd 08:00" is not after the gate; write a duration like 6h or a later time like "+1bd 09:00"`,
	}},
	{"condition_syntax", []string{
		`condition_syntax.yaml:8:5: pipelines[0].condition: syntax error at column 11: expected an upstream name, "!" or "(", got end of condition`,
		`condition_syntax.yaml:12:5: pipelines[1].condition: a pipeline without upstreams can only use condition all`,
	}},
	{"condition_unknown", []string{
		`condition_unknown.yaml:8:5: pipelines[0].condition: unknown upstream "hegle_export" at column 1 (did you mean "hegel_export"?)`,
	}},
	{"cron_bad", []string{
		`cron_bad.yaml:4:5: pipelines[0].schedule: bad schedule "0 25 * * *": end of range (25) above maximum (23): 25`,
		`cron_bad.yaml:7:5: pipelines[1].schedule: bad schedule "0 2 * *": want 5 fields (minute hour day-of-month month day-of-week) or 6 with leading seconds, got 4`,
		`cron_bad.yaml:10:5: pipelines[2].schedule: bad schedule "@every 24h": @every is an interval, not a time of day; write a cron expression like "0 2 * * *"`,
		`cron_bad.yaml:13:5: pipelines[3].schedule: bad schedule "CRON_TZ=Asia/Tokyo 0 2 * * *": set the pipeline's timezone instead of a TZ= prefix`,
		`cron_bad.yaml:16:5: pipelines[4].schedule: schedule "0 0 30 2 *" never fires; check the day of month and month`,
		`cron_bad.yaml:19:5: pipelines[5].schedule: bad schedule "0 25 * * *": end of range (25) above maximum (23): 25`,
	}},
	{"cron_too_often", []string{
		`cron_too_often.yaml:4:5: pipelines[0].schedule: schedule "*/2 * * * *" fires every 2m (at 00:00 and 00:02); sekisho gates at most every 5m, each fire is a run`,
		`cron_too_often.yaml:7:5: pipelines[1].schedule: schedule "0,3 9 * * *" fires every 3m (at 09:00 and 09:03); sekisho gates at most every 5m, each fire is a run`,
		`cron_too_often.yaml:10:5: pipelines[2].schedule: schedule "* 0 2 * * *" fires every 1s (at 02:00 and 02:00:01); sekisho gates at most every 5m, each fire is a run`,
		`cron_too_often.yaml:13:5: pipelines[3].schedule: schedule "0,58 0,23 * * *" fires every 2m (at 23:58 and 00:00); sekisho gates at most every 5m, each fire is a run`,
		`cron_too_often.yaml:25:7: pipelines[6].slo.deadline: a sub-daily schedule has no single deadline; write within: 45m, measured from each gate`,
		`cron_too_often.yaml:28:7: pipelines[6].sla.recover_by: a sub-daily schedule has no single recover_by; write within: 3h, measured from each gate`,
		`cron_too_often.yaml:32:5: pipelines[7].window_start: bad window_start "-15x": write a time of day like "00:00" or "-1d 22:00", or a duration before the gate like -15m`,
		`cron_too_often.yaml:35:7: pipelines[7].slo.within: deadline and within both set; keep one`,
		`cron_too_often.yaml:41:7: pipelines[8].slo.within: is required; how long after each gate the run must have succeeded, like 45m`,
		`cron_too_often.yaml:49:7: pipelines[9].sla.within: within 10m is before the slo's 45m; a recovery limit comes after the deadline`,
	}},
	{"cycle", []string{
		`cycle.yaml:14:9: pipelines[1].upstreams[0].pipeline: dependency cycle a -> c -> b -> a; a pipeline cannot wait on itself`,
		`cycle.yaml:26:9: pipelines[3].upstreams[0].pipeline: dependency cycle self -> self; a pipeline cannot wait on itself`,
	}},
	{"deadline_before_gate", []string{
		`deadline_before_gate.yaml:7:7: pipelines[0].slo.deadline: deadline "06:00" is not after the gate at 22:00; write "+1d 06:00" for the next day`,
		`deadline_before_gate.yaml:10:7: pipelines[0].sla.recover_by: recover_by "21:00" is not after the gate at 22:00; write "+1d 21:00" for the next day`,
		`deadline_before_gate.yaml:18:7: pipelines[1].sla.recover_by: recover_by "07:00" is before the slo deadline "08:00"; a recovery limit comes after the deadline`,
	}},
	{"defaults_name", []string{
		`defaults_name.yaml:3:3: defaults.name: unknown key "name"`,
	}},
	{"duplicate_key", []string{
		`duplicate_key.yaml:5:5: pipelines[0].schedule: duplicate key "schedule"; keep one`,
	}},
	{"duplicate_names", []string{
		`duplicate_names.yaml:9:9: pipelines[0].upstreams[1].name: duplicate upstream name "x" (first at line 6); upstream names are unique within a pipeline`,
		`duplicate_names.yaml:15:5: pipelines[2].name: duplicate pipeline name "a" (first at line 3); pipeline names are unique`,
	}},
	{"durations", []string{
		`durations.yaml:3:3: defaults.timeout: bad duration "6 hours"; write Go syntax like 90s, 30m or 2h30m`,
		`durations.yaml:7:5: pipelines[0].poke_interval: duration "500ms" is below the minimum 1s`,
		`durations.yaml:8:5: pipelines[0].max_duration: duration "-1h" is below the minimum 0s`,
	}},
	{"ha_lease", []string{
		`ha_lease.yaml:3:3: ha.lease: duration "500ms" is below the minimum 1s`,
		`ha_lease.yaml:4:3: ha.renew: unknown key "renew"`,
	}},
	{"store_retention", []string{
		`store_retention.yaml:4:3: store.retention: bad retention "400"; write whole days like 400d, or 0 to keep everything`,
	}},
	{"store_retention_short", []string{
		`store_retention_short.yaml:3:3: store.retention: retention "7d" is below the minimum 31d: the board's history and the engine's look-backs read runs that young`,
	}},
	{"empty", []string{
		`empty.yaml:1:1: version: the file is empty; start with "version: 1" and a list of pipelines`,
	}},
	{"env_unset", []string{
		`env_unset.yaml:3:3: server.token: environment variable SEKISHO_TOKEN is not set; export it, or write $$ for a literal $`,
		`env_unset.yaml:4:3: server.read_token: environment variables SEKISHO_READ_TOKEN, OTHER are not set; export them`,
		`env_unset.yaml:5:3: server.public_url: bad variable reference "${BAD-NAME}"; write ${NAME} with letters, digits and _`,
		`env_unset.yaml:8:5: connections.trocco.api_key: unclosed "${"; write ${NAME}, or $$ for a literal $`,
	}},
	{"glu_job", []string{
		`glu_job.yaml:13:9: pipelines[0].upstreams[1].type: unknown sensor type "glu_job" (did you mean "glue_job"?)`,
	}},
	{"glue_without_connection", []string{
		`glue_without_connection.yaml:7:9: pipelines[0].upstreams[0].type: a glue_job upstream needs connections.glue with a region`,
		`glue_without_connection.yaml:9:9: pipelines[0].upstreams[1].workflow_name: is required for a glue_workflow upstream (the Glue workflow's name)`,
		`glue_without_connection.yaml:10:9: pipelines[0].upstreams[1].type: a glue_workflow upstream needs connections.glue with a region`,
		`glue_without_connection.yaml:12:9: pipelines[0].upstreams[2].type: a trocco_workflow upstream needs connections.trocco with an api_key`,
		`glue_without_connection.yaml:15:7: pipelines[0].trigger.type: a trocco_workflow trigger needs connections.trocco with an api_key`,
		`glue_without_connection.yaml:16:7: pipelines[0].trigger.pipeline_definition_id: must be a positive number`,
	}},
	{"logical_date", []string{
		`logical_date.yaml:14:7: pipelines[0].trigger.logical_date: unknown logical_date "interval-start" (did you mean "interval_start"?); or a template giving an RFC 3339 time, like "{{ .LogicalDate }}T00:00:00+09:00"`,
		`logical_date.yaml:22:7: pipelines[1].trigger.logical_date: logical_date renders "2025-01-31", not an RFC 3339 time like 2026-11-20T02:00:00+09:00`,
		`logical_date.yaml:29:7: pipelines[2].trigger.logical_date: is not a field of a trocco_workflow trigger`,
		`logical_date.yaml:37:5: pipelines[4].trigger: pipelines d and e both trigger DAG shared_dag of composer-prod with logical_date interval_start at the same time, but Airflow keeps one DAG run per logical date; give one of them another logical_date (none, or a template)`,
	}},
	{"missing_required", []string{
		`missing_required.yaml:1:1: version: is required; add "version: 1" at the top`,
		`missing_required.yaml:3:5: pipelines[0].name: is required; a name like socrates_daily`,
		`missing_required.yaml:3:5: pipelines[0].schedule: is required; a cron expression like "0 2 * * *" (02:00 every day)`,
		`missing_required.yaml:3:5: pipelines[0].upstreams: is required; list what this pipeline waits for`,
		`missing_required.yaml:7:9: pipelines[1].upstreams[0].name: is required; a name the condition can use`,
		`missing_required.yaml:8:9: pipelines[1].upstreams[0].pipeline: unknown pipeline "a" (did you mean "b"?)`,
		`missing_required.yaml:9:9: pipelines[1].upstreams[1].type: is required (glue_job, glue_workflow, trocco_job, trocco_workflow, airflow_dag, pipeline, sql, reconcile)`,
	}},
	{"no_pipelines", []string{
		`no_pipelines.yaml:1:1: pipelines: is required; declare at least one pipeline`,
	}},
	{"notify_kinds", []string{
		`notify_kinds.yaml:7:21: pipelines[0].notify.on[1]: unknown notice kind "dealy" (did you mean "delay"?)`,
		`notify_kinds.yaml:7:38: pipelines[0].notify.on[3]: unknown notice kind "everything" (want upstream_failed, trigger_failed, run_failed, delay, at_risk, long_running, timed_out, recovery, data_anomaly, failure, timeout)`,
	}},
	{"objective", []string{
		`objective.yaml:8:7: pipelines[0].slo.objective: bad objective "0.95"; write a percentage above 0 and at most 100, like 95% or 99.5%`,
		`objective.yaml:14:7: pipelines[1].slo.objective: bad objective "101%"; write a percentage above 0 and at most 100, like 95% or 99.5%`,
		`objective.yaml:19:7: pipelines[2].slo.deadline: is required; the time the run must have succeeded by, like "06:00"`,
		`objective.yaml:19:7: pipelines[2].slo.objective: bad objective "0%"; write a percentage above 0 and at most 100, like 95% or 99.5%`,
	}},
	{"on_upstream_failure", []string{
		`on_upstream_failure.yaml:3:3: defaults.on_upstream_failure: unknown on_upstream_failure "retry" (want wait, fail)`,
	}},
	{"slack_actions", []string{
		`slack_actions.yaml:6:3: slack.app_token: is not an app-level token: it starts with xapp- (Basic Information → App-Level Tokens)`,
		`slack_actions.yaml:7:26: slack.operators[1]: "tanaka" is not a Slack user or user group id (like U0123ABCD or S0456EFGH: in Slack, a member's profile → ⋮ → Copy member ID)`,
		`slack_actions.yaml:12:37: pipelines[0].owners[2]: "@suzuki" is not a Slack user or user group id (like U0123ABCD, S0456EFGH, or -U0123ABCD to take an operator away)`,
		`slack_actions.yaml:13:5: pipelines[0].runbook: want an absolute http or https URL, got "wiki/runbooks/a"`,
		`slack_actions.yaml:15:7: pipelines[0].notify.escalate_after: duration "30s" is below the minimum 1m0s`,
		`slack_actions.yaml:20:7: pipelines[1].notify.escalate_to: needs escalate_after: how long an incident may stay unacknowledged, like 15m`,
		`slack_actions.yaml:22:5: maintenance[0].duration: is required; how long each window lasts, like 2h`,
		`slack_actions.yaml:23:20: maintenance[0].pipelines[1]: unknown pipeline "c"`,
		`slack_actions.yaml:25:5: maintenance[1].schedule: bad schedule "0 25 * * *": end of range (25) above maximum (23): 25`,
		`slack_actions.yaml:25:5: maintenance[1].reason: is required; shown on the board and in silenced notices, like "weekly RDS maintenance"`,
	}},
	{"slack_http", []string{
		`slack_http.yaml:3:3: slack.signing_secret: is required with interactivity: http (Basic Information → Signing Secret)`,
		`slack_http.yaml:3:3: slack.operators: is required with interactivity: the Slack user or user group ids who may act (e.g. [U0123ABCD, S0456EFGH])`,
		`slack_http.yaml:4:3: slack.interactivity: buttons need bot mode: set slack.token and slack.channel`,
	}},
	{"slack_bot_channel", []string{
		`slack_bot_channel.yaml:3:3: slack.token: bot mode needs a channel: set slack.channel (or notify.channel in every pipeline)`,
	}},
	{"lineage", []string{
		`lineage.yaml:5:3: lineage.url: want an absolute http or https URL, got "not a url"`,
		`lineage.yaml:6:3: lineage.auth: unknown auth "beerer" (did you mean "bearer"?)`,
		`lineage.yaml:15:7: pipelines[0].trigger.trace_context: is not a field of a trocco_workflow trigger`,
		`lineage.yaml:19:5: pipelines[1].lineage: unknown key "lineage"`,
	}},
	{"lineage_auth", []string{
		`lineage_auth.yaml:5:3: lineage.token: is not used with auth: google; remove it or set auth: bearer`,
	}},
	{"lineage_bearer", []string{
		`lineage_bearer.yaml:3:3: lineage.url: is required; the OpenLineage endpoint, e.g. http://marquez:5000/api/v1/lineage`,
		`lineage_bearer.yaml:3:3: lineage.token: is required with auth: bearer`,
	}},
	{"slack_both_modes", []string{
		`slack_both_modes.yaml:3:3: slack.webhook_url: webhook_url and token are exclusive: use webhook mode or bot mode, not both`,
		`slack_both_modes.yaml:5:3: slack.language: unknown language "jp" (did you mean "ja"?)`,
	}},
	{"syntax", []string{
		`syntax.yaml:4:1: invalid YAML: found unexpected end of stream`,
	}},
	{"syntax_indent", []string{
		`syntax_indent.yaml:4:4: invalid YAML: did not find expected '-' indicator`,
	}},
	{"template_field", []string{
		`template_field.yaml:14:7: pipelines[0].trigger.conf: template conf.date: template: conf.date:1:3: executing "conf.date" at <.LogicalDay>: can't evaluate field LogicalDay in type sekisho.TemplateData`,
		`template_field.yaml:15:7: pipelines[0].trigger.unpause: want true or false, got "sometimes"`,
	}},
	{"template_typo", []string{
		`template_typo.yaml:15:7: pipelines[0].trigger.conf: template conf.run: template: conf.run:1:13: executing "conf.run" at <.Upstreams.typo.ExternalID>: map has no entry for key "typo"`,
		`template_typo.yaml:18:7: pipelines[0].trigger.note: template note: template: note:1: unclosed action`,
	}},
	{"times_of_day", []string{
		`times_of_day.yaml:4:3: slack.digest_at: digest_at is a time of day without a day offset, like "09:00"`,
		`times_of_day.yaml:8:5: pipelines[0].window_start: bad time of day "24:00": "24" is out of range; write "HH:MM" or "+1d HH:MM"`,
		`times_of_day.yaml:11:7: pipelines[0].slo.deadline: bad time of day "6am": want HH:MM or HH:MM:SS; write "HH:MM" or "+1d HH:MM"`,
	}},
	{"timezone", []string{
		`timezone.yaml:2:1: timezone: unknown time zone "Asia/Tokio"; write an IANA name like "Asia/Tokyo" or "UTC"`,
		`timezone.yaml:6:5: pipelines[0].timezone: unknown time zone "Mars/Olympus"; write an IANA name like "Asia/Tokyo" or "UTC"`,
	}},
	{"trigger_connection", []string{
		`trigger_connection.yaml:12:9: pipelines[0].upstreams[0].connection: unknown connection "composer-legacy" (declared: composer-prod)`,
		`trigger_connection.yaml:16:7: pipelines[0].trigger.connection: unknown connection "composer-prd" (did you mean "composer-prod"?)`,
	}},
	{"trigger_fields", []string{
		`trigger_fields.yaml:11:7: pipelines[0].trigger.dag_id: is required for an airflow_dag trigger (the DAG to start)`,
		`trigger_fields.yaml:13:7: pipelines[0].trigger.retry_unknown: is not a field of an airflow_dag trigger`,
		`trigger_fields.yaml:18:7: pipelines[1].trigger.pipeline_definition_id: is required for a trocco_workflow trigger (the number in the workflow's URL)`,
		`trigger_fields.yaml:18:7: pipelines[1].trigger.type: a trocco_workflow trigger needs connections.trocco with an api_key`,
		`trigger_fields.yaml:19:7: pipelines[1].trigger.dag_id: is not a field of a trocco_workflow trigger`,
		`trigger_fields.yaml:24:7: pipelines[2].trigger.type: unknown trigger type "airflow" (want airflow_dag, trocco_workflow)`,
	}},
	{"trocco_conf", []string{
		`trocco_conf.yaml:4:5: connections.trocco.base_url: want an absolute http or https URL, got "trocco.io"`,
		`trocco_conf.yaml:4:5: connections.trocco.api_key: is required; write api_key: ${TROCCO_API_KEY} and export the key`,
		`trocco_conf.yaml:12:7: pipelines[0].trigger.conf: is not a field of a trocco_workflow trigger`,
	}},
	{"two_documents", []string{
		`two_documents.yaml:6:1: a second YAML document (---); keep the whole configuration in one document`,
	}},
	{"key_typo", []string{
		// Only the typo: "schedule: is required" would say it twice.
		`key_typo.yaml:4:5: pipelines[0].schedul: unknown key "schedul" (did you mean "schedule"?)`,
	}},
	{"unknown_key", []string{
		`unknown_key.yaml:5:5: pipelines[0].timout: unknown key "timout" (did you mean "timeout"?)`,
	}},
	{"rate_limit", []string{
		`rate_limit.yaml:6:7: connections.trocco.rate_limit.requests: requests must be at least 1`,
		`rate_limit.yaml:8:7: connections.trocco.rate_limit.daily: daily must be at least 1`,
		`rate_limit.yaml:12:7: connections.glue.rate_limit.per: is required with requests; write per: 15m for "requests per 15 minutes"`,
		`rate_limit.yaml:17:7: connections.airflow.a.rate_limit: is empty; write {requests: N, per: DURATION} and/or daily: N`,
		`rate_limit.yaml:18:9: connections.airflow.a.rate_limit.per: per needs requests; write requests: 100 beside it, or remove per`,
		`rate_limit.yaml:19:9: connections.airflow.a.rate_limit.burst: unknown key "burst"`,
		`rate_limit.yaml:23:7: connections.airflow.b.rate_limit: is empty; write {requests: N, per: DURATION} and/or daily: N`,
	}},
	{"unknown_pipeline", []string{
		`unknown_pipeline.yaml:8:9: pipelines[0].upstreams[0].pipeline: unknown pipeline "kant_dialy" (did you mean "kant_daily"?)`,
	}},
	{"unknown_top_key", []string{
		`unknown_top_key.yaml:1:1: pipelines: is required; declare at least one pipeline`,
		`unknown_top_key.yaml:2:1: poke_interval: unknown key "poke_interval"; poke_interval is a pipeline field: set it under defaults: or in a pipeline`,
		`unknown_top_key.yaml:3:1: pipelnes: unknown key "pipelnes" (did you mean "pipelines"?)`,
	}},
	{"upstream_fields", []string{
		`upstream_fields.yaml:5:9: connections.glue.region: is required; the AWS region of your Glue jobs, e.g. ap-northeast-1`,
		`upstream_fields.yaml:12:9: pipelines[0].upstreams[0].job_definition_id: want a whole number, got "fifty-five"`,
		`upstream_fields.yaml:13:9: pipelines[0].upstreams[0].job_name: is not a field of a trocco_job upstream`,
		`upstream_fields.yaml:14:9: pipelines[0].upstreams[1].connection: is required; the name of an environment under connections.airflow`,
	}},
	{"version", []string{
		`version.yaml:1:1: version: unsupported version "2"; this sekisho reads version 1`,
	}},
	{"wrong_kinds", []string{
		`wrong_kinds.yaml:2:1: server: want a mapping, got a scalar`,
		`wrong_kinds.yaml:4:5: pipelines[0].name: want a single value, got a list`,
		`wrong_kinds.yaml:6:5: pipelines[0].upstreams: want a list, got a mapping`,
		`wrong_kinds.yaml:7:5: pipelines[0].impacts: want a list, got a scalar`,
	}},
}

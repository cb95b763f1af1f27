// Package lineage describes sekisho's runs as OpenLineage RunEvents
// (https://openlineage.io/docs/spec/object-model) and posts them to an
// OpenLineage HTTP endpoint: Marquez's /api/v1/lineage, Google's Data
// Lineage API (processOpenLineageRunEvent), or any other consumer.
package lineage

import (
	"crypto/sha256"
	"encoding/binary"
	"strconv"
	"time"
)

// Event types of OpenLineage's RunEvent.
const (
	Start    = "START"
	Complete = "COMPLETE"
	Fail     = "FAIL"
	Abort    = "ABORT"
)

// Producer identifies sekisho as the producer of the events.
const Producer = "https://github.com/sekisho-dev/sekisho"

// SchemaURL is the version of the OpenLineage spec the events follow
// (lineage/testdata/OpenLineage.json is its copy, checked in tests).
const SchemaURL = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"

// Facet schema versions, copied beside the spec in testdata.
const (
	nominalTimeSchema  = "https://openlineage.io/spec/facets/1-0-1/NominalTimeRunFacet.json#/$defs/NominalTimeRunFacet"
	errorMessageSchema = "https://openlineage.io/spec/facets/1-0-1/ErrorMessageRunFacet.json#/$defs/ErrorMessageRunFacet"
	jobTypeSchema      = "https://openlineage.io/spec/facets/2-0-4/JobTypeJobFacet.json#/$defs/JobTypeJobFacet"
	// The input facets of a data check (SPEC §21): OpenLineage's
	// spec/facets/DataQualityAssertionsDatasetFacet.json (assertions:
	// [{assertion, success, column?}]) and
	// spec/facets/DataQualityMetricsInputDatasetFacet.json (rowCount,
	// columnMetrics required).
	dataQualityAssertionsSchema = "https://openlineage.io/spec/facets/1-0-1/DataQualityAssertionsDatasetFacet.json#/$defs/DataQualityAssertionsDatasetFacet"
	dataQualityMetricsSchema    = "https://openlineage.io/spec/facets/1-0-2/DataQualityMetricsInputDatasetFacet.json#/$defs/DataQualityMetricsInputDatasetFacet"
)

// RunEvent is one OpenLineage RunEvent.
type RunEvent struct {
	EventType string    `json:"eventType"`
	EventTime string    `json:"eventTime"`
	Producer  string    `json:"producer"`
	SchemaURL string    `json:"schemaURL"`
	Run       Run       `json:"run"`
	Job       Job       `json:"job"`
	Inputs    []Dataset `json:"inputs"`
	Outputs   []Dataset `json:"outputs"`
}

// Run is the event's run: one attempt of a sekisho run.
type Run struct {
	RunID  string         `json:"runId"`
	Facets map[string]any `json:"facets,omitempty"`
}

// Job is the event's job: the pipeline.
type Job struct {
	Namespace string         `json:"namespace"`
	Name      string         `json:"name"`
	Facets    map[string]any `json:"facets,omitempty"`
}

// Dataset is an input or output dataset, named by OpenLineage's naming
// conventions where one exists (see Name).
type Dataset struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	// InputFacets describe an input as this run saw it: a data check's
	// number and verdict (CheckFacets).
	InputFacets map[string]any `json:"inputFacets,omitempty"`
}

// Check is a data check's outcome as lineage reports it (SPEC §21).
type Check struct {
	Assertion string   // "expect" (a sql upstream's expectations) or "reconcile"
	Success   bool     // the check held
	Value     *float64 // the number the query returned (a reconcile's target)
}

// CheckFacets are the input facets of a data check: dataQualityAssertions
// with its verdict, and dataQualityMetrics with the number as rowCount when
// it is a count (a whole number, not negative).
func CheckFacets(c Check) map[string]any {
	out := map[string]any{
		"dataQualityAssertions": facet(dataQualityAssertionsSchema, map[string]any{
			"assertions": []map[string]any{{"assertion": c.Assertion, "success": c.Success}}}),
	}
	if v := c.Value; v != nil && *v >= 0 && *v == float64(int64(*v)) {
		out["dataQualityMetrics"] = facet(dataQualityMetricsSchema, map[string]any{
			"rowCount": int64(*v), "columnMetrics": map[string]any{}})
	}
	return out
}

// facet stamps a facet's fields with the producer and its schema.
func facet(schema string, fields map[string]any) map[string]any {
	fields["_producer"] = Producer
	fields["_schemaURL"] = schema
	return fields
}

// RunID is the OpenLineage run id of one attempt: a UUID version 7 whose
// time is the attempt's gate (so ids sort by time, as OpenLineage
// recommends) and whose other bits are derived from (pipeline, logical date,
// attempt), so every process, before or after a restart, names the attempt
// the same way.
func RunID(pipeline, date string, attempt int, gate time.Time) string {
	var u [16]byte
	ms := uint64(gate.UnixMilli())
	binary.BigEndian.PutUint64(u[0:8], ms<<16)
	d := sha256.Sum256([]byte("sekisho-openlineage\x00" + pipeline + "\x00" + date + "\x00" + strconv.Itoa(attempt)))
	copy(u[6:], d[:10])
	u[6] = 0x70 | (u[6] & 0x0f) // version 7
	u[8] = 0x80 | (u[8] & 0x3f) // RFC 9562 variant
	return formatUUID(u)
}

// ConfKey is the DAG run conf key under which the Airflow OpenLineage
// provider looks for the run's parent (apache/airflow
// providers/openlineage/src/airflow/providers/openlineage/utils/utils.py:
// dr_conf.get("openlineage") with parentRunId, parentJobNamespace,
// parentJobName, and the optional rootParent… trio).
const ConfKey = "openlineage"

// ParentConf is the ConfKey value that makes the DAG run a child of one
// attempt's OpenLineage run: sekisho's job (namespace, the pipeline) and
// run id, as parent and as root, so Marquez links the DAG's lineage to
// sekisho's job. The provider takes a parent only when all three keys are
// present and the run id is a UUID.
func ParentConf(namespace, pipeline, date string, attempt int, gate time.Time) map[string]any {
	id := RunID(pipeline, date, attempt, gate)
	return map[string]any{
		"parentRunId": id, "parentJobNamespace": namespace, "parentJobName": pipeline,
		"rootParentRunId": id, "rootParentJobNamespace": namespace, "rootParentJobName": pipeline,
	}
}

// requestID is a UUID derived from an event's run id and type: the Data
// Lineage API treats a repeated request id as the same request.
func requestID(runID, eventType string) string {
	d := sha256.Sum256([]byte(runID + "\x00" + eventType))
	var u [16]byte
	copy(u[:], d[:16])
	u[6] = 0x50 | (u[6] & 0x0f)
	u[8] = 0x80 | (u[8] & 0x3f)
	return formatUUID(u)
}

func formatUUID(u [16]byte) string {
	const hex = "0123456789abcdef"
	out := make([]byte, 0, 36)
	for i, b := range u {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			out = append(out, '-')
		}
		out = append(out, hex[b>>4], hex[b&0xf])
	}
	return string(out)
}

// Facts is what an event says about one attempt.
type Facts struct {
	Namespace string
	Pipeline  string
	Date      string // the run's key (sekisho.RunKey): the logical date of a daily run
	Attempt   int
	GateAt    time.Time
	Type      string // event type
	At        time.Time
	Message   string // the failure's reason, for FAIL and ABORT
	Inputs    []Dataset
}

// NewEvent builds the RunEvent of f. The pipeline's own output is a dataset
// in the job's namespace named after the pipeline: a pipeline that waits on
// it (type: pipeline) names the same dataset as its input, so consumers
// draw the chain.
func NewEvent(f Facts) RunEvent {
	runFacets := map[string]any{
		"nominalTime": facet(nominalTimeSchema, map[string]any{"nominalStartTime": stamp(f.GateAt)}),
	}
	if f.Message != "" && (f.Type == Fail || f.Type == Abort) {
		runFacets["errorMessage"] = facet(errorMessageSchema, map[string]any{
			"message": f.Message, "programmingLanguage": "Go"})
	}
	inputs := f.Inputs
	if inputs == nil {
		inputs = []Dataset{}
	}
	return RunEvent{
		EventType: f.Type,
		EventTime: stamp(f.At),
		Producer:  Producer,
		SchemaURL: SchemaURL,
		Run:       Run{RunID: RunID(f.Pipeline, f.Date, f.Attempt, f.GateAt), Facets: runFacets},
		Job: Job{Namespace: f.Namespace, Name: f.Pipeline, Facets: map[string]any{
			"jobType": facet(jobTypeSchema, map[string]any{
				"processingType": "BATCH", "integration": "SEKISHO", "jobType": "PIPELINE"}),
		}},
		Inputs:  inputs,
		Outputs: []Dataset{PipelineDataset(f.Namespace, f.Pipeline)},
	}
}

// PipelineDataset is the dataset a pipeline's successful run stands for.
func PipelineDataset(namespace, pipeline string) Dataset {
	return Dataset{Namespace: namespace, Name: pipeline}
}

func stamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

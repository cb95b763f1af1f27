package config

import (
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"
)

// schemaObjects says where, in schema/pipelines.schema.json, the object
// for each level of KnownKeys lives (a path of property names).
var schemaObjects = map[string]string{
	"":                               "",
	"defaults":                       "definitions/defaults",
	"store":                          "properties/store",
	"ha":                             "properties/ha",
	"server":                         "properties/server",
	"connections":                    "properties/connections",
	"connections.glue":               "properties/connections/properties/glue",
	"connections.trocco":             "properties/connections/properties/trocco",
	"connections.airflow.*":          "definitions/airflowConnection",
	"connections.*.rate_limit":       "definitions/rateLimit",
	"slack":                          "properties/slack",
	"lineage":                        "properties/lineage",
	"pipelines[]":                    "definitions/pipeline",
	"pipelines[].upstreams[]":        "definitions/upstream",
	"pipelines[].upstreams[].expect": "definitions/upstream/properties/expect",
	"pipelines[].upstreams[].expect.vs_history": "definitions/upstream/properties/expect/properties/vs_history",
	"pipelines[].upstreams[].source":            "definitions/checkQuery",
	"pipelines[].upstreams[].target":            "definitions/checkQuery",
	"pipelines[].trigger":                       "definitions/trigger",
	"pipelines[].slo":                           "definitions/slo",
	"pipelines[].sla":                           "definitions/sla",
	"pipelines[].notify":                        "definitions/notify",
	"connections.warehouses.*":                  "definitions/warehouse",
	"calendars.*":                               "definitions/calendar",
	"watches[]":                                 "definitions/watch",
	"maintenance[]":                             "definitions/maintenance",
	"watches[].notify":                          "definitions/watch/properties/notify",
}

// TestSchemaMatchesParser keeps the JSON Schema editors use in step with
// the keys the parser accepts, in both directions, at every level.
func TestSchemaMatchesParser(t *testing.T) {
	data, err := os.ReadFile("../schema/pipelines.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	var schema map[string]any
	if err := json.Unmarshal(data, &schema); err != nil {
		t.Fatalf("schema is not JSON: %v", err)
	}
	if got := schema["$schema"]; got != "http://json-schema.org/draft-07/schema#" {
		t.Errorf("$schema = %v", got)
	}
	for level := range KnownKeys {
		if _, ok := schemaObjects[level]; !ok {
			t.Errorf("KnownKeys level %q has no place in the schema test", level)
		}
	}
	for level, ptr := range schemaObjects {
		obj := schema
		if ptr != "" {
			for _, part := range strings.Split(ptr, "/") {
				next, ok := obj[part].(map[string]any)
				if !ok {
					t.Fatalf("%s: schema has no object at %s", level, ptr)
				}
				obj = next
			}
		}
		if obj["additionalProperties"] != false {
			t.Errorf("%s (%s): additionalProperties is not false, unknown keys would pass", level, ptr)
		}
		props, _ := obj["properties"].(map[string]any)
		var inSchema []string
		for k := range props {
			inSchema = append(inSchema, k)
		}
		slices.Sort(inSchema)
		parser := slices.Sorted(slices.Values(KnownKeys[level]))
		if !slices.Equal(inSchema, parser) {
			t.Errorf("%s: schema properties %v\n parser keys %v", level, inSchema, parser)
		}
	}
}

// TestSchemaEnums checks the schema's enumerations against the parser's.
func TestSchemaEnums(t *testing.T) {
	data, err := os.ReadFile("../schema/pipelines.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	var s struct {
		Definitions struct {
			Upstream struct {
				Properties struct {
					Type        struct{ Enum []string }
					OnViolation struct{ Enum []string } `json:"on_violation"`
				}
			}
			Trigger struct {
				Properties struct {
					Type struct{ Enum []string }
				}
			}
			AirflowConnection struct {
				Properties struct {
					APIVersion struct{ Enum []string } `json:"api_version"`
					Auth       struct{ Enum []string }
				}
			} `json:"airflowConnection"`
			Pipeline struct {
				Properties struct {
					OnUpstreamFailure struct{ Enum []string } `json:"on_upstream_failure"`
				}
			}
		}
	}
	if err := json.Unmarshal(data, &s); err != nil {
		t.Fatal(err)
	}
	d := s.Definitions
	tests := []struct {
		name         string
		schema, want []string
	}{
		{"upstream types", d.Upstream.Properties.Type.Enum, SensorTypes},
		{"on_violation", d.Upstream.Properties.OnViolation.Enum, OnViolations},
		{"trigger types", d.Trigger.Properties.Type.Enum, TriggerTypes},
		{"api versions", d.AirflowConnection.Properties.APIVersion.Enum, APIVersions},
		{"auth modes", d.AirflowConnection.Properties.Auth.Enum, AuthModes},
		{"on_upstream_failure", d.Pipeline.Properties.OnUpstreamFailure.Enum, UpstreamFailureOps},
	}
	for _, tt := range tests {
		if !slices.Equal(tt.schema, tt.want) {
			t.Errorf("%s: schema %v, parser %v", tt.name, tt.schema, tt.want)
		}
	}
}

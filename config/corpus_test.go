package config

// corpusCases extend invalidCases with hostile and malformed inputs: tabs,
// YAML bombs and self-referencing anchors, values of the wrong kind
// everywhere, numbers out of range, control characters. TestInvalid checks
// them like every other file under testdata/invalid; a bomb that the decoder
// expanded would make it hang instead of failing fast.
var corpusCases = []struct {
	name string
	want []string
}{
	{"alias_bomb", []string{
		`alias_bomb.yaml:6:5: pipelines[0].description: want a single value, got a list`,
		`alias_bomb.yaml:10:5: pipelines[1].description: want a single value, got a list`,
		`alias_bomb.yaml:14:5: pipelines[2].description: want a single value, got a list`,
		`alias_bomb.yaml:18:18: pipelines[3].impacts[0]: want a single value, got a list`,
		`alias_bomb.yaml:18:21: pipelines[3].impacts[1]: want a single value, got a list`,
		`alias_bomb.yaml:18:24: pipelines[3].impacts[2]: want a single value, got a list`,
		`alias_bomb.yaml:18:27: pipelines[3].impacts[3]: want a single value, got a list`,
		`alias_bomb.yaml:18:30: pipelines[3].impacts[4]: want a single value, got a list`,
		`alias_bomb.yaml:18:33: pipelines[3].impacts[5]: want a single value, got a list`,
		`alias_bomb.yaml:18:36: pipelines[3].impacts[6]: want a single value, got a list`,
		`alias_bomb.yaml:18:39: pipelines[3].impacts[7]: want a single value, got a list`,
		`alias_bomb.yaml:18:42: pipelines[3].impacts[8]: want a single value, got a list`,
		`alias_bomb.yaml:22:18: pipelines[4].impacts[0]: want a single value, got a list`,
		`alias_bomb.yaml:22:21: pipelines[4].impacts[1]: want a single value, got a list`,
		`alias_bomb.yaml:22:24: pipelines[4].impacts[2]: want a single value, got a list`,
		`alias_bomb.yaml:22:27: pipelines[4].impacts[3]: want a single value, got a list`,
		`alias_bomb.yaml:22:30: pipelines[4].impacts[4]: want a single value, got a list`,
		`alias_bomb.yaml:22:33: pipelines[4].impacts[5]: want a single value, got a list`,
		`alias_bomb.yaml:22:36: pipelines[4].impacts[6]: want a single value, got a list`,
		`alias_bomb.yaml:22:39: pipelines[4].impacts[7]: want a single value, got a list`,
		`alias_bomb.yaml:22:42: pipelines[4].impacts[8]: want a single value, got a list`,
		`alias_bomb.yaml:26:18: pipelines[5].impacts[0]: want a single value, got a list`,
		`alias_bomb.yaml:26:21: pipelines[5].impacts[1]: want a single value, got a list`,
		`alias_bomb.yaml:26:24: pipelines[5].impacts[2]: want a single value, got a list`,
		`alias_bomb.yaml:26:27: pipelines[5].impacts[3]: want a single value, got a list`,
		`alias_bomb.yaml:26:30: pipelines[5].impacts[4]: want a single value, got a list`,
		`alias_bomb.yaml:26:33: pipelines[5].impacts[5]: want a single value, got a list`,
		`alias_bomb.yaml:26:36: pipelines[5].impacts[6]: want a single value, got a list`,
		`alias_bomb.yaml:26:39: pipelines[5].impacts[7]: want a single value, got a list`,
		`alias_bomb.yaml:26:42: pipelines[5].impacts[8]: want a single value, got a list`,
		`alias_bomb.yaml:30:15: pipelines[6].impacts[0]: want a single value, got a list`,
		`alias_bomb.yaml:30:18: pipelines[6].impacts[1]: want a single value, got a list`,
		`alias_bomb.yaml:30:21: pipelines[6].impacts[2]: want a single value, got a list`,
		`alias_bomb.yaml:30:24: pipelines[6].impacts[3]: want a single value, got a list`,
		`alias_bomb.yaml:30:27: pipelines[6].impacts[4]: want a single value, got a list`,
		`alias_bomb.yaml:30:30: pipelines[6].impacts[5]: want a single value, got a list`,
		`alias_bomb.yaml:30:33: pipelines[6].impacts[6]: want a single value, got a list`,
		`alias_bomb.yaml:30:36: pipelines[6].impacts[7]: want a single value, got a list`,
		`alias_bomb.yaml:30:39: pipelines[6].impacts[8]: want a single value, got a list`,
	}},
	{"alias_undefined", []string{
		`alias_undefined.yaml:4:5: invalid YAML: yaml: unknown anchor 'gate' referenced`,
	}},
	{"anchor_self", []string{
		`anchor_self.yaml:3:5: pipelines[0].impacts[0]: want a single value, got a mapping`,
	}},
	{"huge_numbers", []string{
		`huge_numbers.yaml:1:1: version: unsupported version "99999999999999999999999"; this sekisho reads version 1`,
		`huge_numbers.yaml:5:5: pipelines[0].poke_interval: bad duration "9999999999999999h"; write Go syntax like 90s, 30m or 2h30m`,
		`huge_numbers.yaml:7:19: pipelines[0].upstreams[0].type: a trocco_job upstream needs connections.trocco with an api_key`,
		`huge_numbers.yaml:7:37: pipelines[0].upstreams[0].job_definition_id: want a whole number, got "1e300"`,
		`huge_numbers.yaml:8:19: pipelines[0].upstreams[1].type: a trocco_job upstream needs connections.trocco with an api_key`,
		`huge_numbers.yaml:8:37: pipelines[0].upstreams[1].job_definition_id: must be a positive number`,
	}},
	{"just_dashes", []string{
		`just_dashes.yaml:2:1: version: the file is empty; start with "version: 1" and a list of pipelines`,
	}},
	{"merge_key", []string{
		`merge_key.yaml:9:5: pipelines[1].schedul: unknown key "schedul" (did you mean "schedule"?)`,
	}},
	{"nul_byte", []string{
		`nul_byte.yaml:3:3: invalid YAML: yaml: control characters are not allowed`,
	}},
	{"null_pipeline", []string{
		`null_pipeline.yaml:3:5: pipelines[0]: want a mapping, got a scalar`,
		`null_pipeline.yaml:4:4: pipelines[1]: want a mapping, got a scalar`,
	}},
	{"pipelines_scalar", []string{
		`pipelines_scalar.yaml:2:1: pipelines: want a list, got a scalar`,
	}},
	{"tabs", []string{
		`tabs.yaml:4:1: invalid YAML: found a tab character that violates indentation`,
	}},
	{"top_level_list", []string{
		`top_level_list.yaml:1:1: want a mapping, got a list`,
	}},
	{"unicode_names", []string{
		`unicode_names.yaml:3:5: pipelines[0].name: name "学習_daily" may only hold lowercase letters, digits, _ and -`,
		`unicode_names.yaml:6:10: pipelines[0].upstreams[0].name: name "ｈｅｇｅｌ" may only hold lowercase letters, digits, _ and -`,
		`unicode_names.yaml:6:23: pipelines[0].upstreams[0].type: a glue_job upstream needs connections.glue with a region`,
	}},
	{"wrong_types", []string{
		`wrong_types.yaml:1:1: version: unsupported version "one"; this sekisho reads version 1`,
		`wrong_types.yaml:2:1: timezone: want a single value, got a list`,
		`wrong_types.yaml:3:1: defaults: want a mapping, got a scalar`,
		`wrong_types.yaml:5:3: server.listen: want a single value, got a mapping`,
		`wrong_types.yaml:7:5: pipelines[0].name: want a single value, got a list`,
		`wrong_types.yaml:8:5: pipelines[0].schedule: bad schedule "2": want 5 fields (minute hour day-of-month month day-of-week) or 6 with leading seconds, got 1`,
		`wrong_types.yaml:9:5: pipelines[0].upstreams: want a list, got a mapping`,
		`wrong_types.yaml:10:5: pipelines[0].impacts: want a list, got a scalar`,
		`wrong_types.yaml:11:5: pipelines[0].slo: want a mapping, got a scalar`,
	}},
}

func init() {
	invalidCases = append(invalidCases, corpusCases...)
}

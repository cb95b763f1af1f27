package config

import (
	"strings"
	"testing"
	"time"
)

func TestSlackGroupWait(t *testing.T) {
	const base = "version: 1\npipelines:\n  - {name: p, schedule: \"0 2 * * *\", upstreams: []}\n"
	for _, c := range []struct {
		name, slack string
		want        time.Duration
		err         string
	}{
		{"default", "", DefaultGroupWait, ""},
		{"set", "slack: {group_wait: 2m}\n", 2 * time.Minute, ""},
		{"zero sends at once", "slack: {group_wait: 0s}\n", 0, ""},
		{"bad", "slack: {group_wait: soon}\n", 0, `p.yaml:4:9: slack.group_wait: bad duration "soon"; write Go syntax like 90s, 30m or 2h30m`},
		{"negative", "slack: {group_wait: -1s}\n", 0, `p.yaml:4:9: slack.group_wait: duration "-1s" is below the minimum 0s`},
	} {
		cfg, err := Parse("p.yaml", []byte(base+c.slack), func(string) (string, bool) { return "", false })
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: err %v, want %q", c.name, err, c.err)
			}
			continue
		}
		if err != nil || cfg.Slack.GroupWait != c.want {
			t.Errorf("%s: group_wait %v, err %v, want %v", c.name, cfg.Slack.GroupWait, err, c.want)
		}
	}
}

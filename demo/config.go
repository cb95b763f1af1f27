package demo

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"text/template"
	"time"

	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/sim/world"
)

// pipelinesTemplate is the root pipelines.yaml with its connections pointed
// at the simulators. Its pipelines section is a verbatim copy of the root
// file's (a test keeps them equal); the header uses [[ ]] so the triggers'
// own {{ }} templates pass through untouched.
//
//go:embed pipelines.yaml.tmpl
var pipelinesTemplate string

// ConfigOptions fill in the demo's pipelines.yaml.
type ConfigOptions struct {
	URLs      URLs
	PublicURL string // the board, for links in notices
	Listen    string
	Token     string // server.token: the world pushes events and reruns with it
	DBPath    string
	Language  string        // ja | en (default ja)
	Poke      time.Duration // default 5m
	// Today is the demo's live date (default: today in Tokyo); the
	// company calendar's day off is placed in the history before it.
	Today time.Time
}

// CompanyHoliday is the company calendar's day off in the demo: the
// Wednesday of the week two weeks before today, a weekday inside any
// history of two weeks or more, so sales_report shows ⛱ (company holiday)
// besides its weekends whatever the season.
func CompanyHoliday(today time.Time) string {
	d := today.AddDate(0, 0, -14)
	d = d.AddDate(0, 0, int(time.Wednesday-d.Weekday()))
	return d.Format("2006-01-02")
}

// ConfigYAML renders the demo's pipelines.yaml.
func ConfigYAML(o ConfigOptions) ([]byte, error) {
	if o.Language == "" {
		o.Language = "ja"
	}
	if o.Poke <= 0 {
		o.Poke = 5 * time.Minute
	}
	if o.DBPath == "" {
		o.DBPath = "sekisho-demo.db"
	}
	if o.Today.IsZero() {
		loc, err := time.LoadLocation(TimeZone)
		if err != nil {
			return nil, fmt.Errorf("demo: %w", err)
		}
		o.Today = time.Now().In(loc)
	}
	holidays, _ := json.Marshal([]string{CompanyHoliday(o.Today)})
	t, err := template.New("pipelines.yaml").Delims("[[", "]]").Funcs(template.FuncMap{
		// A JSON string is a valid YAML double-quoted scalar.
		"q": func(s string) (string, error) { b, err := json.Marshal(s); return string(b), err },
	}).Parse(pipelinesTemplate)
	if err != nil {
		return nil, fmt.Errorf("demo: config template: %w", err)
	}
	var buf bytes.Buffer
	err = t.Execute(&buf, map[string]any{
		"URLs": o.URLs, "PublicURL": o.PublicURL, "Listen": o.Listen, "Token": o.Token, "DBPath": o.DBPath,
		"Language": o.Language, "PokeInterval": o.Poke.String(), "Region": world.AWSRegion,
		"TroccoAPIKey": world.TroccoAPIKey, "AirflowUser": world.AirflowUser, "AirflowPassword": world.AirflowPassword,
		"SlackToken": world.SlackToken, "SlackChannel": world.SlackChannel, "SlackAPI": o.URLs.Slack + "/api/",
		"SlackSigningSecret": world.SlackSigningSecret, "SlackOperator": world.SlackOperator,
		"CompanyHolidays": string(holidays),
	})
	if err != nil {
		return nil, fmt.Errorf("demo: config template: %w", err)
	}
	return buf.Bytes(), nil
}

// Config renders and validates the demo's pipelines.yaml: the demo never
// starts on a config `sekisho validate` would refuse.
func Config(o ConfigOptions) (*config.Config, []byte, error) {
	b, err := ConfigYAML(o)
	if err != nil {
		return nil, nil, err
	}
	noEnv := func(string) (string, bool) { return "", false }
	cfg, err := config.Parse("demo-pipelines.yaml", b, noEnv)
	if err != nil {
		return nil, nil, fmt.Errorf("demo: the demo's pipelines.yaml is invalid (a bug: please report it): %w", err)
	}
	return cfg, b, nil
}

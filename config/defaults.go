package config

import "time"

// Fill gives a config built in code the defaults Load gives a file, in
// place, and returns it: the time zones (UTC, and each pipeline the
// config's), the store path, the listen address, the Slack language, and
// each pipeline's poke interval, timeout, window start, condition and
// upstream-failure policy. Tests build their configs through it, so the
// code under test sees the same config a loaded file gives and needs no
// guard of its own for a missing zone. TestFillMatchesLoad keeps it in step
// with the decoder.
func Fill(c *Config) *Config {
	if c.index == nil {
		c.index = &pipelineIndex{}
	}
	if c.Location == nil {
		c.Location = zone(c.Timezone)
	}
	if c.Timezone == "" {
		c.Timezone = c.Location.String()
	}
	if c.Store.Path == "" {
		c.Store.Path = DefaultStorePath
	}
	if c.Server.Listen == "" {
		c.Server.Listen = DefaultListen
	}
	if c.Slack.Language == "" {
		c.Slack.Language = DefaultLanguage
	}
	for _, p := range c.Pipelines {
		switch {
		case p.Location != nil:
		case p.Timezone != "":
			p.Location = zone(p.Timezone)
		default:
			p.Location, p.Timezone = c.Location, c.Timezone
		}
		if p.Timezone == "" {
			p.Timezone = p.Location.String()
		}
		if p.PokeInterval == 0 {
			p.PokeInterval = DefaultPokeInterval
		}
		if p.Timeout == 0 {
			p.Timeout = DefaultTimeout
		}
		if !p.WindowStart.Set && p.WindowBefore == 0 && !p.SubDaily() {
			p.WindowStart.Set = true // 00:00; a sub-daily window starts at the previous fire (Window)
		}
		if p.Condition == "" {
			p.Condition = "all"
		}
		if p.OnUpstreamFailure == "" {
			p.OnUpstreamFailure = "wait"
		}
		switch {
		case p.Calendar != nil && p.CalendarName == "":
			p.CalendarName = p.Calendar.Name()
		case p.Calendar == nil && p.CalendarName != "":
			p.Calendar = c.Calendar(p.CalendarName)
		}
	}
	return c
}

// zone is the named zone, UTC when unnamed; a config built in code names
// only zones that exist, and a bad name falls back to UTC as an unset one.
func zone(name string) *time.Location {
	if loc, err := time.LoadLocation(name); err == nil && name != "" {
		return loc
	}
	return time.UTC
}

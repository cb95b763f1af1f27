package budget

import (
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/config"
)

// Load is what a config asks of one connection's budget: its polled
// resources and the checks per second their poke intervals add up to.
type Load struct {
	Connection string // "trocco", "glue", "airflow.<name>", "warehouses.<name>"
	Limit      Limit
	Resources  int
	PerSecond  float64
}

// Capacity is the checks per second the limit leaves for polls: the poll
// share of the stricter of its two rates. Zero when unlimited.
func (l Limit) Capacity() float64 {
	iv := l.Interval()
	if iv <= 0 {
		return 0
	}
	return l.PollShare() / iv.Seconds()
}

// Share is the mean interval between checks of one of n resources that
// the limit can carry; zero when unlimited.
func (l Limit) Share(n int) time.Duration {
	c := l.Capacity()
	if c <= 0 || n <= 0 {
		return 0
	}
	return time.Duration(float64(n) / c * float64(time.Second)).Round(time.Second)
}

// Loads sums, per budgeted connection, what the pipelines' upstreams ask:
// each distinct resource once, at the shortest poke interval of the
// pipelines that wait on it.
func Loads(cfg *config.Config) []Load {
	limits := map[string]Limit{}
	c := cfg.Connections
	if c.Trocco != nil {
		limits["trocco"] = Limit(c.Trocco.RateLimit)
	}
	if c.Glue != nil {
		limits["glue"] = Limit(c.Glue.RateLimit)
	}
	for name, a := range c.Airflow {
		limits["airflow."+name] = Limit(a.RateLimit)
	}
	for name, w := range c.Warehouses {
		limits["warehouses."+name] = Limit(w.RateLimit)
	}
	interval := map[string]map[string]time.Duration{} // connection → resource → shortest poke
	for _, p := range cfg.Pipelines {
		for _, u := range p.Upstreams {
			for _, r := range u.Resources() {
				conn := ConnectionOfResource(r)
				if conn == "" {
					continue
				}
				if interval[conn] == nil {
					interval[conn] = map[string]time.Duration{}
				}
				key := r.Key()
				if d, ok := interval[conn][key]; !ok || p.PokeInterval < d {
					interval[conn][key] = p.PokeInterval
				}
			}
		}
	}
	var out []Load
	for conn, res := range interval {
		l := Load{Connection: conn, Limit: limits[conn], Resources: len(res)}
		for _, d := range res {
			if d > 0 {
				l.PerSecond += 1 / d.Seconds()
			}
		}
		out = append(out, l)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Connection < out[j].Connection })
	return out
}

// ConnectionOf names the budgeted connection an upstream's polls draw from
// ("trocco", "glue", "airflow.<name>", "warehouses.<name>"), empty for
// pipeline upstreams. A reconcile's two queries may draw from two
// warehouses: ConnectionOfResource names each.
func ConnectionOf(u config.Upstream) string {
	if u.Type == config.TypePipeline {
		return ""
	}
	return ConnectionOfResource(u.Resource())
}

// ConnectionOfResource names the budgeted connection a polled resource's
// checks draw from.
func ConnectionOfResource(r sekisho.Resource) string {
	switch r.Type {
	case config.TypeTroccoJob, config.TypeTroccoWorkflow:
		return "trocco"
	case config.TypeGlueJob, config.TypeGlueWorkflow:
		return "glue"
	case config.TypeAirflowDag:
		return "airflow." + r.Connection
	case config.TypeSQL:
		return "warehouses." + r.Connection
	}
	return ""
}

// Shares is, per connection, the mean interval between checks its budget
// allows each of the resources polled on it: the Share input of
// pollplan.Next. A connection without a budget is absent (zero share).
func Shares(cfg *config.Config) map[string]time.Duration {
	out := map[string]time.Duration{}
	for _, l := range Loads(cfg) {
		if d := l.Limit.Share(l.Resources); d > 0 {
			out[l.Connection] = d
		}
	}
	return out
}

// Warnings says, per connection whose budget cannot carry every resource
// at its poke interval, what each is checked at instead.
func Warnings(cfg *config.Config) []string {
	var out []string
	for _, l := range Loads(cfg) {
		capa := l.Limit.Capacity()
		if capa <= 0 || l.PerSecond <= capa {
			continue
		}
		out = append(out, fmt.Sprintf("connections.%s: %d upstream resources at their poke_interval need %.0f requests per %s; "+
			"the budget (%s) leaves %.0f of them for polls, so each is checked every %s on average "+
			"(more often near its usual finish, less often far from it)",
			l.Connection, l.Resources, l.PerSecond*per(l.Limit).Seconds(), per(l.Limit), l.Limit,
			capa*per(l.Limit).Seconds(), l.Limit.Share(l.Resources)))
	}
	return slices.Clip(out)
}

// per is the window the warning counts in: the limit's own, else a day.
func per(l Limit) time.Duration {
	if l.Requests > 0 && l.Per > 0 {
		return l.Per
	}
	return Day
}

package config

import "slices"

// Lineage configures the OpenLineage events of SPEC §16. An empty URL
// sends none.
type Lineage struct {
	URL       string // an OpenLineage HTTP endpoint (Marquez: http://host:5000/api/v1/lineage)
	Namespace string // the jobs' namespace; default sekisho
	Auth      string // none | bearer | google
	Token     Secret // bearer
}

// DefaultLineageNamespace is the job namespace when lineage.namespace is unset.
const DefaultLineageNamespace = "sekisho"

// LineageAuths are the accepted values of lineage.auth.
var LineageAuths = []string{"none", "bearer", "google"}

func (d *decoder) lineage(root *fields) Lineage {
	l := Lineage{Namespace: DefaultLineageNamespace, Auth: "none"}
	v, ok := root.get("lineage")
	if !ok {
		return l
	}
	f := d.mapping(v, KnownKeys["lineage"], nil)
	if f == nil {
		return l
	}
	if _, _, ok := d.required(f, "url", "; the OpenLineage endpoint, e.g. http://marquez:5000/api/v1/lineage"); ok {
		l.URL = d.absURL(f, "url")
	}
	if ns, _, ok := d.str(f, "namespace"); ok && ns != "" {
		l.Namespace = ns
	}
	l.Auth = d.oneOf(f, "auth", "auth", "none", LineageAuths)
	written, _, _ := d.str(f, "auth")
	l.Token = d.secret(f, "token")
	tv, present := f.get("token")
	switch {
	case written != "" && !slices.Contains(LineageAuths, written):
		// the unknown auth is the error to fix first
	case l.Auth == "bearer" && !present:
		d.missing(f, "token", " with auth: bearer")
	case present && l.Auth != "bearer":
		d.fail(tv, "is not used with auth: %s; remove it or set auth: bearer", l.Auth)
	}
	return l
}

// Package deploy_test checks the Kubernetes manifests in deploy/kubernetes
// against what the tools they run document, so a manifest edit that drops a
// flag or a probe fails a test instead of a rollout.
package deploy_test

import (
	"os"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

type container struct {
	Name           string   `yaml:"name"`
	Args           []string `yaml:"args"`
	StartupProbe   *probe   `yaml:"startupProbe"`
	LivenessProbe  *probe   `yaml:"livenessProbe"`
	ReadinessProbe *probe   `yaml:"readinessProbe"`
}

type probe struct {
	HTTPGet struct {
		Path string `yaml:"path"`
		Port any    `yaml:"port"`
	} `yaml:"httpGet"`
}

type deployment struct {
	Spec struct {
		Template struct {
			Spec struct {
				InitContainers []container `yaml:"initContainers"`
				Containers     []container `yaml:"containers"`
			} `yaml:"spec"`
		} `yaml:"template"`
	} `yaml:"spec"`
}

// TestCloudSQLProxySidecar: the Auth Proxy sidecar runs with structured
// logs and its HTTP health checks, and the startup, liveness and readiness
// probes ask the proxy's own endpoints on the port it serves them on, as
// Google's example does (GoogleCloudPlatform/cloud-sql-proxy,
// examples/k8s-health-check/proxy_with_http_health_check.yaml).
func TestCloudSQLProxySidecar(t *testing.T) {
	b, err := os.ReadFile("kubernetes/deployment.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var d deployment
	if err := yaml.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	var proxy *container
	for i, c := range d.Spec.Template.Spec.InitContainers {
		if c.Name == "cloud-sql-proxy" {
			proxy = &d.Spec.Template.Spec.InitContainers[i]
		}
	}
	if proxy == nil {
		t.Fatal("no cloud-sql-proxy init container")
	}
	for _, flag := range []string{"--structured-logs", "--health-check", "--http-address=0.0.0.0"} {
		if !slices.Contains(proxy.Args, flag) {
			t.Errorf("proxy args %v lack %s", proxy.Args, flag)
		}
	}
	port := "9090" // the proxy's default --http-port
	for _, a := range proxy.Args {
		if v, ok := strings.CutPrefix(a, "--http-port="); ok {
			port = v
		}
	}
	for _, p := range []struct {
		name, path string
		probe      *probe
	}{{"startup", "/startup", proxy.StartupProbe}, {"liveness", "/liveness", proxy.LivenessProbe},
		{"readiness", "/readiness", proxy.ReadinessProbe}} {
		if p.probe == nil {
			t.Errorf("no %s probe", p.name)
			continue
		}
		if p.probe.HTTPGet.Path != p.path || strings.TrimSpace(yamlString(p.probe.HTTPGet.Port)) != port {
			t.Errorf("%s probe asks %s on port %v; want %s on %s", p.name, p.probe.HTTPGet.Path, p.probe.HTTPGet.Port, p.path, port)
		}
	}
}

func yamlString(v any) string {
	b, _ := yaml.Marshal(v)
	return string(b)
}

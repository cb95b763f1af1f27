package lineage

import (
	"net/url"
	"strconv"

	"github.com/sekisho-dev/sekisho/config"
)

// Inputs names a pipeline's upstreams as OpenLineage datasets.
//
// OpenLineage's naming conventions (https://openlineage.io/docs/spec/naming)
// name datasets by the system that stores them: a scheme and authority as
// the namespace, a path as the name (postgres://host:port + db.schema.table,
// bigquery + project.dataset.table, arn:aws:glue:region:account +
// table/db/table). sekisho's upstreams are jobs, not tables, so each is
// named the same way after the system that runs it: the namespace is the
// system's scheme and endpoint, the name the job's path in it. A `type:
// pipeline` upstream is the other pipeline's output dataset
// (PipelineDataset), which joins the two jobs in a lineage graph.
func Inputs(namespace string, cfg *config.Config, p *config.Pipeline) []Dataset {
	out := make([]Dataset, 0, len(p.Upstreams))
	for _, u := range p.Upstreams {
		out = append(out, Input(namespace, cfg, u))
	}
	return out
}

// Input names one upstream; see Inputs.
func Input(namespace string, cfg *config.Config, u config.Upstream) Dataset {
	region := "default"
	if cfg != nil && cfg.Connections.Glue != nil && cfg.Connections.Glue.Region != "" {
		region = cfg.Connections.Glue.Region
	}
	trocco := "trocco.io"
	if cfg != nil && cfg.Connections.Trocco != nil {
		if h := host(cfg.Connections.Trocco.BaseURL); h != "" {
			trocco = h
		}
	}
	// Glue: OpenLineage names Glue resources by their ARN, split at the
	// account: namespace arn:aws:glue:{region}:{account id}, name the
	// resource path (table/{database}/{table} in spec/Naming.md). A job's
	// ARN is arn:aws:glue:{region}:{account}:job/{name}, a workflow's
	// …:workflow/{name}, so the same split names them as Glue's own lineage
	// does. Without connections.glue.account_id the ARN cannot be written,
	// and the older awsglue://{region} namespace stays.
	glueNS := "awsglue://" + region
	if cfg != nil && cfg.Connections.Glue != nil && cfg.Connections.Glue.AccountID != "" {
		glueNS = "arn:aws:glue:" + region + ":" + cfg.Connections.Glue.AccountID
	}
	switch u.Type {
	case config.TypeGlueJob:
		return Dataset{Namespace: glueNS, Name: "job/" + u.JobName}
	case config.TypeGlueWorkflow:
		return Dataset{Namespace: glueNS, Name: "workflow/" + u.WorkflowName}
	case config.TypeTroccoJob:
		return Dataset{Namespace: "trocco://" + trocco, Name: "job_definitions/" + strconv.FormatInt(u.JobDefinitionID, 10)}
	case config.TypeTroccoWorkflow:
		return Dataset{Namespace: "trocco://" + trocco, Name: "pipeline_definitions/" + strconv.FormatInt(u.PipelineDefinitionID, 10)}
	case config.TypeAirflowDag:
		ns := "airflow://" + u.Connection
		if cfg != nil {
			if a, ok := cfg.Connections.Airflow[u.Connection]; ok && host(a.BaseURL) != "" {
				ns = "airflow://" + host(a.BaseURL)
			}
		}
		return Dataset{Namespace: ns, Name: u.DagID}
	case config.TypePipeline:
		return PipelineDataset(namespace, u.Pipeline)
	}
	return Dataset{Namespace: namespace, Name: u.Type + "/" + u.Name}
}

func host(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return u.Host
}

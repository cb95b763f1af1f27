package config

// UpstreamTarget says where the pipeline's upstream called name points: the
// key of the job resource it polls (sekisho.Resource.Key()), or, for a
// type: pipeline upstream, the pipeline it waits on. Both are empty for an
// unknown name. It is what incident.Locate asks.
func (p *Pipeline) UpstreamTarget(name string) (resource, pipeline string) {
	for _, u := range p.Upstreams {
		if u.Name != name {
			continue
		}
		if u.Type == TypePipeline {
			return "", u.Pipeline
		}
		return u.Resource().Key(), ""
	}
	return "", ""
}

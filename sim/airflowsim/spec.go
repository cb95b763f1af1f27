package airflowsim

import (
	"bytes"
	"context"
	"embed"
	"fmt"
	"net/http"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// specFS holds Airflow's own OpenAPI documents (Apache-2.0, see spec/NOTICE),
// embedded so the simulator works on a machine without the shared specs.
//
//go:embed spec/v1.yaml spec/v2.yaml spec/NOTICE
var specFS embed.FS

// loadedSpecs parses the documents once per process: parsing takes a
// second, and every simulator reads them only.
var loadedSpecs = sync.OnceValues(func() (map[string]*apiSpec, error) {
	out := map[string]*apiSpec{}
	for _, v := range []string{"v1", "v2"} {
		sp, err := loadSpec(v)
		if err != nil {
			return nil, err
		}
		out[v] = sp
	}
	return out, nil
})

// validMu serialises validation: kin-openapi's lazy schema caches are not
// documented as safe for concurrent use, and the documents are shared.
var validMu sync.Mutex

// apiSpec is one loaded OpenAPI document and its router.
type apiSpec struct {
	version string
	doc     *openapi3.T
	router  routers.Router
}

func loadSpec(version string) (*apiSpec, error) {
	data, err := specFS.ReadFile("spec/" + version + ".yaml")
	if err != nil {
		return nil, err
	}
	// The v2 copy declares OpenAPI 3.1 but, as its README says, expresses
	// nullability the 3.0 way ("nullable: true"); read as 3.1, every null
	// would be refused. It is read as the 3.0 document it now is.
	data = bytes.Replace(data, []byte("\nopenapi: 3.1.0\n"), []byte("\nopenapi: 3.0.3\n"), 1)
	doc, err := openapi3.NewLoader().LoadFromData(data)
	if err != nil {
		return nil, fmt.Errorf("airflowsim: load %s spec: %w", version, err)
	}
	patchSpec(doc)
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("airflowsim: route %s spec: %w", version, err)
	}
	return &apiSpec{version: version, doc: doc, router: router}, nil
}

// patchSpec repairs two flaws of the documents that would make valid
// requests fail, and nothing else:
//   - v1's global security names "GoogleOpenID" while the scheme is declared
//     as "GoogleOpenId" (a typo upstream); without the alias no bearer
//     token could ever satisfy v1.
//   - a few v2 path parameters have a schema without a type (an artefact of
//     the 3.1 → 3.0 conversion); kin-openapi then refuses every value.
func patchSpec(doc *openapi3.T) {
	if doc.Components != nil && doc.Components.SecuritySchemes != nil {
		s := doc.Components.SecuritySchemes
		if g, ok := s["GoogleOpenId"]; ok && s["GoogleOpenID"] == nil {
			s["GoogleOpenID"] = g
		}
	}
	for _, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			for _, p := range op.Parameters {
				if p.Value == nil || p.Value.In != openapi3.ParameterInPath || p.Value.Schema == nil || p.Value.Schema.Value == nil {
					continue
				}
				if sc := p.Value.Schema.Value; sc.Type == nil || len(*sc.Type) == 0 {
					sc.Type = &openapi3.Types{openapi3.TypeString}
				}
			}
		}
	}
}

// authFunc accepts a security scheme of the spec when it matches how the
// simulator authenticates; the simulator checks the credentials itself.
func (s *Server) authFunc(version string) openapi3filter.AuthenticationFunc {
	return func(_ context.Context, in *openapi3filter.AuthenticationInput) error {
		sc := in.SecurityScheme
		switch s.opts.Auth {
		case AuthBasic:
			if version == "v2" {
				return nil // Airflow 3 takes basic auth only through the FAB auth manager, which the v2 document does not describe
			}
			if sc.Type == "http" && sc.Scheme == "basic" {
				return nil
			}
		case AuthBearer:
			if (sc.Type == "http" && sc.Scheme == "bearer") || sc.Type == "oauth2" || sc.Type == "openIdConnect" {
				return nil
			}
		default:
			return nil
		}
		return fmt.Errorf("scheme %s is not how this server authenticates", in.SecuritySchemeName)
	}
}

// validateRequest checks a request against the document. The body must be
// readable again afterwards: the caller passes a request whose GetBody is set.
func (s *Server) validateRequest(ctx context.Context, sp *apiSpec, r *http.Request) (*routers.Route, map[string]string, error) {
	route, params, err := sp.router.FindRoute(r)
	if err != nil {
		return nil, nil, fmt.Errorf("no such operation in the %s API: %s %s: %w", sp.version, r.Method, r.URL.Path, err)
	}
	in := &openapi3filter.RequestValidationInput{Request: r, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: s.authFunc(sp.version)}}
	validMu.Lock()
	defer validMu.Unlock()
	if err := openapi3filter.ValidateRequest(ctx, in); err != nil {
		return route, params, err
	}
	return route, params, nil
}

// validateResponse checks one of our own answers against the document, so
// the simulator cannot drift from Airflow either.
func (s *Server) validateResponse(ctx context.Context, r *http.Request, route *routers.Route, params map[string]string, a answer) error {
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: r, PathParams: params, Route: route},
		Status:                 a.status,
		Header:                 http.Header{"Content-Type": {"application/json"}},
		Options:                &openapi3filter.Options{IncludeResponseStatus: true},
	}
	in.SetBodyBytes(a.body)
	validMu.Lock()
	defer validMu.Unlock()
	return openapi3filter.ValidateResponse(ctx, in)
}

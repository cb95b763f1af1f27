package gluesim

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// authRE matches a SigV4 Authorization header for Glue:
// AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/glue/aws4_request, SignedHeaders=a;b, Signature=<64 hex>
var authRE = regexp.MustCompile(`^AWS4-HMAC-SHA256 Credential=([^/\s,]+)/(\d{8})/([a-z0-9-]+)/glue/aws4_request,\s*SignedHeaders=([a-z0-9;-]+),\s*Signature=([0-9a-f]{64})$`)

// authenticate checks a request the way AWS's front end does: a missing
// header is MissingAuthenticationTokenException, a malformed one
// IncompleteSignatureException; with WithCredentials, an unknown key is
// UnrecognizedClientException and a wrong signature
// InvalidSignatureException.
func (s *Sim) authenticate(r *http.Request, body []byte) *apiError {
	h := r.Header.Get("Authorization")
	if h == "" {
		return &apiError{status: http.StatusBadRequest, typ: "MissingAuthenticationTokenException", msg: "Missing Authentication Token", lower: true}
	}
	m := authRE.FindStringSubmatch(h)
	amzDate := r.Header.Get("X-Amz-Date")
	if m == nil || len(amzDate) != 16 || !strings.HasPrefix(amzDate, m[2]) {
		return &apiError{status: http.StatusBadRequest, typ: "IncompleteSignatureException",
			msg: "Authorization header requires a well-formed AWS4-HMAC-SHA256 Credential, SignedHeaders and Signature, and an X-Amz-Date", lower: true}
	}
	key, date, region, signed, sig := m[1], m[2], m[3], m[4], m[5]
	if s.region != "" && region != s.region {
		return &apiError{status: http.StatusBadRequest, typ: "InvalidSignatureException",
			msg: "Credential should be scoped to a valid region, not '" + region + "'", lower: true}
	}
	if len(s.keys) == 0 {
		return nil
	}
	secret, ok := s.keys[key]
	if !ok {
		return &apiError{status: http.StatusBadRequest, typ: "UnrecognizedClientException",
			msg: "The security token included in the request is invalid.", lower: true}
	}
	want := signature(r, body, secret, amzDate, date, region, strings.Split(signed, ";"))
	if !hmac.Equal([]byte(want), []byte(sig)) {
		return &apiError{status: http.StatusBadRequest, typ: "InvalidSignatureException",
			msg: "The request signature we calculated does not match the signature you provided.", lower: true}
	}
	return nil
}

// signature recomputes the SigV4 signature of r over the headers it signed.
func signature(r *http.Request, body []byte, secret, amzDate, date, region string, signed []string) string {
	sort.Strings(signed)
	var canon strings.Builder
	canon.WriteString(r.Method + "\n/\n" + r.URL.RawQuery + "\n")
	for _, name := range signed {
		var vals []string
		switch name {
		case "host":
			vals = []string{r.Host}
		case "content-length":
			vals = []string{strconv.FormatInt(r.ContentLength, 10)}
		default:
			vals = r.Header.Values(name)
		}
		for i, v := range vals {
			vals[i] = strings.Join(strings.Fields(v), " ")
		}
		canon.WriteString(name + ":" + strings.Join(vals, ",") + "\n")
	}
	payload := r.Header.Get("X-Amz-Content-Sha256")
	if payload == "" {
		payload = hexSHA(body)
	}
	canon.WriteString("\n" + strings.Join(signed, ";") + "\n" + payload)

	scope := date + "/" + region + "/glue/aws4_request"
	toSign := "AWS4-HMAC-SHA256\n" + amzDate + "\n" + scope + "\n" + hexSHA([]byte(canon.String()))
	k := mac([]byte("AWS4"+secret), date)
	k = mac(k, region)
	k = mac(k, "glue")
	k = mac(k, "aws4_request")
	return hex.EncodeToString(mac(k, toSign))
}

func mac(key []byte, data string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(data))
	return h.Sum(nil)
}

func hexSHA(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

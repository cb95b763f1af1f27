// Package awsjson holds what the simulators of AWS services that speak
// awsJson1_1 share: the request envelope (POST /, X-Amz-Target, content
// type), the error body, and the SigV4 check AWS's front end makes.
package awsjson

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// ContentType is the awsJson1_1 media type of requests and answers.
const ContentType = "application/x-amz-json-1.1"

// Error is an answer a simulator gives instead of a result.
type Error struct {
	Status int
	Type   string
	Msg    string
	// Lower spells the message key "message" (the front end's errors, such
	// as throttling); modelled service errors use "Message".
	Lower bool
}

func (e *Error) Error() string { return e.Type + ": " + e.Msg }

// Invalid is a 400 error of the given type.
func Invalid(typ, format string, a ...any) *Error {
	return &Error{Status: http.StatusBadRequest, Type: typ, Msg: fmt.Sprintf(format, a...)}
}

// errorJSON is an awsJson1_1 error body.
type errorJSON struct {
	Type         string `json:"__type"`
	Message      string `json:"Message,omitempty"`
	LowerMessage string `json:"message,omitempty"`
}

// WriteError answers e.
func WriteError(w http.ResponseWriter, e *Error) {
	body := errorJSON{Type: e.Type}
	if e.Lower {
		body.LowerMessage = e.Msg
	} else {
		body.Message = e.Msg
	}
	b, _ := json.Marshal(body)
	w.Header().Set("Content-Type", ContentType)
	w.WriteHeader(e.Status)
	_, _ = w.Write(b)
}

// WriteResult answers a result as JSON.
func WriteResult(w http.ResponseWriter, out any) {
	b, err := json.Marshal(out)
	if err != nil {
		WriteError(w, &Error{Status: http.StatusInternalServerError, Type: "InternalServerException", Msg: err.Error()})
		return
	}
	w.Header().Set("Content-Type", ContentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	_, _ = w.Write(b)
}

// ReadRequest checks the awsJson1_1 envelope and returns the operation named
// by X-Amz-Target after prefix ("AWSGlue.", "RedshiftData.") and the body
// (at most 1 MiB).
func ReadRequest(r *http.Request, prefix string) (string, []byte, *Error) {
	if r.Method != http.MethodPost || r.URL.Path != "/" {
		return "", nil, &Error{Status: http.StatusNotFound, Type: "UnknownOperationException", Msg: "unknown operation"}
	}
	target, ok := strings.CutPrefix(r.Header.Get("X-Amz-Target"), prefix)
	if !ok || target == "" {
		return "", nil, Invalid("UnknownOperationException", "missing or unknown X-Amz-Target")
	}
	if ct := r.Header.Get("Content-Type"); ct != ContentType {
		return "", nil, Invalid("SerializationException", "content type must be %s, got %q", ContentType, ct)
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return "", nil, Invalid("SerializationException", "read body: %v", err)
	}
	return target, body, nil
}

// authRE matches a SigV4 Authorization header:
// AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/<service>/aws4_request, SignedHeaders=a;b, Signature=<64 hex>
var authRE = regexp.MustCompile(`^AWS4-HMAC-SHA256 Credential=([^/\s,]+)/(\d{8})/([a-z0-9-]+)/([a-z0-9-]+)/aws4_request,\s*SignedHeaders=([a-z0-9;-]+),\s*Signature=([0-9a-f]{64})$`)

// Authenticate checks a request the way AWS's front end does: a missing
// header is MissingAuthenticationTokenException, a malformed one (or one
// scoped to another service) IncompleteSignatureException; a region other
// than region (when set) InvalidSignatureException; with keys, an unknown
// key is UnrecognizedClientException and a wrong signature
// InvalidSignatureException.
func Authenticate(r *http.Request, body []byte, service, region string, keys map[string]string) *Error {
	h := r.Header.Get("Authorization")
	if h == "" {
		return &Error{Status: http.StatusBadRequest, Type: "MissingAuthenticationTokenException", Msg: "Missing Authentication Token", Lower: true}
	}
	m := authRE.FindStringSubmatch(h)
	amzDate := r.Header.Get("X-Amz-Date")
	if m == nil || m[4] != service || len(amzDate) != 16 || !strings.HasPrefix(amzDate, m[2]) {
		return &Error{Status: http.StatusBadRequest, Type: "IncompleteSignatureException",
			Msg: "Authorization header requires a well-formed AWS4-HMAC-SHA256 Credential, SignedHeaders and Signature, and an X-Amz-Date", Lower: true}
	}
	key, date, reg, signed, sig := m[1], m[2], m[3], m[5], m[6]
	if region != "" && reg != region {
		return &Error{Status: http.StatusBadRequest, Type: "InvalidSignatureException",
			Msg: "Credential should be scoped to a valid region, not '" + reg + "'", Lower: true}
	}
	if len(keys) == 0 {
		return nil
	}
	secret, ok := keys[key]
	if !ok {
		return &Error{Status: http.StatusBadRequest, Type: "UnrecognizedClientException",
			Msg: "The security token included in the request is invalid.", Lower: true}
	}
	want := signature(r, body, secret, amzDate, date, reg, service, strings.Split(signed, ";"))
	if !hmac.Equal([]byte(want), []byte(sig)) {
		return &Error{Status: http.StatusBadRequest, Type: "InvalidSignatureException",
			Msg: "The request signature we calculated does not match the signature you provided.", Lower: true}
	}
	return nil
}

// signature recomputes the SigV4 signature of r over the headers it signed.
func signature(r *http.Request, body []byte, secret, amzDate, date, region, service string, signed []string) string {
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

	scope := date + "/" + region + "/" + service + "/aws4_request"
	toSign := "AWS4-HMAC-SHA256\n" + amzDate + "\n" + scope + "\n" + hexSHA([]byte(canon.String()))
	k := mac([]byte("AWS4"+secret), date)
	k = mac(k, region)
	k = mac(k, service)
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

package budget

import (
	"net/http"
)

// Transport takes a slot of its Budget before every request it sends,
// retries included, so every call to a connection draws from the one
// budget whichever client sends it.
type Transport struct {
	Base   http.RoundTripper // http.DefaultTransport when nil
	Budget *Budget
}

// RoundTrip waits for a slot, then sends the request.
func (t *Transport) RoundTrip(r *http.Request) (*http.Response, error) {
	if err := t.Budget.Wait(r.Context()); err != nil {
		if r.Body != nil {
			r.Body.Close()
		}
		return nil, err
	}
	base := t.Base
	if base == nil {
		base = http.DefaultTransport
	}
	return base.RoundTrip(r)
}

// Client returns a copy of hc (a default client when nil) whose requests
// draw from b. A nil b returns hc unchanged.
func Client(hc *http.Client, b *Budget) *http.Client {
	if b == nil {
		return hc
	}
	if hc == nil {
		hc = &http.Client{}
	}
	c := *hc
	c.Transport = &Transport{Base: hc.Transport, Budget: b}
	return &c
}

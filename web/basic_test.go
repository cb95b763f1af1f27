package web_test

import (
	"net/http"
	"net/http/httptest"
)

func newBasic(target, password string) *http.Request {
	r := httptest.NewRequest("GET", target, nil)
	r.SetBasicAuth("viewer", password)
	return r
}

func newRecorder() *httptest.ResponseRecorder { return httptest.NewRecorder() }

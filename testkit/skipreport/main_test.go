package main

import (
	"strings"
	"testing"
)

// A recorded `go test -json` stream: a pass, two PostgreSQL skips (one a
// subtest), a browser skip, a failure and a package without tests.
const stream = `{"Action":"start","Package":"github.com/sekisho-dev/sekisho/store"}
{"Action":"run","Package":"github.com/sekisho-dev/sekisho/store","Test":"TestApply"}
{"Action":"output","Package":"github.com/sekisho-dev/sekisho/store","Test":"TestApply","Output":"=== RUN   TestApply\n"}
{"Action":"pass","Package":"github.com/sekisho-dev/sekisho/store","Test":"TestApply","Elapsed":0.01}
{"Action":"run","Package":"github.com/sekisho-dev/sekisho/store","Test":"TestConformance/postgres"}
{"Action":"output","Package":"github.com/sekisho-dev/sekisho/store","Test":"TestConformance/postgres","Output":"    pgtest.go:31: no PostgreSQL configured: run eval \"$(.ci/postgres)\" to start one and set SEKISHO_TEST_POSTGRES\n"}
{"Action":"output","Package":"github.com/sekisho-dev/sekisho/store","Test":"TestConformance/postgres","Output":"--- SKIP: TestConformance/postgres (0.00s)\n"}
{"Action":"skip","Package":"github.com/sekisho-dev/sekisho/store","Test":"TestConformance/postgres","Elapsed":0}
{"Action":"output","Package":"github.com/sekisho-dev/sekisho/ha","Test":"TestLease","Output":"    pgtest.go:31: no PostgreSQL configured: run eval \"$(.ci/postgres)\" to start one and set SEKISHO_TEST_POSTGRES\n"}
{"Action":"skip","Package":"github.com/sekisho-dev/sekisho/ha","Test":"TestLease","Elapsed":0}
{"Action":"output","Package":"github.com/sekisho-dev/sekisho/web","Test":"TestBoardInBrowser","Output":"    browser_test.go:102: chromium is not installed (apt-get install chromium); under CI=true this fails\n"}
{"Action":"skip","Package":"github.com/sekisho-dev/sekisho/web","Test":"TestBoardInBrowser","Elapsed":0}
{"Action":"output","Package":"github.com/sekisho-dev/sekisho/web","Test":"TestBroken","Output":"    web_test.go:9: got 1, want 2\n"}
{"Action":"fail","Package":"github.com/sekisho-dev/sekisho/web","Test":"TestBroken","Elapsed":0}
{"Action":"fail","Package":"github.com/sekisho-dev/sekisho/web","Elapsed":1.5}
{"Action":"pass","Package":"github.com/sekisho-dev/sekisho/store","Elapsed":2.25}
{"Action":"skip","Package":"github.com/sekisho-dev/sekisho/marks","Elapsed":0}
`

func TestReport(t *testing.T) {
	var out strings.Builder
	failed, err := report(strings.NewReader(stream), &out)
	if err != nil || !failed {
		t.Fatalf("failed %v, err %v", failed, err)
	}
	got := out.String()
	for _, want := range []string{
		"ok  \tgithub.com/sekisho-dev/sekisho/store\t2.250s\n",
		"FAIL\tgithub.com/sekisho-dev/sekisho/web\t1.500s\n",
		"    web_test.go:9: got 1, want 2\n",
		"?   \tgithub.com/sekisho-dev/sekisho/marks\t[no test files]\n",
		"3 tests skipped:\n" +
			"    2  no PostgreSQL configured: run eval \"$(.ci/postgres)\" to start one and set SEKISHO_TEST_POSTGRES\n" +
			"       e.g. ha.TestLease, … (1 more)\n" +
			"    1  chromium is not installed (apt-get install chromium); under CI=true this fails\n" +
			"       e.g. web.TestBoardInBrowser\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("report lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "=== RUN") {
		t.Errorf("passing tests' output is printed:\n%s", got)
	}
	if want := "\ntests: 1 passed, 1 failed, 3 skipped\n"; !strings.HasSuffix(got, want) {
		t.Errorf("report does not end with %q:\n%s", want, got)
	}
}

func TestReportNothingSkipped(t *testing.T) {
	var out strings.Builder
	failed, err := report(strings.NewReader(`{"Action":"pass","Package":"p","Elapsed":1}`+"\n"), &out)
	if err != nil || failed || !strings.Contains(out.String(), "No test skipped.") {
		t.Errorf("%v %v %q", failed, err, out.String())
	}
}

package junit

import (
	"bytes"
	"encoding/xml"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Parsed JUnit, for the tests.
type xSuites struct {
	Tests    int      `xml:"tests,attr"`
	Failures int      `xml:"failures,attr"`
	Suites   []xSuite `xml:"testsuite"`
}

type xSuite struct {
	Name       string  `xml:"name,attr"`
	Tests      int     `xml:"tests,attr"`
	Failures   int     `xml:"failures,attr"`
	Skipped    int     `xml:"skipped,attr"`
	Properties []xProp `xml:"properties>property"`
	Cases      []xCase `xml:"testcase"`
}

type xCase struct {
	Name       string  `xml:"name,attr"`
	Classname  string  `xml:"classname,attr"`
	Time       string  `xml:"time,attr"`
	Properties []xProp `xml:"properties>property"`
	Failure    *xMsg   `xml:"failure"`
	Skipped    *xMsg   `xml:"skipped"`
}

type xProp struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type xMsg struct {
	Message string `xml:"message,attr"`
	Text    string `xml:",chardata"`
}

func (c *xCase) prop(name string) (string, bool) {
	for _, p := range c.Properties {
		if strings.EqualFold(p.Name, name) {
			return p.Value, true
		}
	}
	return "", false
}

func parseJUnit(t *testing.T, b []byte) *xSuites {
	t.Helper()
	var s xSuites
	if err := xml.Unmarshal(b, &s); err != nil {
		t.Fatalf("JUnit does not parse: %v\n%s", err, b)
	}
	return &s
}

func (s *xSuites) find(name string) *xCase {
	for i := range s.Suites {
		for j := range s.Suites[i].Cases {
			if s.Suites[i].Cases[j].Name == name {
				return &s.Suites[i].Cases[j]
			}
		}
	}
	return nil
}

// goTestJSON runs go test -json with args in dir and returns its events.
// A non-zero exit is expected when a test fails on purpose.
func goTestJSON(t *testing.T, dir string, args ...string) []TestEvent {
	t.Helper()
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("no go command: %v", err)
	}
	cmd := exec.Command(gobin, append([]string{"test", "-json"}, args...)...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if _, ok := err.(*exec.ExitError); err != nil && !ok {
		t.Fatalf("go test: %v", err)
	}
	events, rerr := ReadTestEvents(bytes.NewReader(out))
	if rerr != nil {
		t.Fatal(rerr)
	}
	if len(events) == 0 {
		t.Fatalf("go test %v: no events (%v)\n%s", args, err, stderr.String())
	}
	return events
}

// validate checks doc against the XSD with xmllint, in a subtest of its
// own ("schema/<xsd>"): without xmllint (Debian: apt-get install
// libxml2-utils; .ci/run installs it) only that subtest skips, saying so,
// and the test around it reports what it did check.
func validate(t *testing.T, doc []byte, xsd string) {
	t.Helper()
	t.Run("schema/"+xsd, func(t *testing.T) {
		xmllint, err := exec.LookPath("xmllint")
		if err != nil {
			t.Skip("xmllint not installed (apt-get install libxml2-utils): JUnit schema not checked")
		}
		path := filepath.Join(t.TempDir(), "junit.xml")
		if err := os.WriteFile(path, doc, 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(xmllint, "--noout", "--schema", filepath.Join("testdata", xsd), path).CombinedOutput()
		if err != nil {
			t.Errorf("JUnit does not validate against %s: %v\n%s", xsd, err, out)
		}
	})
}

// The JUnit of this module's own example tests, a benchmark, and a package
// of tests that break an SLO on purpose and skip.
func TestJUnitFromGoTest(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go test")
	}
	var events []TestEvent
	events = append(events, goTestJSON(t, ".", "-run", "TestChatSLO|Example", "-count=1", "github.com/llm-latency-lens/lens")...)
	// Benchmarks apart: go test runs none after a failed test, and
	// TestChatSLO may fail on a loaded machine.
	events = append(events, goTestJSON(t, ".", "-run", "^$", "-bench", "BenchmarkChat", "-benchtime", "10x", "-count=1", "github.com/llm-latency-lens/lens")...)
	events = append(events, goTestJSON(t, ".", "-run", "TestSLO|TestSkipped", "-count=1", "./testdata/junitpkg")...)
	events = append(events, goTestJSON(t, ".", "-run", "^$", "-bench", ".", "-benchtime", "10x", "-count=1", "./testdata/junitpkg")...)

	var b bytes.Buffer
	if err := Write(&b, events...); err != nil {
		t.Fatal(err)
	}
	doc := parseJUnit(t, b.Bytes())

	// TestChatSLO holds its SLO on an idle machine; on a loaded one it may
	// not, and the JUnit must say what go test said.
	slo := doc.find("TestChatSLO")
	if slo == nil || slo.Classname != "github.com/llm-latency-lens/lens" {
		t.Fatalf("TestChatSLO: %+v", slo)
	}
	if failed := outcome(events, "TestChatSLO") == "fail"; failed != (slo.Failure != nil) {
		t.Errorf("TestChatSLO: go test failed=%v, JUnit failure %+v", failed, slo.Failure)
	}
	for _, k := range []string{"lens.scenario", "lens.requests", "lens.ttft.p95_ms", "lens.ttft.p99_ms", "lens.itl.p50_ms", "lens.e2e.p95_ms", "lens.tokens_per_s", "lens.error_rate"} {
		if _, ok := slo.prop(k); !ok {
			t.Errorf("TestChatSLO has no property %s: %v", k, slo.Properties)
		}
	}
	if v, _ := slo.prop("lens.requests"); v != "200" {
		t.Errorf("lens.requests = %q, want 200", v)
	}
	seen := map[string]int{}
	for _, p := range slo.Properties {
		seen[p.Name]++
		if seen[p.Name] > 1 {
			t.Errorf("property %s twice", p.Name)
		}
	}
	for _, name := range []string{"Example", "ExampleResult"} {
		if c := doc.find(name); c == nil || c.Failure != nil || c.Skipped != nil {
			t.Errorf("%s: %+v", name, c)
		}
	}
	for _, name := range []string{"BenchmarkChat"} {
		c := doc.find(name)
		if outcome(events, "BenchmarkChat") != "" {
			t.Errorf("go test reported an outcome for %s: the test relies on there being none", name)
		}
		if c == nil || c.Failure != nil {
			t.Fatalf("benchmark %s is not a pass: %+v", name, c)
		}
		if v, _ := c.prop("bench.iterations"); v != "10" {
			t.Errorf("%s bench.iterations = %q, want 10", name, v)
		}
		for _, k := range []string{"bench.ttft-p50-ns", "bench.ttft-p99-ns", "bench.itl-p50-ns", "bench.tokens/s", "bench.errors", "bench.ns/op"} {
			if _, ok := c.prop(k); !ok {
				t.Errorf("%s has no property %s", name, k)
			}
		}
	}

	broken := doc.find("TestSLOBroken")
	if broken == nil || broken.Failure == nil {
		t.Fatalf("TestSLOBroken is not a failure: %+v", broken)
	}
	if m := broken.Failure.Message; !strings.HasPrefix(m, "lenstest: SLO broken: p95 TTFT = ") || !strings.Contains(m, "limit 1ms") {
		t.Errorf("failure message %q", m)
	}
	if !strings.Contains(broken.Failure.Text, `scenario "broken", provider openai, model gpt-4o-mini`) || strings.Contains(broken.Failure.Text, "=== ATTR") {
		t.Errorf("failure text:\n%s", broken.Failure.Text)
	}
	if v, _ := broken.prop("lens.ttft.p95_ms"); v == "" {
		t.Errorf("failed test lost its properties: %v", broken.Properties)
	}
	if c := doc.find("TestSLOHolds"); c == nil || (c.Failure != nil) != (outcome(events, "TestSLOHolds") == "fail") {
		t.Errorf("TestSLOHolds: %+v", c)
	}
	if c := doc.find("TestSkipped"); c == nil || c.Skipped == nil || c.Skipped.Message != "no endpoint configured" {
		t.Errorf("TestSkipped: %+v", c)
	}
	var pkg *xSuite
	for i := range doc.Suites {
		if strings.HasSuffix(doc.Suites[i].Name, "/report/junit/testdata/junitpkg") {
			pkg = &doc.Suites[i]
		}
	}
	wantFailures := 1
	if outcome(events, "TestSLOHolds") == "fail" {
		wantFailures++
	}
	if pkg == nil || pkg.Failures != wantFailures || pkg.Skipped != 1 || pkg.Tests != 4 {
		t.Errorf("junitpkg suite: %+v", pkg)
	}
	validate(t, b.Bytes(), "junit-10-case-properties.xsd")

	// With the properties on the suite, the output is valid under the
	// unchanged Jenkins schema.
	var strict bytes.Buffer
	if err := WriteWith(&strict, Options{SuiteProperties: true}, events...); err != nil {
		t.Fatal(err)
	}
	sdoc := parseJUnit(t, strict.Bytes())
	found := false
	for _, s := range sdoc.Suites {
		for _, p := range s.Properties {
			if strings.EqualFold(p.Name, "TestChatSLO/lens.ttft.p95_ms") {
				found = true
			}
		}
	}
	if !found {
		t.Error("SuiteProperties: no TestChatSLO/lens.ttft.p95_ms on the suite")
	}
	validate(t, strict.Bytes(), "junit-10.xsd")
}

// outcome is the last pass, fail or skip action go test reported for test.
func outcome(events []TestEvent, test string) string {
	out := ""
	for _, e := range events {
		if e.Test == test && (e.Action == "pass" || e.Action == "fail" || e.Action == "skip") {
			out = e.Action
		}
	}
	return out
}

func ev(action, test string, extra ...string) TestEvent {
	e := TestEvent{Time: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), Action: action, Package: "example.com/p", Test: test}
	switch action {
	case "output":
		e.Output = extra[0]
	case "attr":
		e.Key, e.Value = extra[0], extra[1]
	}
	return e
}

func TestJUnitEdgeCases(t *testing.T) {
	events := []TestEvent{
		ev("start", ""),
		// Go 1.25+: an attr event and its output line give one property.
		ev("run", "TestA"),
		ev("attr", "TestA", "lens.rps", "50"),
		ev("output", "TestA", "=== ATTR  TestA lens.rps 50\n"),
		ev("pass", "TestA"),
		// Older output: the ATTR line only.
		ev("run", "TestB"),
		ev("output", "TestB", "=== ATTR  TestB lens.ttft.p95_ms 12.5\n"),
		ev("output", "TestB", "    b_test.go:9: first\n"),
		ev("output", "TestB", "    b_test.go:10: second <&> \x1b[31m\n"),
		ev("fail", "TestB"),
		// A benchmark result printed outside any test (older Go).
		ev("output", "", "BenchmarkOld-8   \t    100\t  12.5 ns/op\t 3 errors\n"),
		// A test that never ended: the binary panicked.
		ev("run", "TestPanics"),
		ev("output", "TestPanics", "panic: boom\n"),
		{Action: "fail", Package: "example.com/p", Elapsed: 1.5},
		// A package that did not build.
		{Action: "build-output", ImportPath: "example.com/q [example.com/q.test]", Output: "q.go:3:1: syntax error\n"},
		{Action: "fail", Package: "example.com/q", FailedBuild: "example.com/q [example.com/q.test]"},
	}
	var b bytes.Buffer
	if err := Write(&b, events...); err != nil {
		t.Fatal(err)
	}
	doc := parseJUnit(t, b.Bytes())
	a := doc.find("TestA")
	if a == nil || len(a.Properties) != 1 || a.Properties[0] != (xProp{"lens.rps", "50"}) || a.Failure != nil {
		t.Errorf("TestA: %+v", a)
	}
	bc := doc.find("TestB")
	if bc == nil || bc.Failure == nil || bc.Failure.Message != "second <&> \uFFFD[31m" || len(bc.Properties) != 1 {
		t.Errorf("TestB: %+v", bc)
	}
	old := doc.find("BenchmarkOld")
	if v, _ := old.prop("bench.errors"); old == nil || old.Failure != nil || v != "3" {
		t.Errorf("BenchmarkOld: %+v", old)
	}
	if p := doc.find("TestPanics"); p == nil || p.Failure == nil || !strings.Contains(p.Failure.Text, "panic: boom") {
		t.Errorf("TestPanics: %+v", p)
	}
	if q := doc.find("[build failed]"); q == nil || q.Failure == nil || !strings.Contains(q.Failure.Text, "syntax error") {
		t.Errorf("build failure: %+v", q)
	}
	if doc.Tests != 5 || doc.Failures != 3 {
		t.Errorf("totals: %d tests, %d failures", doc.Tests, doc.Failures)
	}
	validate(t, b.Bytes(), "junit-10-case-properties.xsd")
}

func TestTestEventReader(t *testing.T) {
	in := "# not json\n" + `{"Action":"run","Test":"TestA"}` + "\n\n" + `{"Action":"pass","Test":"TestA","Elapsed":0.5}` + "\n" + `{"Action":` + "\n"
	r := NewTestEventReader(strings.NewReader(in))
	var got []TestEvent
	for r.Scan() {
		got = append(got, *r.Event())
	}
	if len(got) != 2 || got[1].Elapsed != 0.5 || r.Skipped() != 1 {
		t.Errorf("events %+v, skipped %d", got, r.Skipped())
	}
	if r.Err() == nil || !strings.Contains(r.Err().Error(), "line 5") {
		t.Errorf("error %v, want one on line 5", r.Err())
	}
	if _, err := ReadTestEvents(strings.NewReader(`{"Test":"x"}`)); err == nil {
		t.Error("event without an action: no error")
	}
}

// A benchmark result line that go test -json splits over two events (the
// name is printed before the benchmark runs) still gives its metrics.
func TestJUnitSplitBenchmarkLine(t *testing.T) {
	events := []TestEvent{
		ev("run", "BenchmarkChat"),
		ev("output", "BenchmarkChat", "=== RUN   BenchmarkChat\n"),
		ev("output", "BenchmarkChat", "BenchmarkChat-2   \t"),
		ev("output", "BenchmarkChat", "      10\t  32440283 ns/op\t 154009599 e2e-p50-ns\t       103.4 tokens/s\n"),
		{Action: "pass", Package: "example.com/p"},
	}
	var b bytes.Buffer
	if err := Write(&b, events...); err != nil {
		t.Fatal(err)
	}
	c := parseJUnit(t, b.Bytes()).find("BenchmarkChat")
	if c == nil || c.Failure != nil {
		t.Fatalf("BenchmarkChat: %+v", c)
	}
	want := []xProp{{"bench.iterations", "10"}, {"bench.ns/op", "32440283"}, {"bench.e2e-p50-ns", "154009599"}, {"bench.tokens/s", "103.4"}}
	if len(c.Properties) != len(want) {
		t.Fatalf("properties %v, want %v", c.Properties, want)
	}
	for i := range want {
		if c.Properties[i] != want[i] {
			t.Errorf("property %d = %v, want %v", i, c.Properties[i], want[i])
		}
	}
}

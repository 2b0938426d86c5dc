package junit

import (
	"encoding/xml"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Options configure WriteWith.
type Options struct {
	// SuiteProperties puts each test's properties on its test suite,
	// named "<test>/<key>", instead of on the test case. The common JUnit
	// schemas (Jenkins' junit-10.xsd, Ant's) allow properties only on a
	// suite; most readers (Jenkins, GitLab, Testmo) take them on a case
	// too, which is the default.
	SuiteProperties bool
}

// Write writes the go test -json events as JUnit XML, with default
// options: see WriteWith.
func Write(w io.Writer, events ...TestEvent) error {
	return WriteWith(w, Options{}, events...)
}

// WriteWith writes the go test -json events as JUnit XML: a
// <testsuite> per package, a <testcase> per test, subtest, example and
// benchmark, in the order they started.
//
//   - Test attributes (t.Attr: the lens.* metrics lenstest records, such as
//     lens.ttft.p95_ms) become the case's <properties>. They are read from
//     "attr" events (Go 1.25 and later) and from "=== ATTR  <test> <key>
//     <value>" output lines, whichever the stream has, without duplicates.
//   - A failed test gets a <failure> whose message is its SLO assertion
//     (the "lenstest: SLO broken" and "lenstest: error rate" lines) or,
//     without one, the last message it logged, and whose text is its whole
//     output.
//   - A skipped test gets <skipped> with the reason it logged.
//   - A benchmark passes unless it failed (go test reports no pass event
//     for a benchmark), and each of its result lines adds properties:
//     bench.iterations and bench.<unit> for each metric (bench.ns/op,
//     bench.ttft-p50-ns, ...), one set per run in order.
//   - A test that started but never ended (the test binary panicked or
//     timed out) is a failure, with its output.
//   - A package that failed to build gets a test case "[build failed]"
//     with the build output.
func WriteWith(w io.Writer, opts Options, events ...TestEvent) error {
	suites := buildSuites(events)
	doc := junitSuites{}
	for _, s := range suites {
		js := junitSuite{Name: s.name, Timestamp: formatTimestamp(s.start), Time: formatSeconds(s.elapsed)}
		for _, c := range s.cases {
			jc := junitCase{Name: c.name, Classname: s.name, Time: formatSeconds(c.elapsed)}
			props := c.props
			if len(props) > 0 {
				if opts.SuiteProperties {
					if js.Properties == nil {
						js.Properties = &junitProperties{}
					}
					for _, p := range props {
						js.Properties.Property = append(js.Properties.Property, junitProperty{Name: c.name + "/" + p.Name, Value: p.Value})
					}
				} else {
					jc.Properties = &junitProperties{Property: props}
				}
			}
			out := c.output.String()
			switch c.result() {
			case "fail":
				jc.Failure = &junitMessage{Message: failureMessage(c), Type: "failure", Text: out}
				js.Failures++
			case "skip":
				jc.Skipped = &junitMessage{Message: firstMessage(out)}
				js.Skipped++
			}
			js.Tests++
			js.Cases = append(js.Cases, jc)
		}
		doc.Tests += js.Tests
		doc.Failures += js.Failures
		doc.Skipped += js.Skipped
		doc.elapsed += s.elapsed
		doc.Suites = append(doc.Suites, js)
	}
	doc.Time = formatSeconds(doc.elapsed)
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return fmt.Errorf("report: write junit: %w", err)
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "\t")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("report: write junit: %w", err)
	}
	if _, err := io.WriteString(w, "\n"); err != nil {
		return fmt.Errorf("report: write junit: %w", err)
	}
	return nil
}

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Skipped  int          `xml:"-"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
	elapsed  float64
}

type junitSuite struct {
	Name       string           `xml:"name,attr"`
	Tests      int              `xml:"tests,attr"`
	Failures   int              `xml:"failures,attr"`
	Errors     int              `xml:"errors,attr"`
	Skipped    int              `xml:"skipped,attr"`
	Time       string           `xml:"time,attr"`
	Timestamp  string           `xml:"timestamp,attr,omitempty"`
	Properties *junitProperties `xml:"properties,omitempty"`
	Cases      []junitCase      `xml:"testcase"`
}

type junitCase struct {
	Name       string           `xml:"name,attr"`
	Classname  string           `xml:"classname,attr"`
	Time       string           `xml:"time,attr"`
	Properties *junitProperties `xml:"properties,omitempty"`
	Skipped    *junitMessage    `xml:"skipped,omitempty"`
	Failure    *junitMessage    `xml:"failure,omitempty"`
}

type junitProperties struct {
	Property []junitProperty `xml:"property"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitMessage struct {
	Message string `xml:"message,attr,omitempty"`
	Type    string `xml:"type,attr,omitempty"`
	Text    string `xml:",chardata"`
}

// suite and testCase accumulate the events of a package and of a test.
type suite struct {
	name    string
	start   time.Time
	elapsed float64
	action  string          // the package's pass, fail or skip
	failed  string          // FailedBuild
	raw     strings.Builder // output outside any test
	cases   []*testCase
	byName  map[string]*testCase
}

type testCase struct {
	name      string
	action    string // pass, fail, skip, bench, or "" while running
	elapsed   float64
	output    strings.Builder
	props     []junitProperty
	propIndex map[string]int
	benchRuns int             // benchmark result lines seen
	raw       strings.Builder // every output event, for benchmark results
	suiteDone *suite
}

func (c *testCase) result() string {
	switch c.action {
	case "pass", "bench":
		return "pass"
	case "fail", "skip":
		return c.action
	}
	// go test reports no pass event for a benchmark: one that printed a
	// result, or ran in a package that passed, passed.
	if isBenchmark(c.name) && (c.benchRuns > 0 || c.suiteDone.action != "fail") {
		return "pass"
	}
	return "fail"
}

func isBenchmark(name string) bool { return strings.HasPrefix(name, "Benchmark") }

// setProp adds or replaces property key.
func (c *testCase) setProp(key, value string) {
	if i, ok := c.propIndex[key]; ok {
		c.props[i].Value = value
		return
	}
	if c.propIndex == nil {
		c.propIndex = map[string]int{}
	}
	c.propIndex[key] = len(c.props)
	c.props = append(c.props, junitProperty{Name: key, Value: value})
}

var (
	// attrLineRE matches the output line of t.Attr.
	attrLineRE = regexp.MustCompile(`^=== ATTR  (\S+) (\S+) (.*)$`)
	// benchResultRE matches a benchmark result line: name, iterations,
	// then value-unit pairs.
	benchResultRE = regexp.MustCompile(`(?m)^(Benchmark\S*)\s+(\d+)((?:\s+[-+0-9.eE]+\s+\S+)+)\s*$`)
	// procsSuffixRE is the -GOMAXPROCS suffix of a benchmark name.
	procsSuffixRE = regexp.MustCompile(`-\d+$`)
)

func buildSuites(events []TestEvent) []*suite {
	var suites []*suite
	byPkg := map[string]*suite{}
	buildOut := map[string]*strings.Builder{}
	get := func(pkg string, t time.Time) *suite {
		s := byPkg[pkg]
		if s == nil {
			s = &suite{name: pkg, start: t, byName: map[string]*testCase{}}
			byPkg[pkg] = s
			suites = append(suites, s)
		}
		return s
	}
	getCase := func(s *suite, name string) *testCase {
		c := s.byName[name]
		if c == nil {
			c = &testCase{name: name, suiteDone: s}
			s.byName[name] = c
			s.cases = append(s.cases, c)
		}
		return c
	}
	for i := range events {
		ev := &events[i]
		switch ev.Action {
		case "build-output":
			b := buildOut[ev.ImportPath]
			if b == nil {
				b = &strings.Builder{}
				buildOut[ev.ImportPath] = b
			}
			b.WriteString(ev.Output)
			continue
		case "build-fail":
			continue
		}
		if ev.Package == "" && ev.Test == "" {
			continue
		}
		s := get(ev.Package, ev.Time)
		if ev.Test == "" {
			switch ev.Action {
			case "pass", "fail", "skip":
				s.action, s.elapsed = ev.Action, ev.Elapsed
				if ev.FailedBuild != "" {
					s.failed = ev.FailedBuild
				}
			case "output":
				s.raw.WriteString(ev.Output)
			}
			continue
		}
		c := getCase(s, ev.Test)
		switch ev.Action {
		case "output":
			out := ev.Output
			line := strings.TrimRight(out, "\n")
			if m := attrLineRE.FindStringSubmatch(line); m != nil && m[1] == ev.Test {
				c.setProp(m[2], m[3])
				continue
			}
			c.raw.WriteString(out)
			if isFraming(line) {
				continue
			}
			c.output.WriteString(out)
		case "attr":
			c.setProp(ev.Key, ev.Value)
		case "pass", "fail", "skip", "bench":
			c.action, c.elapsed = ev.Action, ev.Elapsed
		}
	}
	// Benchmark results: a result line may come in pieces (the name is
	// printed before the benchmark runs, the numbers after), so they are
	// read from the whole output. Older Go versions print them outside any
	// test.
	for _, s := range suites {
		for _, c := range s.cases {
			if isBenchmark(c.name) {
				for _, m := range benchResultRE.FindAllStringSubmatch(c.raw.String(), -1) {
					addBenchProps(c, m)
				}
			}
		}
		for _, m := range benchResultRE.FindAllStringSubmatch(s.raw.String(), -1) {
			addBenchProps(getCase(s, procsSuffixRE.ReplaceAllString(m[1], "")), m)
		}
	}
	for _, s := range suites {
		if s.failed != "" {
			c := &testCase{name: "[build failed]", action: "fail", suiteDone: s}
			if b := buildOut[s.failed]; b != nil {
				c.output.WriteString(b.String())
			} else {
				fmt.Fprintf(&c.output, "build of %s failed\n", s.failed)
			}
			s.cases = append(s.cases, c)
		}
	}
	return suites
}

// addBenchProps adds the properties of one benchmark result line.
func addBenchProps(c *testCase, m []string) {
	c.benchRuns++
	c.props = append(c.props, junitProperty{Name: "bench.iterations", Value: m[2]})
	f := strings.Fields(m[3])
	for i := 0; i+1 < len(f); i += 2 {
		c.props = append(c.props, junitProperty{Name: "bench." + f[i+1], Value: f[i]})
	}
}

// isFraming reports whether line is go test's own framing, not test output.
func isFraming(line string) bool {
	t := strings.TrimLeft(line, " ")
	for _, p := range []string{"=== RUN ", "=== PAUSE ", "=== CONT ", "=== NAME ", "=== ATTR ", "=== ARTIFACTS ", "--- PASS: ", "--- FAIL: ", "--- SKIP: ", "--- BENCH: "} {
		if strings.HasPrefix(t, p) {
			return true
		}
	}
	return false
}

// messageRE matches the first line of a message a test logged:
// "    file_test.go:12: text".
var messageRE = regexp.MustCompile(`(?m)^\s*[^\s:]+\.go:\d+: (.*)$`)

// firstMessage is the text of the first message in out (else its first
// non-empty line).
func firstMessage(out string) string {
	if m := messageRE.FindStringSubmatch(out); m != nil {
		return strings.TrimSpace(m[1])
	}
	for _, l := range strings.Split(out, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			return l
		}
	}
	return ""
}

// failureMessage is the message of a failed test: its SLO assertions when
// it has some, else the last message it logged.
func failureMessage(c *testCase) string {
	out := c.output.String()
	ms := messageRE.FindAllStringSubmatch(out, -1)
	var slo []string
	for _, m := range ms {
		t := strings.TrimSpace(m[1])
		if strings.HasPrefix(t, "lenstest: SLO broken") || strings.HasPrefix(t, "lenstest: error rate") || strings.Contains(t, ": no samples (") {
			slo = append(slo, t)
		}
	}
	switch {
	case len(slo) > 0:
		return strings.Join(slo, "; ")
	case len(ms) > 0:
		return strings.TrimSpace(ms[len(ms)-1][1])
	case c.action == "":
		return "test did not finish (the test binary exited: panic or timeout)"
	}
	if s := firstMessage(out); s != "" {
		return s
	}
	return "failed"
}

func formatSeconds(s float64) string { return strconv.FormatFloat(max(s, 0), 'f', 3, 64) }

func formatTimestamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04:05")
}

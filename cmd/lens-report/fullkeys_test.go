package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"golang.org/x/sys/unix"
	"google.golang.org/protobuf/proto"

	"github.com/llm-latency-lens/lens/internal/yamlkeys"
)

// recorder is an HTTP server that notes what each request asked for, as a
// line: an InfluxDB 1.x (/write, /query) or an OTLP/HTTP collector
// (/v1/traces).
type recorder struct {
	*httptest.Server
	name  string
	mu    sync.Mutex
	lines []string
	spans int
}

func newRecorder(t *testing.T, name string) *recorder {
	r := &recorder{name: name}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		var line string
		switch req.URL.Path {
		case "/v1/traces":
			var ex coltracepb.ExportTraceServiceRequest
			if err := proto.Unmarshal(body, &ex); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			for _, rs := range ex.GetResourceSpans() {
				for _, kv := range rs.GetResource().GetAttributes() {
					if kv.GetKey() == "service.name" {
						line = name + " spans of service " + kv.GetValue().GetStringValue()
					}
				}
				for _, ss := range rs.GetScopeSpans() {
					r.mu.Lock()
					r.spans += len(ss.GetSpans())
					r.mu.Unlock()
				}
			}
		case "/write":
			q := req.URL.Query()
			user, _, basic := req.BasicAuth()
			measurements := map[string]int{}
			for _, l := range strings.Split(strings.TrimSpace(string(body)), "\n") {
				m, _, _ := strings.Cut(l, ",")
				measurements[m]++
			}
			line = fmt.Sprintf("%s write db=%s rp=%s basic=%v/%s token=%v points=%v", name, q.Get("db"), q.Get("rp"), basic, user,
				strings.HasPrefix(req.Header.Get("Authorization"), "Token "), measurements)
			w.WriteHeader(http.StatusNoContent)
		case "/query":
			line = name + " query " + req.URL.Query().Get("q")
			io.WriteString(w, `{"results":[{"statement_id":0}]}`)
		default:
			line = name + " " + req.URL.Path
			http.NotFound(w, req)
		}
		r.mu.Lock()
		r.lines = append(r.lines, line)
		r.mu.Unlock()
	}))
	t.Cleanup(r.Close)
	return r
}

// take returns what the recorder saw since the last take, sorted, and
// forgets it.
func (r *recorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := append([]string(nil), r.lines...)
	if r.spans > 0 {
		out = append(out, fmt.Sprintf("%s: %d spans", r.name, r.spans))
	}
	r.lines, r.spans = nil, 0
	sort.Strings(out)
	return out
}

// openTerminal opens a pseudo-terminal: lens-report's stderr there is a
// terminal, where the progress bar shows unless the configuration turns
// it off. read returns everything written to it once tty is closed.
func openTerminal(t *testing.T) (tty *os.File, read func() string) {
	t.Helper()
	ptmx, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		t.Skipf("no pseudo-terminal to show the progress bar on (%v)", err)
	}
	fd := int(ptmx.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		ptmx.Close()
		t.Skipf("no pseudo-terminal to show the progress bar on (unlock: %v)", err)
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		ptmx.Close()
		t.Skipf("no pseudo-terminal to show the progress bar on (%v)", err)
	}
	tty, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		ptmx.Close()
		t.Skipf("no pseudo-terminal to show the progress bar on (%v)", err)
	}
	var buf bytes.Buffer
	done := make(chan struct{})
	go func() {
		defer close(done)
		io.Copy(&buf, ptmx) // ends with EIO once tty is closed and read dry
	}()
	return tty, func() string {
		tty.Close()
		<-done
		ptmx.Close()
		return strings.ReplaceAll(buf.String(), "\r\n", "\n")
	}
}

var (
	stampRE     = regexp.MustCompile(`\d{8}T\d{6}Z`)
	alertWhenRE = regexp.MustCompile(`at \S+ \(\d\d:\d\d:\d\d UTC\)`)
	alertValRE  = regexp.MustCompile(`window value [^,]*, `)
	alertLastRE = regexp.MustCompile(`\(last [^)]*\)`)
	windowRE    = regexp.MustCompile(`<dt>window</dt><dd>([^<]*)</dd>`)
	progressRE  = regexp.MustCompile(`\d+%\s*\|`)
	ansiRE      = regexp.MustCompile(`\x1b\[[0-9;?]*[A-Za-z]`)
	localURLRE  = regexp.MustCompile(`http://127\.0\.0\.1:\d+/?`)
)

// TestFullExampleOutputKeys walks every key under output and dashboard in
// examples/full.yaml, the keys lens-report run acts on, and shows that each
// changes what a run produces — its console output, progress bar, files,
// database writes, spans, alerts and dashboard — or is refused. The rest
// of the file's keys are config's TestFullExampleEveryKeyHasEffect. A key
// added to the file without a case here fails the test.
//
// The run is the file's output and dashboard sections on a short workload
// against the in-process fake, with an InfluxDB and two OTLP collectors
// that record what they receive, and stderr on a pseudo-terminal.
func TestFullExampleOutputKeys(t *testing.T) {
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "")
	t.Setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "")
	t.Setenv("NO_COLOR", "1")
	influxA, influxB := newRecorder(t, "influx-a"), newRecorder(t, "influx-b")
	otlpA, otlpB := newRecorder(t, "otlp-a"), newRecorder(t, "otlp-b")

	data, err := os.ReadFile("../../examples/full.yaml")
	if err != nil {
		t.Fatal(err)
	}
	keys, err := yamlkeys.Leaves(data)
	if err != nil {
		t.Fatal(err)
	}
	base := data
	for _, e := range [][2]string{
		{"providers[0].settings", "{ttft_ms: 10, itl_ms: 1, output_tokens: 4, seed: 7}"},
		{"providers[0].rate_limit", "{}"},
		{"workload.scenarios", "[{name: chat, prompt: Hello, requests: 24, concurrency: 4}]"},
		{"execution.warmup_requests", "2"},
		{"output.export[0].path", "'@DIR@/full_{timestamp}.json'"},
		{"output.export[1].path", "'@DIR@/full_{timestamp}.csv'"},
		{"output.database.connection.url", influxA.URL},
		{"output.tracing.endpoint", otlpA.URL},
	} {
		if base, err = yamlkeys.Set(base, e[0], e[1]); err != nil {
			t.Fatal(err)
		}
	}

	database := map[string]string{"output.database.enabled": "true"}
	tracing := map[string]string{"output.tracing.enabled": "true"}
	held := map[string]string{"dashboard.listen": "127.0.0.1:0", "dashboard.hold": "true"}
	latencyAlert := map[string]string{"dashboard.alerts[0].limit_ms": "0.001"}
	errors := map[string]string{"providers[0].settings.faults": "{server_error: 0.5}", "execution.retry.max_attempts": "1"}
	cases := map[string]keyCase{
		"output.console.enabled":                 {value: "false"},
		"output.console.format":                  {value: "json"},
		"output.console.show_progress":           {value: "false"},
		"output.export[0].format":                {value: "markdown"},
		"output.export[0].path":                  {value: "'@DIR@/other_{timestamp}.json'"},
		"output.export[0].pretty":                {value: "false"},
		"output.export[1].format":                {value: "json"},
		"output.export[1].path":                  {value: "'@DIR@/other.csv'"},
		"output.database.enabled":                {value: "true"},
		"output.database.type":                   {value: "sqlite", refused: true, with: database}, // url and database are not sqlite's keys
		"output.database.connection.url":         {value: influxB.URL, with: database},
		"output.database.connection.database":    {value: "other_db", with: database},
		"output.database.connection.per_request": {value: "true", with: database},
		"output.database.connection.batch_size": {value: "10", with: map[string]string{
			"output.database.enabled": "true", "output.database.connection.per_request": "true"}},
		"output.tracing.enabled":          {value: "true"},
		"output.tracing.endpoint":         {value: otlpB.URL, with: tracing},
		"output.tracing.service_name":     {value: "other-service", with: tracing},
		"dashboard.hold":                  {value: "true", with: map[string]string{"dashboard.listen": "127.0.0.1:0"}},
		"dashboard.window_secs":           {value: "3", with: held},
		"dashboard.alerts[0].metric":      {value: "e2e", with: latencyAlert},
		"dashboard.alerts[0].percentile":  {value: "50", with: latencyAlert},
		"dashboard.alerts[0].limit_ms":    {value: "0.001"},
		"dashboard.alerts[0].min_samples": {value: "100000", with: latencyAlert},
		"dashboard.alerts[1].name":        {value: "failures", with: errors},
		"dashboard.alerts[1].metric":      {value: "ttft", refused: true}, // a latency alert takes percentile and limit_ms
		"dashboard.alerts[1].max":         {value: "0.9", with: errors},
	}

	// observe runs lens-report run on the configuration data and
	// describes what it produced, without what the measurements decide
	// (latencies, times): what each output holds is measured by the
	// outputs' own tests.
	var heldPage string
	wait := holdUntilInterrupted
	t.Cleanup(func() { holdUntilInterrupted = wait })
	holdUntilInterrupted = func(url string) {
		resp, err := http.Get(url)
		if err != nil {
			heldPage = "error: " + err.Error()
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		heldPage = string(b)
	}
	observe := func(t *testing.T, data []byte) (string, int) {
		t.Helper()
		dir := t.TempDir()
		path := filepath.Join(dir, "config.yaml")
		if err := os.WriteFile(path, bytes.ReplaceAll(data, []byte("@DIR@"), []byte(dir)), 0o644); err != nil {
			t.Fatal(err)
		}
		heldPage = ""
		tty, read := openTerminal(t)
		var out bytes.Buffer
		code := lensReport([]string{"run", "-config", path}, strings.NewReader(""), &out, tty)
		errOut := read()
		if os.Getenv("LENS_FULLKEYS_RAW") != "" {
			t.Logf("raw stderr: %q", errOut)
		}

		var d []string
		add := func(format string, args ...any) { d = append(d, fmt.Sprintf(format, args...)) }
		add("exit %d", code)
		switch stdout := out.String(); {
		case stdout == "":
			add("console: nothing")
		case json.Valid([]byte(stdout)):
			add("console: JSON")
		case strings.Count(stdout, "\n") <= 2:
			add("console: one line a result")
		default:
			add("console: a table")
		}
		add("progress bar: %v", progressRE.MatchString(errOut))
		lines := map[string]bool{}
		for _, l := range strings.FieldsFunc(errOut, func(r rune) bool { return r == '\n' || r == '\r' }) {
			l = ansiRE.ReplaceAllString(l, "")
			if progressRE.MatchString(l) || strings.TrimSpace(l) == "" {
				continue // the progress bar, and its erasure
			}
			l = strings.NewReplacer(dir, "DIR", influxA.URL, "INFLUX-A", influxB.URL, "INFLUX-B").Replace(l)
			l = stampRE.ReplaceAllString(l, "STAMP")
			l = alertWhenRE.ReplaceAllString(l, "at T")
			l = alertValRE.ReplaceAllString(l, "")
			l = alertLastRE.ReplaceAllString(l, "")
			l = localURLRE.ReplaceAllString(l, "URL")
			lines["stderr: "+l] = true
		}
		for l := range lines {
			d = append(d, l)
		}
		files, _ := os.ReadDir(dir)
		for _, f := range files {
			if f.Name() == "config.yaml" {
				continue
			}
			b, _ := os.ReadFile(filepath.Join(dir, f.Name()))
			kind := "text: " + strings.SplitN(string(b), "\n", 2)[0]
			if json.Valid(b) {
				kind = fmt.Sprintf("JSON, indented %v", bytes.Contains(b, []byte("\n  ")))
			}
			if len(kind) > 80 {
				kind = kind[:80]
			}
			add("file %s: %s", stampRE.ReplaceAllString(f.Name(), "STAMP"), kind)
		}
		for _, r := range []*recorder{influxA, influxB, otlpA, otlpB} {
			d = append(d, r.take()...)
		}
		if heldPage != "" {
			window := "not shown"
			if m := windowRE.FindStringSubmatch(heldPage); m != nil {
				window = m[1]
			}
			add("held the dashboard, its window %s", window)
		}
		sort.Strings(d)
		return strings.Join(d, "\n"), code
	}

	asWritten, _ := observe(t, base)
	if again, _ := observe(t, base); again != asWritten {
		t.Fatalf("two runs of the same configuration differ, so a key's effect cannot be told:\n%s\n---\n%s", asWritten, again)
	}
	t.Logf("as written:\n%s", asWritten)
	seen := map[string]bool{}
	for _, key := range keys {
		if !strings.HasPrefix(key, "output.") && !strings.HasPrefix(key, "dashboard.") {
			continue
		}
		seen[key] = true
		c, ok := cases[key]
		if !ok {
			t.Errorf("%s: no case in TestFullExampleOutputKeys: add one that shows what the key changes", key)
			continue
		}
		t.Run(key, func(t *testing.T) {
			before, err := yamlkeys.SetAll(base, c.with)
			if err != nil {
				t.Fatal(err)
			}
			after, err := yamlkeys.Set(before, key, c.value)
			if err != nil {
				t.Fatal(err)
			}
			b, code := observe(t, before)
			if code != 0 {
				t.Fatalf("before the change the run fails:\n%s", b)
			}
			a, code := observe(t, after)
			switch {
			case c.refused && code != 2:
				t.Errorf("%s: %s was not refused (exit %d):\n%s", key, c.value, code, a)
			case c.refused:
				t.Logf("%s: %s is refused:\n%s", key, c.value, a)
			case a == b:
				t.Errorf("%s: %s changes nothing the run produces: the key is ignored\n%s", key, c.value, a)
			default:
				t.Logf("%s: %s changes\n%s\ninto\n%s", key, c.value, b, a)
			}
		})
	}
	for key := range cases {
		if !seen[key] {
			t.Errorf("a case for %s, a key examples/full.yaml does not have", key)
		}
	}
}

// keyCase shows what one key does: set to value (a YAML value), the run
// must produce something else, or be refused (exit 2) when refused is set.
// with are edits made to both sides first, for a key whose effect needs
// another key.
type keyCase struct {
	value   string
	refused bool
	with    map[string]string
}

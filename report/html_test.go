package report_test

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/jarcoal/httpmock"
	"golang.org/x/net/html"

	"github.com/llm-latency-lens/lens"
	"github.com/llm-latency-lens/lens/fake"
	"github.com/llm-latency-lens/lens/providers"
	"github.com/llm-latency-lens/lens/report"
	"github.com/llm-latency-lens/lens/stats"
)

// The golden files of this package are rewritten by go test -update. The
// flag is defined here unless another test file of the package already did.
func init() {
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite the golden files under testdata")
	}
}

func updating() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// synth describes a result made up in memory, with every number fixed by
// its fields and seed: no clock, no network.
type synth struct {
	scenario, provider, model string
	requests                  int
	failEvery                 int // every failEvery-th request fails (0: none; 1: all)
	failClass                 lens.ErrorClass
	failMessage               string
	noStream                  bool
	ttft, ttftSpread          time.Duration // TTFT from ttft to ttft+ttftSpread
	itl                       time.Duration // mean inter-token gap (streaming only)
	tokens                    int
	seconds                   int // how long the run lasted: the timeline's length
	rate                      float64
	priced                    bool
	seed                      uint64
}

var synthStart = time.Date(2025, 3, 14, 15, 9, 26, 0, time.UTC)

func (s synth) result() *lens.Result {
	rng := rand.New(rand.NewPCG(s.seed, 7))
	r := &lens.Result{
		Scenario: s.scenario, Provider: s.provider, Model: s.model,
		Started: synthStart, Elapsed: time.Duration(max(s.seconds, 1)) * time.Second,
		Concurrency: 8, Rate: s.rate,
		Errors: map[lens.ErrorClass]int64{}, ErrorSamples: map[lens.ErrorClass]string{}, RetriedBy: map[lens.ErrorClass]int64{},
		TTFT: stats.NewLatency(), ITL: stats.NewLatency(), TPOT: stats.NewLatency(), E2E: stats.NewLatency(),
		TTFB: stats.NewLatency(), DNS: stats.NewLatency(), Connect: stats.NewLatency(), TLS: stats.NewLatency(),
		QueueDelay: stats.NewLatency(), TokensPerSecond: stats.NewValues(), OutputTokens: stats.NewValues(),
	}
	if s.rate > 0 {
		r.TTFTFromIntended, r.E2EFromIntended = stats.NewLatency(), stats.NewLatency()
	}
	if s.priced {
		r.Priced, r.Price = true, lens.Price{Input: 0.15, Output: 0.60}
	}
	r.Timeline = make([]lens.Tick, max(s.seconds, 1))
	for i := range s.requests {
		tick := &r.Timeline[i*len(r.Timeline)/s.requests]
		tick.Requests++
		r.Total++
		r.Attempts++
		r.QueueDelay.Record(0)
		if i == 0 {
			r.FirstSend = synthStart
		}
		r.LastSend = synthStart.Add(time.Duration(i) * r.Elapsed / time.Duration(s.requests))
		if s.failEvery > 0 && i%s.failEvery == 0 {
			r.Failed++
			tick.Failed++
			r.Errors[s.failClass]++
			if _, ok := r.ErrorSamples[s.failClass]; !ok {
				r.ErrorSamples[s.failClass] = s.failMessage
			}
			continue
		}
		r.Succeeded++
		r.Good++
		ttft := s.ttft + time.Duration(rng.Int64N(int64(s.ttftSpread)+1))
		e2e := ttft
		if s.noStream {
			r.TTFT.Record(e2e)
		} else {
			r.TTFT.Record(ttft)
			for range s.tokens - 1 {
				gap := s.itl/2 + time.Duration(rng.Int64N(int64(s.itl)+1))
				r.ITL.Record(gap)
				e2e += gap
			}
			if s.tokens > 1 {
				r.TPOT.Record((e2e - ttft) / time.Duration(s.tokens-1))
			}
		}
		r.TTFB.Record(ttft / 2)
		r.E2E.Record(e2e)
		if r.TTFTFromIntended != nil {
			r.TTFTFromIntended.Record(ttft + time.Millisecond)
			r.E2EFromIntended.Record(e2e + time.Millisecond)
		}
		if i < 8 {
			r.DNS.Record(200 * time.Microsecond)
			r.Connect.Record(300 * time.Microsecond)
		}
		r.TokensPerSecond.Record(float64(s.tokens) / e2e.Seconds())
		r.OutputTokens.Record(float64(s.tokens))
		r.InputTokensTotal += 12
		r.InputTokensCounted++
		r.OutputTokensTotal += int64(s.tokens)
		tick.OutputTokens += int64(s.tokens)
		r.TokensFromUsage++
		if r.Priced {
			r.InputCost += r.Price.Cost(12, 0)
			r.OutputCost += r.Price.Cost(0, int64(s.tokens))
		}
	}
	return r
}

// synthFile builds a File from made-up results, with fixed metadata.
func synthFile(t testing.TB, ss ...synth) *report.File {
	t.Helper()
	var rs []*lens.Result
	for _, s := range ss {
		rs = append(rs, s.result())
	}
	f, err := report.FromResults(rs, report.Metadata{
		Version:    "v1.2.3",
		ConfigHash: "c0ffee",
		SystemInfo: report.SystemInfo{OS: "linux", Arch: "amd64", CPUCount: 8, GoVersion: "go1.25.0", Hostname: "ci-runner"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// chatSynth is a streaming chat result of n requests.
func chatSynth(model string, n int, seed uint64) synth {
	return synth{
		scenario: "chat", provider: "openai", model: model, requests: n,
		ttft: 80 * time.Millisecond, ttftSpread: 120 * time.Millisecond,
		itl: 8 * time.Millisecond, tokens: 24, seconds: 6, priced: true, seed: seed,
	}
}

func renderHTML(t *testing.T, f *report.File, opts report.HTMLOptions) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := report.WriteHTML(&buf, f, opts); err != nil {
		t.Fatalf("WriteHTML: %v", err)
	}
	return buf.Bytes()
}

func parseHTML(t *testing.T, b []byte) *html.Node {
	t.Helper()
	doc, err := html.Parse(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("parse the report: %v", err)
	}
	return doc
}

// walk calls fn on n and every node below it, depth first, in document
// order.
func walk(n *html.Node, fn func(*html.Node)) {
	fn(n)
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		walk(c, fn)
	}
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func hasClass(n *html.Node, class string) bool {
	for _, c := range strings.Fields(attr(n, "class")) {
		if c == class {
			return true
		}
	}
	return false
}

func textOf(n *html.Node) string {
	var b strings.Builder
	walk(n, func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
	})
	return strings.Join(strings.Fields(b.String()), " ")
}

// The elements a report may hold: anything else (script, img, iframe,
// object, a foreign element) came from a string that was not escaped.
var allowedElements = map[string]bool{
	"html": true, "head": true, "body": true, "meta": true, "title": true, "style": true,
	"header": true, "main": true, "footer": true, "nav": true, "section": true, "article": true,
	"div": true, "h1": true, "h2": true, "h3": true, "h4": true, "p": true, "a": true,
	"dl": true, "dt": true, "dd": true, "ul": true, "li": true,
	"table": true, "thead": true, "tbody": true, "tr": true, "th": true, "td": true,
	"figure": true, "figcaption": true,
	"svg": true, "desc": true, "line": true, "rect": true, "path": true, "polygon": true, "text": true,
}

// checkMarkup fails t when the parsed report holds an element or an
// attribute that the report never writes, or a link that leaves the page.
func checkMarkup(t *testing.T, doc *html.Node) {
	t.Helper()
	walk(doc, func(n *html.Node) {
		if n.Type != html.ElementNode {
			return
		}
		if !allowedElements[n.Data] {
			t.Errorf("unexpected element <%s> in the report", n.Data)
		}
		for _, a := range n.Attr {
			if strings.HasPrefix(strings.ToLower(a.Key), "on") || a.Key == "src" || a.Key == "srcset" || a.Key == "formaction" {
				t.Errorf("unexpected attribute %s=%q on <%s>", a.Key, a.Val, n.Data)
			}
			if a.Key == "href" && !strings.HasPrefix(a.Val, "#") {
				t.Errorf("link out of the page: <%s href=%q>", n.Data, a.Val)
			}
		}
	})
}

// numberRE matches the numbers of SVG geometry attributes.
var numberRE = regexp.MustCompile(`[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?`)

// checkGeometry fails t when an SVG coordinate of the report is not a
// finite number inside its chart (with a margin for labels).
func checkGeometry(t *testing.T, doc *html.Node) {
	t.Helper()
	geometric := map[string]bool{"x": true, "y": true, "x1": true, "y1": true, "x2": true, "y2": true,
		"width": true, "height": true, "d": true, "points": true, "transform": true, "viewBox": true}
	charts := 0
	walk(doc, func(n *html.Node) {
		if n.Type != html.ElementNode || n.Data != "svg" || !hasClass(n, "chart") {
			return
		}
		charts++
		vb := numberRE.FindAllString(attr(n, "viewBox"), -1)
		if len(vb) != 4 {
			t.Errorf("chart %q: viewBox %q", attr(n.Parent, "id"), attr(n, "viewBox"))
			return
		}
		w, _ := strconv.ParseFloat(vb[2], 64)
		h, _ := strconv.ParseFloat(vb[3], 64)
		walk(n, func(e *html.Node) {
			if e.Type != html.ElementNode {
				return
			}
			for _, a := range e.Attr {
				if !geometric[a.Key] {
					continue
				}
				v := a.Val
				if strings.Contains(v, "NaN") || strings.Contains(v, "Inf") {
					t.Errorf("chart %q: <%s %s=%q>", attr(n.Parent, "id"), e.Data, a.Key, v)
					continue
				}
				if a.Key == "transform" {
					v = strings.TrimPrefix(v, "rotate(")
				}
				for _, s := range numberRE.FindAllString(v, -1) {
					x, err := strconv.ParseFloat(s, 64)
					if err != nil || x < -360 || x > max(w, h)+100 {
						t.Errorf("chart %q: <%s %s=%q>: %q is outside the chart", attr(n.Parent, "id"), e.Data, a.Key, a.Val, s)
					}
				}
			}
		})
	})
	if charts == 0 {
		t.Log("no charts drawn")
	}
}

func TestWriteHTMLEscapes(t *testing.T) {
	const (
		script = `<script>alert(1)</script>`
		img    = `"><img src=x onerror=alert(2)>`
		quote  = `' onmouseover='alert(3)`
		style  = `</style><script>alert(4)</script>`
	)
	s := chatSynth(script+img, 40, 1)
	s.scenario = img + script
	s.provider = quote + style
	s.failEvery, s.failClass, s.failMessage = 5, lens.ErrorClass(script), `upstream said `+img+` & `+style
	f := synthFile(t, s)
	f.Metadata.Version = img
	f.Metadata.ConfigHash = script
	f.Metadata.SystemInfo.Hostname = style
	f.Metadata.SystemInfo.GoVersion = quote
	f.Metadata.SystemInfo.OS = `<svg onload=alert(5)>`
	title := `<b>title</b>` + script

	out := renderHTML(t, f, report.HTMLOptions{Title: title})
	for _, bad := range []string{"<script", "<img", "<b>", "<svg onload"} {
		if i := bytes.Index(bytes.ToLower(out), []byte(bad)); i >= 0 {
			t.Errorf("output holds unescaped %q: ...%s...", bad, out[max(0, i-80):min(len(out), i+80)])
		}
	}
	doc := parseHTML(t, out)
	checkMarkup(t, doc)
	checkGeometry(t, doc)

	// Escaped, each string is shown as the text it is.
	text := textOf(doc)
	for _, want := range []string{s.scenario, s.model, s.provider, s.failMessage, f.Metadata.Version,
		f.Metadata.ConfigHash, f.Metadata.SystemInfo.Hostname, title, string(s.failClass)} {
		if !strings.Contains(text, strings.Join(strings.Fields(want), " ")) {
			t.Errorf("the page does not show %q as text", want)
		}
	}
}

// outline describes the structure of a report: headings, tables with their
// columns and row counts, charts with what they draw, and notes, without
// coordinates.
func outline(doc *html.Node) string {
	var b strings.Builder
	walk(doc, func(n *html.Node) {
		if n.Type != html.ElementNode {
			return
		}
		switch {
		case n.Data == "title" && (n.Parent == nil || n.Parent.Data == "head"):
			fmt.Fprintf(&b, "title %s\n", textOf(n))
		case n.Data == "h1" || n.Data == "h2" || n.Data == "h3":
			fmt.Fprintf(&b, "%s %s\n", n.Data, textOf(n))
		case n.Data == "h4" && (n.Parent == nil || n.Parent.Data != "figure"):
			fmt.Fprintf(&b, "  h4 %s\n", textOf(n))
		case n.Data == "p" && (hasClass(n, "banner") || hasClass(n, "empty")) && n.Parent != nil && n.Parent.Data != "figure":
			fmt.Fprintf(&b, "  p.%s %s\n", attr(n, "class"), textOf(n))
		case n.Data == "dl":
			var dts []string
			walk(n, func(e *html.Node) {
				if e.Type == html.ElementNode && e.Data == "dt" {
					dts = append(dts, textOf(e))
				}
			})
			fmt.Fprintf(&b, "  dl.%s %s\n", attr(n, "class"), strings.Join(dts, " | "))
		case n.Data == "table":
			var ths, rows []string
			walk(n, func(e *html.Node) {
				if e.Type != html.ElementNode {
					return
				}
				if e.Data == "th" {
					ths = append(ths, textOf(e))
				}
				if e.Data == "tr" && e.Parent != nil && e.Parent.Data == "tbody" {
					if first := e.FirstChild; first != nil {
						rows = append(rows, textOf(first))
					}
				}
			})
			fmt.Fprintf(&b, "  table.%s [%s] rows: %s\n", attr(n, "class"), strings.Join(ths, " | "), strings.Join(rows, " | "))
		case n.Data == "figure":
			fmt.Fprintf(&b, "  figure #%s", attr(n, "id"))
			counts := map[string]int{}
			var legend []string
			var axisTitles []string
			walk(n, func(e *html.Node) {
				if e.Type != html.ElementNode {
					return
				}
				switch {
				case e.Data == "h4":
					fmt.Fprintf(&b, " %q", textOf(e))
				case e.Data == "p" && hasClass(e, "empty"):
					fmt.Fprintf(&b, " empty: %s", textOf(e))
				case e.Data == "path" && hasClass(e, "series"):
					counts["lines"]++
				case e.Data == "rect" && hasClass(e, "bar"):
					counts["bars"]++
				case e.Data == "polygon" && hasClass(e, "mark"):
					counts["marks"]++
				case e.Data == "text" && hasClass(e, "axis-title"):
					axisTitles = append(axisTitles, textOf(e))
				case e.Data == "li":
					legend = append(legend, textOf(e))
				case e.Data == "figcaption":
					counts["caption"]++
				}
			})
			if len(axisTitles) > 0 {
				fmt.Fprintf(&b, " axes [%s]", strings.Join(axisTitles, " | "))
			}
			fmt.Fprintf(&b, " lines %d", counts["lines"])
			fmt.Fprintf(&b, " bars %v", counts["bars"] > 0)
			fmt.Fprintf(&b, " failure marks %v", counts["marks"] > 0)
			if len(legend) > 0 {
				fmt.Fprintf(&b, " legend [%s]", strings.Join(legend, " | "))
			}
			if counts["caption"] > 0 {
				b.WriteString(" +caption")
			}
			b.WriteString("\n")
		}
	})
	return b.String()
}

func TestWriteHTMLStructure(t *testing.T) {
	a := chatSynth("gpt-4o-mini", 120, 1)
	b := chatSynth("gpt-4o", 60, 2)
	b.ttft, b.ttftSpread = 200*time.Millisecond, 500*time.Millisecond
	b.failEvery, b.failClass, b.failMessage = 7, lens.ClassRateLimited, "429 Too Many Requests: rate limit reached"
	c := synth{scenario: "batch", provider: "openai", model: "gpt-4o-mini", requests: 30, noStream: true,
		ttft: 300 * time.Millisecond, ttftSpread: 200 * time.Millisecond, tokens: 64, seconds: 3, rate: 10, seed: 3}
	f := synthFile(t, a, b, c)
	f.Metadata.Interrupted = true

	doc := parseHTML(t, renderHTML(t, f, report.HTMLOptions{}))
	checkMarkup(t, doc)
	checkGeometry(t, doc)
	got := outline(doc)
	golden := filepath.Join("testdata", "html_structure.golden")
	if updating() {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("structure of the report differs from %s (go test -update rewrites it):\n%s", golden, lineDiff(string(want), got))
	}
}

// lineDiff lists the lines only in want (-) and only in got (+), in order.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	i, j := 0, 0
	for i < len(w) || j < len(g) {
		switch {
		case i < len(w) && j < len(g) && w[i] == g[j]:
			i++
			j++
		case j < len(g) && !contains(w[i:], g[j]):
			fmt.Fprintf(&b, "+ %s\n", g[j])
			j++
		case i < len(w):
			fmt.Fprintf(&b, "- %s\n", w[i])
			i++
		default:
			j++
		}
	}
	return b.String()
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

func TestWriteHTMLDegenerate(t *testing.T) {
	one := chatSynth("one-request", 1, 1)
	allFail := chatSynth("all-fail", 12, 1)
	allFail.failEvery, allFail.failClass, allFail.failMessage = 1, lens.ClassHTTP5xx, "503 Service Unavailable"
	noStream := chatSynth("non-streaming", 20, 1)
	noStream.noStream = true
	oneToken := chatSynth("one-token", 20, 1)
	oneToken.tokens = 1
	wide := chatSynth("wide", 300, 1)
	wide.ttft, wide.ttftSpread = 2*time.Millisecond, 20*time.Second
	wide.itl = 30 * time.Microsecond
	long := chatSynth("long-run", 2000, 1)
	long.seconds = 1500
	long.failEvery, long.failClass, long.failMessage = 97, lens.ClassTimeout, "timeout"
	same := chatSynth("identical", 50, 1)
	same.ttftSpread, same.itl = 0, 0
	zero := chatSynth("zero", 10, 1)
	zero.ttft, zero.ttftSpread, zero.itl = 0, 0, 0

	for _, tc := range []struct {
		name string
		f    *report.File
		want []string // text the page shows
	}{
		{"nil file", nil, []string{"No results"}},
		{"no scenarios", &report.File{Format: report.Format, SchemaVersion: report.SchemaVersion}, []string{"No results"}},
		{"scenario without results", &report.File{Scenarios: []report.Scenario{{Name: "empty"}}}, []string{"No results in this scenario"}},
		{"one request", synthFile(t, one), []string{"Summary"}},
		{"all failures", synthFile(t, allFail), []string{"No successful requests: no TTFT", "503 Service Unavailable", "no ITL to draw"}},
		{"not streamed", synthFile(t, noStream), []string{"No ITL samples"}},
		{"one token", synthFile(t, oneToken), []string{"No ITL samples"}},
		{"wide range", synthFile(t, wide), []string{"logarithmic"}},
		{"long run", synthFile(t, long), []string{"Each bar is 13 s wide"}},
		{"identical values", synthFile(t, same), []string{"TTFT distribution"}},
		{"zero durations", synthFile(t, zero), []string{"TTFT distribution"}},
		{"empty timeline", func() *report.File {
			f := synthFile(t, one)
			f.Scenarios[0].Results[0].Metrics.Timeline = nil
			return f
		}(), []string{"no throughput to draw"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := renderHTML(t, tc.f, report.HTMLOptions{})
			if bytes.Contains(out, []byte("NaN")) || bytes.Contains(out, []byte("Inf")) {
				t.Errorf("the page holds NaN or Inf")
			}
			doc := parseHTML(t, out)
			checkMarkup(t, doc)
			checkGeometry(t, doc)
			text := textOf(doc)
			for _, w := range tc.want {
				if !strings.Contains(text, w) {
					t.Errorf("the page does not say %q", w)
				}
			}
		})
	}
}

func TestWriteHTMLCorruptHistogram(t *testing.T) {
	f := synthFile(t, chatSynth("gpt-4o-mini", 10, 1))
	f.Scenarios[0].Results[0].Metrics.Latency.TTFT.Histogram = "HISTFAAAAB3ZDM"
	err := report.WriteHTML(io.Discard, f, report.HTMLOptions{})
	if err == nil || !strings.Contains(err.Error(), "ttft") {
		t.Fatalf("WriteHTML of a corrupt TTFT histogram: err = %v, want one naming ttft", err)
	}
}

func TestWriteHTMLWriteError(t *testing.T) {
	f := synthFile(t, chatSynth("gpt-4o-mini", 10, 1))
	want := fmt.Errorf("disk full")
	err := report.WriteHTML(failingWriter{want}, f, report.HTMLOptions{})
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("WriteHTML to a failing writer: err = %v", err)
	}
}

type failingWriter struct{ err error }

func (w failingWriter) Write([]byte) (int, error) { return 0, w.err }

// rateLimitEvery answers every n-th request with OpenAI's 429 instead of
// sending it, and passes the others to base.
type rateLimitEvery struct {
	n    int64
	seen atomic.Int64
	base http.RoundTripper
}

func (rt *rateLimitEvery) RoundTrip(req *http.Request) (*http.Response, error) {
	if rt.seen.Add(1)%rt.n != 0 {
		return rt.base.RoundTrip(req)
	}
	if req.Body != nil {
		_, _ = io.Copy(io.Discard, req.Body)
		_ = req.Body.Close()
	}
	body := `{"error":{"message":"Rate limit reached for requests per min (RPM): Limit 500, Used 500. Please try again in 120ms.","type":"requests","param":null,"code":"rate_limit_exceeded"}}`
	return &http.Response{
		Status: "429 Too Many Requests", StatusCode: http.StatusTooManyRequests,
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header:        http.Header{"Content-Type": {"application/json"}, "Retry-After": {"1"}},
		Body:          io.NopCloser(strings.NewReader(body)),
		ContentLength: int64(len(body)),
		Request:       req,
	}, nil
}

// realisticFile runs three workloads against the fake for two seconds of
// virtual time, at the same time: two models of one streaming chat scenario
// (the slower one with a first-token timeout that some requests miss, both
// with a rate limit that refuses some requests), and an open-loop,
// non-streaming batch. Virtual time makes the file, and so the page drawn
// from it, the same on every machine however busy.
func realisticFile(t *testing.T) *report.File {
	t.Helper()
	var f *report.File
	synctest.Test(t, func(t *testing.T) { f = realisticRuns(t) })
	return f
}

func realisticRuns(t *testing.T) *report.File {
	type run struct {
		cfg fake.Config
		sc  lens.Scenario
	}
	runs := []run{
		{fake.Config{TTFT: fake.Normal(110*time.Millisecond, 25*time.Millisecond), ITL: fake.Uniform(2*time.Millisecond, 9*time.Millisecond), OutputTokens: 40, Seed: 1},
			lens.Scenario{Name: "chat", Model: "gpt-4o-mini", Concurrency: 16, RampUp: 300 * time.Millisecond}},
		{fake.Config{TTFT: fake.Uniform(180*time.Millisecond, 650*time.Millisecond), ITL: fake.Uniform(6*time.Millisecond, 14*time.Millisecond), OutputTokens: 40, Seed: 2},
			lens.Scenario{Name: "chat", Model: "gpt-4o", Concurrency: 16, RampUp: 300 * time.Millisecond, FirstTokenTimeout: 600 * time.Millisecond}},
		{fake.Config{TTFT: fake.Normal(250*time.Millisecond, 60*time.Millisecond), OutputTokens: 120, Seed: 3},
			lens.Scenario{Name: "batch-summaries", Model: "gpt-4o-mini", Rate: 25, NoStream: true}},
	}
	results := make([]*lens.Result, len(runs))
	errs := make([]error, len(runs))
	var wg sync.WaitGroup
	for i, r := range runs {
		tr := httpmock.NewMockTransport()
		fake.NewResponder(r.cfg).Register(tr, "http://fake.test")
		sc := r.sc
		sc.Provider = &providers.OpenAI{BaseURL: "http://fake.test/v1", APIKey: "sk-fake"}
		sc.Prompt = "Summarize the latest incident report in three sentences."
		sc.Duration = 2 * time.Second
		sc.Seed = uint64(i + 1)
		sc.Client = &http.Client{Transport: tr}
		if !sc.NoStream {
			sc.Client.Transport = &rateLimitEvery{n: 29, base: tr}
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = lens.Run(context.Background(), sc)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("run %d: %v", i, err)
		}
	}
	f, err := report.FromResults(results, report.Metadata{})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

package report

import (
	"bytes"
	"encoding/csv"
	"io"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mattn/go-runewidth"
	"golang.org/x/perf/benchfmt"

	"github.com/llm-latency-lens/lens"
	"github.com/llm-latency-lens/lens/providers"
)

// goldenFile is a deterministic file with two scenarios, one result with
// errors and retries, one unpriced model, and an open-loop scenario.
func goldenFile(t *testing.T) *File {
	t.Helper()
	a := withErrors(synthResult(1, 300, 1))
	b := synthResult(2, 200, 1.3)
	b.Model, b.Priced, b.InputCost, b.OutputCost = "llama-3.1-8b", false, 0, 0
	c := synthResult(3, 100, 0.8)
	c.Scenario, c.Rate, c.Concurrency = "open loop", 20, 0
	c.Good = 90
	f, err := FromResults([]*lens.Result{a, b, c}, Metadata{
		Version:    "v0.1.0",
		ConfigHash: "sha256:abc",
		SystemInfo: SystemInfo{OS: "linux", Arch: "amd64", CPUCount: 8, GoVersion: "go1.25.0"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestWriteTableGolden(t *testing.T) {
	for _, color := range []bool{false, true} {
		var b bytes.Buffer
		if err := WriteTable(&b, goldenFile(t), TableOptions{Color: color}); err != nil {
			t.Fatal(err)
		}
		name := "table.golden"
		if color {
			name = "table-color.golden"
		} else if strings.Contains(b.String(), "\x1b[") {
			t.Error("colour without Color")
		}
		golden(t, name, b.Bytes())
	}
}

var ansiRE = regexp.MustCompile("\x1b\\[[0-9;]*m")

// Box tables line up by display width whatever the script: every line of
// a table is as wide as its top border.
func TestWriteTableUnicodeWidths(t *testing.T) {
	r := synthResult(1, 50, 1)
	r.Provider, r.Model = "通义千问", "qwen-max-中文-🚀-e\u0301"
	f, _ := FromResults([]*lens.Result{r}, Metadata{})
	for _, color := range []bool{false, true} {
		var b bytes.Buffer
		if err := WriteTable(&b, f, TableOptions{Color: color}); err != nil {
			t.Fatal(err)
		}
		width := -1
		tables := 0
		for _, line := range strings.Split(b.String(), "\n") {
			plain := ansiRE.ReplaceAllString(line, "")
			switch {
			case strings.HasPrefix(plain, "┌"):
				width = runewidth.StringWidth(plain)
				tables++
			case width >= 0 && (strings.HasPrefix(plain, "│") || strings.HasPrefix(plain, "├") || strings.HasPrefix(plain, "└")):
				if w := runewidth.StringWidth(plain); w != width {
					t.Errorf("color=%v: line %q is %d wide, table %d", color, plain, w, width)
				}
				if strings.HasPrefix(plain, "└") {
					width = -1
				}
			}
		}
		if tables != 2 {
			t.Errorf("%d tables, want 2", tables)
		}
		if !strings.Contains(b.String(), "通义千问 - qwen-max-中文-🚀-e\u0301") {
			t.Error("summary lacks the provider - model name")
		}
	}
}

func TestWriteMarkdownGolden(t *testing.T) {
	var b bytes.Buffer
	if err := WriteMarkdown(&b, goldenFile(t)); err != nil {
		t.Fatal(err)
	}
	golden(t, "report.md.golden", b.Bytes())
}

func TestWriteCompareGolden(t *testing.T) {
	old := goldenFile(t)
	r := withErrors(synthResult(11, 300, 1.25))
	newer, _ := FromResults([]*lens.Result{r}, Metadata{})
	c := Compare(old, newer, CompareOptions{})
	if !c.Regressed() {
		t.Fatal("+25% not a regression")
	}
	var md, txt bytes.Buffer
	if err := WriteCompareMarkdown(&md, c); err != nil {
		t.Fatal(err)
	}
	if err := WriteCompare(&txt, c, TableOptions{}); err != nil {
		t.Fatal(err)
	}
	golden(t, "compare.md.golden", md.Bytes())
	golden(t, "compare.golden", txt.Bytes())
}

func TestWriteJSON(t *testing.T) {
	f := goldenFile(t)
	for _, pretty := range []bool{false, true} {
		var b bytes.Buffer
		if err := WriteJSON(&b, f, pretty); err != nil {
			t.Fatal(err)
		}
		if got := strings.Count(strings.TrimSpace(b.String()), "\n") > 0; got != pretty {
			t.Errorf("pretty=%v: multi-line %v", pretty, got)
		}
		g, err := Decode(&b)
		if err != nil {
			t.Fatal(err)
		}
		if mustJSON(t, g) != mustJSON(t, f) {
			t.Errorf("pretty=%v: decoded file differs", pretty)
		}
	}
}

// readCSV reads the CSV text r, header first, and returns its rows (the
// header included) and the column of each header name.
func readCSV(t *testing.T, r io.Reader) (rows [][]string, col map[string]int) {
	t.Helper()
	rows, err := csv.NewReader(r).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) == 0 {
		t.Fatal("no header")
	}
	col = map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	return rows, col
}

func TestWriteCSV(t *testing.T) {
	f := goldenFile(t)
	var b bytes.Buffer
	if err := WriteCSV(&b, f, CSVOptions{}); err != nil {
		t.Fatal(err)
	}
	rows, col := readCSV(t, &b)
	if len(rows) != 4 {
		t.Fatalf("%d rows, want a header and 3", len(rows))
	}
	m := f.Scenarios[0].Results[0].Metrics
	check := func(row int, name string, want float64) {
		t.Helper()
		i, ok := col[name]
		if !ok {
			t.Fatalf("no column %s", name)
		}
		got, err := strconv.ParseFloat(rows[row][i], 64)
		if err != nil || got != want {
			t.Errorf("row %d %s = %q, want %v", row, name, rows[row][i], want)
		}
	}
	check(1, "total_requests", float64(m.TotalRequests))
	check(1, "ttft_p99_ms", m.Latency.TTFT.P99)
	check(1, "e2e_p50_ms", m.Latency.TotalDuration.Median)
	check(1, "tokens_per_second_mean", m.Latency.Throughput.Mean)
	check(1, "total_cost_usd", m.CostStats.TotalCost)
	if rows[2][col["total_cost_usd"]] != "" || rows[2][col["model"]] != "llama-3.1-8b" {
		t.Errorf("unpriced row: cost %q model %q", rows[2][col["total_cost_usd"]], rows[2][col["model"]])
	}
	for _, r := range rows {
		if len(r) != len(rows[0]) {
			t.Fatalf("ragged row: %d fields, header %d", len(r), len(rows[0]))
		}
	}
}

func TestWriteRawCSV(t *testing.T) {
	var jl bytes.Buffer
	rw := NewRawWriter(&jl)
	on := rw.OnRequest(&lens.Scenario{Name: "s,1", Model: "gpt-4o", Provider: &providers.OpenAI{}})
	on(&lens.RequestMetrics{Seq: 1, Start: time.Unix(10, 0), DNS: lens.Absent, Connect: lens.Absent, TLS: lens.Absent,
		Wrote: 5, TTFB: 7, TTFT: 9, TPOT: lens.Absent, E2E: 20, OutputTokens: 1, OutputEvents: 1, Attempts: 1})
	on(&lens.RequestMetrics{Seq: 2, Start: time.Unix(11, 0), DNS: lens.Absent, Connect: lens.Absent, TLS: lens.Absent,
		Wrote: lens.Absent, TTFB: lens.Absent, TTFT: lens.Absent, TPOT: lens.Absent, E2E: 30, Attempts: 3,
		Class: lens.ClassHTTP5xx, Err: errString("500: \"oops\"\nline two"), StatusCode: 500})
	if err := rw.Flush(); err != nil {
		t.Fatal(err)
	}
	lines := jl.String()
	var b bytes.Buffer
	if err := WriteRawCSV(&b, NewRawReader(strings.NewReader(lines))); err != nil {
		t.Fatal(err)
	}
	rawCSV := b.String()
	rows, h := readCSV(t, &b)
	if len(rows) != 3 {
		t.Fatalf("%d rows", len(rows))
	}
	if rows[1][h["ttft_ns"]] != "9" || rows[1][h["dns_ns"]] != "" || rows[1][h["scenario"]] != "s,1" || rows[1][h["cost_usd"]] == "" {
		t.Errorf("row 1: %v", rows[1])
	}
	if rows[2][h["status"]] != "failed" || rows[2][h["error_code"]] != "http_5xx" || rows[2][h["error_message"]] != "500: \"oops\"\nline two" || rows[2][h["attempts"]] != "3" {
		t.Errorf("row 2: %v", rows[2])
	}

	// The same through WriteCSV with Raw, from a file's embedded records.
	f := &File{RawRequests: nil}
	recs, _ := ReadRaw(strings.NewReader(lines))
	f.RawRequests = recs
	var b2 bytes.Buffer
	if err := WriteCSV(&b2, f, CSVOptions{Raw: true}); err != nil {
		t.Fatal(err)
	}
	if b2.String() != rawCSV {
		t.Errorf("WriteCSV Raw differs from WriteRawCSV:\n%s\n%s", b2.String(), rawCSV)
	}
}

// The benchmark text parses with golang.org/x/perf/benchfmt, the reader
// benchstat uses, with the units and values of the file. (benchfmt tidies
// units as benchstat shows them: ttft-p99-ns is read as ttft-p99-sec, in
// seconds; the name loses its "Benchmark" prefix.)
func TestWriteBenchfmt(t *testing.T) {
	f := goldenFile(t)
	f.Scenarios[0].Results[0].Model = "acme/model v2=x"
	var b bytes.Buffer
	if err := WriteBenchfmt(&b, f); err != nil {
		t.Fatal(err)
	}
	r := benchfmt.NewReader(&b, "new.txt")
	type result struct {
		name   string
		iters  int
		values map[string]float64
	}
	var got []result
	units := map[string]string{}
	for r.Scan() {
		switch rec := r.Result().(type) {
		case *benchfmt.Result:
			res := result{name: string(rec.Name.Full()), iters: rec.Iters, values: map[string]float64{}}
			for _, v := range rec.Values {
				res.values[v.Unit] = v.Value
			}
			got = append(got, res)
			if rec.GetConfig("goos") != "linux" || rec.GetConfig("goarch") != "amd64" {
				t.Errorf("config goos=%q goarch=%q", rec.GetConfig("goos"), rec.GetConfig("goarch"))
			}
		case *benchfmt.UnitMetadata:
			units[rec.Unit] = rec.Value
		case *benchfmt.SyntaxError:
			t.Errorf("syntax error: %v", rec)
		}
	}
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("%d results, want 3", len(got))
	}
	if units["ttft-p99-sec"] != "lower" || units["tokens/s"] != "higher" || units["errors"] != "lower" || len(units) != 14 {
		t.Errorf("unit metadata %v", units)
	}
	m := f.Scenarios[0].Results[0].Metrics
	g := got[0]
	if g.name != "Chat/provider=openai/model=acme_model_v2-x" || g.iters != int(m.TotalRequests) {
		t.Errorf("name %q iters %d", g.name, g.iters)
	}
	if g.values["ttft-p99-sec"] != float64(int64(m.Latency.TTFT.P99*1e6+0.5))/1e9 || g.values["e2e-p50-sec"] != float64(int64(m.Latency.TotalDuration.Median*1e6+0.5))/1e9 ||
		g.values["tokens/s"] != m.TokenStats.MeanTokensPerSecond || g.values["errors"] != m.ErrorRate() {
		t.Errorf("values %v", g.values)
	}
	if len(g.values) != len(lens.BenchUnits) {
		t.Errorf("%d values, want one per lens.BenchUnits (%d): %v", len(g.values), len(lens.BenchUnits), g.values)
	}
	if got[2].name != "Open_loop/provider=openai/model=gpt-4o-mini" {
		t.Errorf("name %q", got[2].name)
	}
}

// TestTableShowsRequestsMade: the table of a run that made fewer requests
// than asked (interrupted) says how many it made, and of how many.
func TestTableShowsRequestsMade(t *testing.T) {
	f := synthFile(1, 40, 1)
	f.Scenarios[0].Config.Requests = 100000
	var b bytes.Buffer
	if err := WriteTable(&b, f, TableOptions{}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "Requests: 40 of 100,000 asked") {
		t.Errorf("table:\n%s", b.String())
	}
	f.Scenarios[0].Config.Requests = 40
	b.Reset()
	if err := WriteTable(&b, f, TableOptions{}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "Requests: 40 |") {
		t.Errorf("table of a whole run:\n%s", b.String())
	}
}

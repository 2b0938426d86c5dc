package report

import (
	"bytes"
	"encoding/xml"
	"io"
	"os"
	"strings"
	"testing"
)

// FuzzDecode: Decode never panics, and a file it accepts survives a write
// and a read, merges with itself, compares with itself without a
// regression, and goes through every writer.
func FuzzDecode(f *testing.F) {
	var small bytes.Buffer
	WriteJSON(&small, synthFile(1, 20, 1), false)
	f.Add(small.Bytes())
	var withErrs bytes.Buffer
	g, _ := FromResults(nil, Metadata{})
	WriteJSON(&withErrs, g, true)
	f.Add(withErrs.Bytes())
	f.Add([]byte(`{"format":"lens-result","schema_version":1,"scenarios":[{"name":"a","results":[{"provider":"p","metrics":{"total_requests":1,"failed_requests":1,"errors":{"x":1},"latency":{"ttft":{"unit":"ms","histogram":""}}}}]}]}`))
	f.Add([]byte(`{"format":"lens-result","schema_version":3}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Decode(bytes.NewReader(data))
		if err != nil {
			return
		}
		var b bytes.Buffer
		if err := WriteJSON(&b, file, false); err != nil {
			t.Fatalf("WriteJSON of a decoded file: %v", err)
		}
		again, err := Decode(bytes.NewReader(b.Bytes()))
		if err != nil {
			t.Fatalf("re-decode: %v", err)
		}
		var b2 bytes.Buffer
		WriteJSON(&b2, again, false)
		if b.String() != b2.String() {
			t.Fatalf("round trip changed the file:\n%s\n%s", b.String(), b2.String())
		}
		if m, err := Merge(file, file); err == nil {
			if err := m.Validate(); err != nil {
				t.Fatalf("merged file invalid: %v", err)
			}
		}
		if c := Compare(file, file, CompareOptions{}); c.Regressed() {
			t.Fatalf("a file regressed against itself: %v", c.Regressions())
		}
		for _, w := range []func(io.Writer) error{
			func(w io.Writer) error { return WriteTable(w, file, TableOptions{Color: true}) },
			func(w io.Writer) error { return WriteMarkdown(w, file) },
			func(w io.Writer) error { return WriteCSV(w, file, CSVOptions{}) },
			func(w io.Writer) error { return WriteCSV(w, file, CSVOptions{Raw: true}) },
			func(w io.Writer) error { return WriteBenchfmt(w, file) },
			func(w io.Writer) error {
				return WriteHistogramLog(w, RawRequests(file.RawRequests), HistogramLogOptions{})
			},
		} {
			if err := w(io.Discard); err != nil {
				t.Fatalf("writer: %v", err)
			}
		}
	})
}

// FuzzTestEvents: the go test -json reader never panics, and the JUnit
// written from whatever it reads is well-formed XML with one test case per
// test.
func FuzzTestEvents(f *testing.F) {
	if b, err := os.ReadFile("testdata/gotest-lens.jsonl"); err == nil {
		f.Add(b)
	}
	f.Add([]byte(`{"Action":"run","Package":"p","Test":"TestA"}` + "\n" + `{"Action":"output","Package":"p","Test":"TestA","Output":"=== ATTR  TestA k v\n"}` + "\n" + `{"Action":"fail","Package":"p","Test":"TestA"}`))
	f.Add([]byte(`{"Action":"output","Package":"p","Output":"BenchmarkX-4 \t 10\t 5 ns/op\n"}`))
	f.Add([]byte("garbage\n{\"Action\":\"attr\",\"Package\":\"p\",\"Test\":\"T\",\"Key\":\"\\u0000\",\"Value\":\"\\ud800\"}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r := NewTestEventReader(bytes.NewReader(data))
		var events []TestEvent
		for r.Scan() {
			events = append(events, *r.Event())
		}
		var b bytes.Buffer
		if err := WriteJUnit(&b, events...); err != nil {
			t.Fatalf("WriteJUnit: %v", err)
		}
		var doc xSuites
		if err := xml.Unmarshal(b.Bytes(), &doc); err != nil {
			t.Fatalf("JUnit is not XML: %v\n%s", err, b.String())
		}
		tests := map[string]bool{}
		for _, e := range events {
			if e.Test != "" && e.Package != "" && e.Action != "build-output" && e.Action != "build-fail" {
				tests[e.Package+"\x00"+e.Test] = true
			}
		}
		n := 0
		for _, s := range doc.Suites {
			for _, c := range s.Cases {
				if c.Name != "[build failed]" {
					n++
				}
			}
		}
		if n < len(tests) {
			t.Fatalf("%d test cases for %d tests", n, len(tests))
		}
	})
}

// FuzzRawReader: the raw record reader never panics, and every record it
// reads writes back as one line that reads the same.
func FuzzRawReader(f *testing.F) {
	f.Add([]byte(`{"request_id":"a","seq":1,"timing":{"ttft_ns":5,"token_latencies_ns":[1,2]}}` + "\n"))
	f.Add([]byte("\n\n{}\n{"))
	f.Fuzz(func(t *testing.T, data []byte) {
		rr := NewRawReader(bytes.NewReader(data))
		for rr.Scan() {
			rec := *rr.Request()
			var b bytes.Buffer
			w := NewRawWriter(&b)
			if err := w.Write(&rec); err != nil {
				return // e.g. a timestamp JSON cannot hold
			}
			w.Flush()
			if strings.Count(b.String(), "\n") != 1 {
				t.Fatalf("record wrote %q", b.String())
			}
			back, err := ReadRaw(&b)
			if err != nil || len(back) != 1 {
				t.Fatalf("re-read: %v (%d records)", err, len(back))
			}
		}
	})
}

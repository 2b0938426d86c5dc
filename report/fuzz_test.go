package report

import (
	"bytes"
	"io"
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

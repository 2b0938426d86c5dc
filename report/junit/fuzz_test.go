package junit

import (
	"bytes"
	"encoding/xml"
	"os"
	"testing"
)

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
		if err := Write(&b, events...); err != nil {
			t.Fatalf("Write: %v", err)
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

package report

import (
	"bufio"
	"fmt"
	"io"

	"github.com/vmihailenco/msgpack/v5"
)

// WriteMsgpack writes f in MessagePack (the "binary" export of the LLM-Latency-Lens configuration, with
// codec messagepack): the same document as the JSON result file, with the
// same field names, in MessagePack's binary encoding. ReadMsgpack reads it
// back.
func WriteMsgpack(w io.Writer, f *File) error {
	enc := msgpack.NewEncoder(w)
	enc.SetCustomStructTag("json")
	enc.SetOmitEmpty(true)
	if err := enc.Encode(f); err != nil {
		return fmt.Errorf("report: write messagepack: %w", err)
	}
	return nil
}

// ReadMsgpack reads a result file written by WriteMsgpack and validates it
// like Decode.
func ReadMsgpack(r io.Reader) (*File, error) {
	dec := msgpack.NewDecoder(r)
	dec.SetCustomStructTag("json")
	var f File
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("report: read messagepack: %w", err)
	}
	if err := f.Validate(); err != nil {
		return nil, err
	}
	return &f, nil
}

// WriteMinimal writes one line per result: scenario, provider/model,
// requests and failures, TTFT p50 and p95, E2E p50 and output tokens per
// second (the console's "minimal" format); and, for a result with SLO
// gates, a second line with each gate's verdict, estimate, interval and
// flake risk.
func WriteMinimal(w io.Writer, f *File) error {
	bw := bufio.NewWriter(w)
	for _, sc := range f.Scenarios {
		for _, r := range sc.Results {
			m := &r.Metrics
			fmt.Fprintf(bw, "%s %s/%s: %d requests, %d failed; TTFT p50 %s p95 %s; E2E p50 %s; %.1f tokens/s\n",
				sc.Name, r.Provider, r.Model, m.TotalRequests, m.FailedRequests,
				minimalMs(m.Latency.TTFT, func(d *Distribution) float64 { return d.Median }),
				minimalMs(m.Latency.TTFT, func(d *Distribution) float64 { return d.P95 }),
				minimalMs(m.Latency.TotalDuration, func(d *Distribution) float64 { return d.Median }),
				m.TokenStats.MeanTokensPerSecond)
			if len(r.Gates) > 0 {
				fmt.Fprintf(bw, "%s %s/%s gates: %s\n", sc.Name, r.Provider, r.Model, gatesCell(r.Gates))
			}
		}
	}
	return bw.Flush()
}

// minimalMs formats one statistic of d in milliseconds, or "-" when d is absent
// or empty.
func minimalMs(d *Distribution, stat func(*Distribution) float64) string {
	if d == nil || d.Count == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1fms", stat(d))
}

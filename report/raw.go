package report

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"iter"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/llm-latency-lens/lens"
)

// NewRawRequest makes the record of one request m of scenario, run against
// provider and model. price is the model's price (nil: unknown, and the
// record's cost is null).
func NewRawRequest(m *lens.RequestMetrics, scenario, provider, model string, price *lens.Price) RawRequest {
	r := RawRequest{
		RequestID:    scenario + "/" + provider + "/" + model + "/" + strconv.FormatInt(m.Seq, 10),
		Seq:          m.Seq,
		Timestamp:    m.Start,
		Intended:     m.Intended,
		Scenario:     scenario,
		Provider:     provider,
		Model:        model,
		Warmup:       m.Warmup,
		Status:       m.Status(),
		Attempts:     m.Attempts,
		FinishReason: m.FinishReason,
		StatusCode:   m.StatusCode,
		Timing: RawTiming{
			QueueDelayNs:     int64(m.QueueDelay),
			DNSLookupNs:      nanos(m.DNS),
			TCPConnectNs:     nanos(m.Connect),
			TLSHandshakeNs:   nanos(m.TLS),
			RequestSendNs:    nanos(m.Wrote),
			TTFBNs:           nanos(m.TTFB),
			TTFTNs:           nanos(m.TTFT),
			TPOTNs:           nanos(m.TPOT),
			TotalDurationNs:  int64(m.E2E),
			TokenLatenciesNs: make([]int64, len(m.ITLs)),
			RetryWaitNs:      int64(m.RetryWait),
			ConnectionReused: m.Reused,
		},
		Tokens: RawTokens{
			CompletionTokens: m.OutputTokens,
			TokensPerSecond:  m.TokensPerSecond(),
			FromUsage:        m.TokensFromUsage,
			OutputEvents:     m.OutputEvents,
		},
	}
	if m.InputTokens >= 0 {
		in, all := m.InputTokens, m.InputTokens+m.OutputTokens
		r.Tokens.PromptTokens, r.Tokens.TotalTokens = &in, &all
	}
	for i, d := range m.ITLs {
		r.Timing.TokenLatenciesNs[i] = int64(d)
	}
	if price != nil {
		in, out := price.Cost(int64(max(m.InputTokens, 0)), 0), price.Cost(0, int64(m.OutputTokens))
		r.Cost = &RawCost{PromptCost: in, CompletionCost: out, TotalCost: in + out}
	}
	if !m.OK() {
		r.Error = &RawError{Code: string(m.Class), StatusCode: m.StatusCode, RetryAttempt: m.Attempts}
		if m.Err != nil {
			r.Error.Message = m.Err.Error()
		}
	}
	return r
}

// nanos is d in nanoseconds, or nil when the phase is absent (negative).
func nanos(d time.Duration) *int64 {
	if d < 0 {
		return nil
	}
	n := int64(d)
	return &n
}

// A RawWriter streams raw request records as JSON lines (one RawRequest per
// line), so that keeping them costs no memory per request. Its OnRequest
// method makes the Scenario.OnRequest hook for a scenario:
//
//	rw, err := report.CreateRawFile("raw.jsonl")
//	...
//	sc.OnRequest = rw.OnRequest(&sc)
//	res, err := lens.Run(ctx, sc)
//	err = rw.Close()
//
// A RawWriter is safe for concurrent use: requests of many workers and
// scenarios may share one. Records are written whole, in the order their
// requests ended. The first write error stops all writing; Err, Flush and
// Close return it.
type RawWriter struct {
	// Warmup, when set, keeps warmup requests too (marked "warmup": true).
	// By default they are dropped, as results drop them. Set it before the
	// first request.
	Warmup bool

	mu     sync.Mutex
	w      *bufio.Writer
	closer io.Closer
	n      int64
	err    error
}

// NewRawWriter returns a RawWriter writing to w. Close flushes it and does
// not close w.
func NewRawWriter(w io.Writer) *RawWriter {
	return &RawWriter{w: bufio.NewWriterSize(w, 64<<10)}
}

// CreateRawFile creates (or truncates) the file at path and returns a
// RawWriter writing to it; Close closes the file.
func CreateRawFile(path string) (*RawWriter, error) {
	fh, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	rw := NewRawWriter(fh)
	rw.closer = fh
	return rw, nil
}

// OnRequest returns a function for sc.OnRequest that writes each finished
// request of sc. It reads sc's name, provider, model and price now (the
// price as lens resolves it: sc.Price, else lens.DefaultPricing).
func (rw *RawWriter) OnRequest(sc *lens.Scenario) func(*lens.RequestMetrics) {
	name, model := sc.Name, sc.Model
	provider := ""
	if sc.Provider != nil {
		provider = sc.Provider.Name()
	}
	var price *lens.Price
	if sc.Price != nil {
		p := *sc.Price
		price = &p
	} else if p, ok := lens.DefaultPricing.Lookup(provider, model); ok {
		price = &p
	}
	return func(m *lens.RequestMetrics) {
		if m.Warmup && !rw.Warmup {
			return
		}
		rec := NewRawRequest(m, name, provider, model, price)
		rw.Write(&rec)
	}
}

// Write writes one record. Its error, also kept for Err, is the first
// error of any write.
func (rw *RawWriter) Write(rec *RawRequest) error {
	line, err := json.Marshal(rec)
	rw.mu.Lock()
	defer rw.mu.Unlock()
	if rw.err != nil {
		return rw.err
	}
	if err != nil {
		rw.err = fmt.Errorf("report: encode raw request %s: %w", rec.RequestID, err)
		return rw.err
	}
	line = append(line, '\n')
	if _, err := rw.w.Write(line); err != nil {
		rw.err = fmt.Errorf("report: write raw request: %w", err)
		return rw.err
	}
	rw.n++
	return nil
}

// Count returns the number of records written.
func (rw *RawWriter) Count() int64 {
	rw.mu.Lock()
	defer rw.mu.Unlock()
	return rw.n
}

// Err returns the first error of any write.
func (rw *RawWriter) Err() error {
	rw.mu.Lock()
	defer rw.mu.Unlock()
	return rw.err
}

// Flush writes buffered records to the underlying writer. An interrupted
// run calls it (or Close) before exiting, so that every finished request is
// on disk.
func (rw *RawWriter) Flush() error {
	rw.mu.Lock()
	defer rw.mu.Unlock()
	return rw.flush()
}

func (rw *RawWriter) flush() error {
	if rw.err != nil {
		return rw.err
	}
	if err := rw.w.Flush(); err != nil {
		rw.err = fmt.Errorf("report: write raw requests: %w", err)
	}
	return rw.err
}

// Close flushes and, for a RawWriter from CreateRawFile, syncs and closes
// the file. Writes after Close fail.
func (rw *RawWriter) Close() error {
	rw.mu.Lock()
	defer rw.mu.Unlock()
	err := rw.flush()
	if rw.closer != nil {
		if f, ok := rw.closer.(*os.File); ok && err == nil {
			if serr := f.Sync(); serr != nil {
				err = fmt.Errorf("report: write raw requests: %w", serr)
			}
		}
		if cerr := rw.closer.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("report: write raw requests: %w", cerr)
		}
		rw.closer = nil
	}
	if rw.err == nil {
		rw.err = errClosed
	}
	return err
}

var errClosed = fmt.Errorf("report: raw writer is closed")

// maxRawLine bounds one raw record line: a request with a million output
// tokens makes a line of about 10 MB.
const maxRawLine = 64 << 20

// A RawReader reads the JSON lines a RawWriter wrote, one record at a time,
// in the manner of bufio.Scanner:
//
//	rr := report.NewRawReader(f)
//	for rr.Scan() {
//		rec := rr.Request()
//		...
//	}
//	if err := rr.Err(); err != nil { ... }
//
// Blank lines are skipped. A line that is not a record stops the reading
// with an error naming the line.
type RawReader struct {
	s    *bufio.Scanner
	rec  RawRequest
	line int
	err  error
}

// NewRawReader returns a RawReader reading from r.
func NewRawReader(r io.Reader) *RawReader {
	s := bufio.NewScanner(r)
	s.Buffer(make([]byte, 0, 64<<10), maxRawLine)
	return &RawReader{s: s}
}

// Scan advances to the next record, which Request then returns. It returns
// false at the end of the input or on an error (see Err).
func (rr *RawReader) Scan() bool {
	if rr.err != nil {
		return false
	}
	for rr.s.Scan() {
		rr.line++
		b := rr.s.Bytes()
		if len(trimSpace(b)) == 0 {
			continue
		}
		rr.rec = RawRequest{}
		if err := json.Unmarshal(b, &rr.rec); err != nil {
			rr.err = fmt.Errorf("report: raw requests line %d: %w", rr.line, err)
			return false
		}
		return true
	}
	if err := rr.s.Err(); err != nil {
		rr.err = fmt.Errorf("report: raw requests line %d: %w", rr.line+1, err)
	}
	return false
}

// Request returns the record Scan read. It is overwritten by the next Scan.
func (rr *RawReader) Request() *RawRequest { return &rr.rec }

// Err returns the error that stopped Scan, or nil at the end of the input.
func (rr *RawReader) Err() error { return rr.err }

func trimSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t' || b[0] == '\r') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}

// All returns an iterator over the records left to read. It stops at the
// end of the input or at an error, which Err then returns.
func (rr *RawReader) All() iter.Seq[*RawRequest] {
	return func(yield func(*RawRequest) bool) {
		for rr.Scan() {
			if !yield(rr.Request()) {
				return
			}
		}
	}
}

// RawRequests returns an iterator over the records of rs, as RawReader.All
// does for a stream.
func RawRequests(rs []RawRequest) iter.Seq[*RawRequest] {
	return func(yield func(*RawRequest) bool) {
		for i := range rs {
			if !yield(&rs[i]) {
				return
			}
		}
	}
}

// ReadRaw reads every record from r.
func ReadRaw(r io.Reader) ([]RawRequest, error) {
	var out []RawRequest
	rr := NewRawReader(r)
	for rr.Scan() {
		out = append(out, *rr.Request())
	}
	return out, rr.Err()
}

// EmbedRaw appends the records read from r to f.RawRequests, so that the
// result file carries them (raw_requests, as in the LLM-Latency-Lens schema).
func EmbedRaw(f *File, r io.Reader) error {
	rr := NewRawReader(r)
	for rr.Scan() {
		f.RawRequests = append(f.RawRequests, *rr.Request())
	}
	return rr.Err()
}

package lens

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"time"
)

// TraceRequest is one request of a recorded trace: when it arrived, from
// the trace's first request, and its prompt and output lengths in tokens.
type TraceRequest struct {
	At           time.Duration
	InputTokens  int
	OutputTokens int
}

// ReadTraceFile reads a trace file; see ReadTrace.
func ReadTraceFile(path string) ([]TraceRequest, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("lens: trace: %w", err)
	}
	defer f.Close()
	tr, err := ReadTrace(f)
	if err != nil {
		return nil, fmt.Errorf("%w (file %s)", err, path)
	}
	return tr, nil
}

// ReadTrace reads a trace of requests, one per line, in JSON Lines or in
// CSV with a header row (the form of the public Azure LLM inference
// traces). Each request has three fields, their names matched without
// regard to case:
//
//   - the arrival time: TIMESTAMP, timestamp or time. A number is seconds
//     (from any origin, an epoch for instance); a string is a date and time,
//     RFC 3339 or "2006-01-02 15:04:05.9999999" (the Azure traces' form,
//     taken as UTC).
//   - the prompt length: ContextTokens, input_tokens or prompt_tokens.
//   - the output length: GeneratedTokens, output_tokens or
//     completion_tokens.
//
// Other fields are left alone. Times are made relative to the first
// request's, and must not decrease from one line to the next; token counts
// are whole numbers, at least 0. Blank lines are skipped. An error names
// the line and the field.
func ReadTrace(r io.Reader) ([]TraceRequest, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	// The first non-blank byte tells JSON Lines from CSV.
	for {
		b, err := br.Peek(1)
		if err != nil {
			if err == io.EOF {
				return nil, errors.New("lens: trace: no requests")
			}
			return nil, fmt.Errorf("lens: trace: %w", err)
		}
		if b[0] != ' ' && b[0] != '\t' && b[0] != '\r' && b[0] != '\n' && b[0] != 0xEF {
			if b[0] == '{' {
				return readTraceJSONL(br)
			}
			return readTraceCSV(br)
		}
		if b[0] == 0xEF { // a UTF-8 byte order mark
			if bom, _ := br.Peek(3); bytes.Equal(bom, []byte{0xEF, 0xBB, 0xBF}) {
				br.Discard(3)
				continue
			}
			return readTraceCSV(br)
		}
		br.Discard(1)
	}
}

// The accepted names of each field, lower case.
var (
	traceTimeKeys   = []string{"timestamp", "time"}
	traceInputKeys  = []string{"contexttokens", "input_tokens", "prompt_tokens"}
	traceOutputKeys = []string{"generatedtokens", "output_tokens", "completion_tokens"}
)

// traceBuilder turns raw fields into TraceRequests, relative to the first.
type traceBuilder struct {
	out   []TraceRequest
	first int64 // nanoseconds
	prev  int64
}

// add reads the request of trace line line through get (as traceFields
// does) and appends it.
func (b *traceBuilder) add(line int, get func(keys []string) (name, text string, ok bool)) error {
	at, in, out, err := traceFields(get)
	if err != nil {
		return fmt.Errorf("lens: trace line %d: %w", line, err)
	}
	if len(b.out) == 0 {
		b.first, b.prev = at, at
	}
	if at < b.prev {
		return fmt.Errorf("lens: trace line %d: time %s is before the previous request's (%s): a trace must be in time order",
			line, fmtSecs(at-b.first), fmtSecs(b.prev-b.first))
	}
	if at-b.first < 0 { // past the range of a time.Duration
		return fmt.Errorf("lens: trace line %d: more than 292 years after the first request", line)
	}
	b.prev = at
	b.out = append(b.out, TraceRequest{At: time.Duration(at - b.first), InputTokens: in, OutputTokens: out})
	return nil
}

func fmtSecs(ns int64) string { return time.Duration(ns).String() }

func (b *traceBuilder) result() ([]TraceRequest, error) {
	if len(b.out) == 0 {
		return nil, errors.New("lens: trace: no requests")
	}
	return b.out, nil
}

func readTraceJSONL(r *bufio.Reader) ([]TraceRequest, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	var b traceBuilder
	line := 0
	for sc.Scan() {
		line++
		text := bytes.TrimSpace(sc.Bytes())
		if len(text) == 0 {
			continue
		}
		var fields map[string]json.RawMessage
		if err := json.Unmarshal(text, &fields); err != nil {
			return nil, fmt.Errorf("lens: trace line %d: not a JSON object: %w", line, err)
		}
		lower := make(map[string]json.RawMessage, len(fields))
		for k, v := range fields {
			lower[strings.ToLower(k)] = v
		}
		get := func(keys []string) (string, string, bool) {
			for _, k := range keys {
				if v, ok := lower[k]; ok {
					s := string(bytes.TrimSpace(v))
					if len(s) > 0 && s[0] == '"' {
						var str string
						if err := json.Unmarshal(v, &str); err == nil {
							return k, str, true
						}
					}
					return k, s, true
				}
			}
			return keys[0], "", false
		}
		if err := b.add(line, get); err != nil {
			return nil, err
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, fmt.Errorf("lens: trace line %d: longer than 1 MiB", line+1)
		}
		return nil, fmt.Errorf("lens: trace line %d: %w", line+1, err)
	}
	return b.result()
}

func readTraceCSV(r *bufio.Reader) ([]TraceRequest, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	header, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("lens: trace: CSV header: %w", err)
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.ToLower(strings.TrimSpace(h))] = i
	}
	var missing []string
	for _, keys := range [][]string{traceTimeKeys, traceInputKeys, traceOutputKeys} {
		found := false
		for _, k := range keys {
			_, found = col[k]
			if found {
				break
			}
		}
		if !found {
			missing = append(missing, strings.Join(keys, " or "))
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("lens: trace: the CSV header %q lacks a column %s", strings.Join(header, ","), strings.Join(missing, ", and one "))
	}
	var b traceBuilder
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("lens: trace: %w", err)
		}
		line, _ := cr.FieldPos(0)
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue
		}
		get := func(keys []string) (string, string, bool) {
			for _, k := range keys {
				if i, ok := col[k]; ok {
					if i >= len(rec) {
						return k, "", false
					}
					return k, strings.TrimSpace(rec[i]), true
				}
			}
			return keys[0], "", false
		}
		if err := b.add(line, get); err != nil {
			return nil, err
		}
	}
	return b.result()
}

// traceFields reads one request's fields through get, which returns a
// field's name as found, its text and whether it is there.
func traceFields(get func(keys []string) (name, text string, ok bool)) (at int64, in, out int, err error) {
	name, text, ok := get(traceTimeKeys)
	if !ok {
		return 0, 0, 0, fmt.Errorf("no %s field", strings.Join(traceTimeKeys, " or "))
	}
	if at, err = traceTime(text); err != nil {
		return 0, 0, 0, fmt.Errorf("%s: %w", name, err)
	}
	count := func(keys []string) (int, error) {
		name, text, ok := get(keys)
		if !ok {
			return 0, fmt.Errorf("no %s field", strings.Join(keys, " or "))
		}
		n, err := strconv.Atoi(text)
		if err != nil {
			f, ferr := strconv.ParseFloat(text, 64)
			if ferr != nil || f != math.Trunc(f) || f > math.MaxInt32 || f < math.MinInt32 {
				return 0, fmt.Errorf("%s: %q is not a whole number", name, text)
			}
			n = int(f)
		}
		if n < 0 {
			return 0, fmt.Errorf("%s: %d tokens, want 0 or more", name, n)
		}
		if n > maxTraceTokens {
			return 0, fmt.Errorf("%s: %d tokens, want at most %d", name, n, maxTraceTokens)
		}
		return n, nil
	}
	if in, err = count(traceInputKeys); err != nil {
		return 0, 0, 0, err
	}
	if out, err = count(traceOutputKeys); err != nil {
		return 0, 0, 0, err
	}
	return at, in, out, nil
}

// maxTraceTokens bounds a trace's token counts: far beyond any model's
// context, and small enough that a synthetic prompt of that length fits in
// memory many times over.
const maxTraceTokens = 10_000_000

// traceTimeLayouts are the date-time forms a trace's time may take.
var traceTimeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999Z07:00",
}

// traceTime returns a trace's time in nanoseconds from the Unix epoch (or
// from whatever origin its numbers count): exactly, for decimal seconds
// with up to nine places and for dates.
func traceTime(s string) (int64, error) {
	if s == "" {
		return 0, errors.New("empty")
	}
	if ns, ok := decimalNanos(s); ok {
		return ns, nil
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		if math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > maxTraceSeconds {
			return 0, fmt.Errorf("%q is not a time in range", s)
		}
		return int64(math.Round(f * 1e9)), nil
	}
	for _, layout := range traceTimeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			if y := t.Year(); y < 1700 || y > 2200 {
				return 0, fmt.Errorf("%q is out of range", s)
			}
			return t.UnixNano(), nil
		}
	}
	return 0, fmt.Errorf("%q is neither seconds nor a date and time (2006-01-02 15:04:05.9999999 or RFC 3339)", s)
}

// maxTraceSeconds bounds a trace's numeric times (about 290 years), so that
// nanoseconds fit in an int64 and differences of two do too.
const maxTraceSeconds = 1 << 33

// decimalNanos parses [-]digits[.digits] as seconds, exactly, to the
// nanosecond (places beyond nine are dropped).
func decimalNanos(s string) (int64, bool) {
	neg := strings.HasPrefix(s, "-")
	whole, frac, _ := strings.Cut(strings.TrimPrefix(s, "-"), ".")
	if whole == "" && frac == "" {
		return 0, false
	}
	for _, part := range []string{whole, frac} {
		for _, c := range part {
			if c < '0' || c > '9' {
				return 0, false
			}
		}
	}
	if len(whole) > 10 {
		return 0, false
	}
	sec, _ := strconv.ParseInt("0"+whole, 10, 64)
	if sec > maxTraceSeconds {
		return 0, false
	}
	frac = (frac + "000000000")[:9]
	nsec, _ := strconv.ParseInt(frac, 10, 64)
	ns := sec*1e9 + nsec
	if neg {
		ns = -ns
	}
	return ns, true
}

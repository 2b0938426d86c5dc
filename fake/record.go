package fake

import (
	"slices"
	"sync"
	"time"
)

// A Record is the fake's ground truth about one request: what it planned and
// when it actually wrote each content event. A client that measures the fake
// can be checked against it.
type Record struct {
	// Seq is the request's number: 0 for the first request the Server or
	// Responder handled, then 1, 2, ... in the order the handlers started.
	Seq uint64

	// Path is the request's URL path; Model is the model the response
	// names.
	Path, Model string

	// Stream reports whether the response was a stream.
	Stream bool

	// Start is when the handler started: the origin of Scheduled.
	Start time.Time

	// ID is the response's id ("chatcmpl-…", "resp_…"); empty for errors.
	ID string

	// PromptTokens is the prompt's token count (see EstimateTokens).
	PromptTokens int

	// OutputTokens is the number of output tokens the response reports in
	// its usage, all of which were sent when Err is nil.
	OutputTokens int

	// FinishReason is why the output ended, as the wire format spells it:
	// "stop" or "length" in Chat Completions; the response's status,
	// "completed" or "incomplete", in Responses. Empty for errors.
	FinishReason string

	// Text is the whole output text.
	Text string

	// Scheduled holds, for each content event, when it was due, from Start.
	// A content event is one that carries output text; a non-streaming
	// response has one, its body, due when the stream's last would be.
	Scheduled []time.Duration

	// Sent holds, for each content event written, when the write and its
	// flush returned. It is shorter than Scheduled when the response was cut
	// short.
	Sent []time.Time

	// Status is the HTTP status code.
	Status int

	// End is when the response ended: the last write, or when it was cut
	// short.
	End time.Time

	// Err is why the response was cut short (the client went away, the
	// server was closed, the body was closed early), or nil.
	Err error
}

// recordStore keeps the Records of a Server or Responder.
type recordStore struct {
	mu      sync.Mutex
	changed *sync.Cond // on mu, broadcast when ending drops
	list    []Record
	ending  int // responses whose last event is being written but not yet recorded
}

func newRecordStore() *recordStore {
	s := &recordStore{}
	s.changed = sync.NewCond(&s.mu)
	return s
}

// begin marks a response as about to write its last event, so that all waits
// for its record: a client that has read the whole response must find it in
// Records.
func (s *recordStore) begin() {
	s.mu.Lock()
	s.ending++
	s.mu.Unlock()
}

// add keeps r; ended reports whether begin was called for it.
func (s *recordStore) add(r Record, ended bool) {
	s.mu.Lock()
	s.list = append(s.list, r)
	if ended {
		s.ending--
		s.changed.Broadcast()
	}
	s.mu.Unlock()
}

// all returns a copy of the records in Seq order, once no response is
// between writing its last event and being recorded.
func (s *recordStore) all() []Record {
	s.mu.Lock()
	for s.ending > 0 {
		s.changed.Wait()
	}
	out := slices.Clone(s.list)
	s.mu.Unlock()
	slices.SortFunc(out, func(a, b Record) int {
		switch {
		case a.Seq < b.Seq:
			return -1
		case a.Seq > b.Seq:
			return 1
		}
		return 0
	})
	return out
}

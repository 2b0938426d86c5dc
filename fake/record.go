package fake

import (
	"cmp"
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

	// ID is the response's id as its body names it: "chatcmpl-" (Chat
	// Completions, Azure), "resp_" (Responses) or "msg_" (Anthropic)
	// followed by 24 characters of [0-9A-Za-z], or those 24 characters
	// alone (Gemini's responseId, Cohere's id). Empty for errors.
	ID string

	// RequestID is the value of the response's request id header
	// (request-id for Anthropic, x-request-id for every other format),
	// sent with every answer, errors included: "req_" followed by the 24
	// characters that end ID when there is one. A client pairs its requests
	// with Records by this header: RequestID == "req_" + ID[len(ID)-24:].
	RequestID string

	// PromptTokens is the prompt's token count (see EstimateTokens).
	PromptTokens int

	// OutputTokens is the number of output tokens in Text. A response that
	// reaches its end reports them in its usage.
	OutputTokens int

	// FinishReason is why the output ended, as the wire format spells it:
	// "stop" or "length" in Chat Completions and Azure; the response's
	// status, "completed" or "incomplete", in Responses; "end_turn" or
	// "max_tokens" in Anthropic; "STOP" or "MAX_TOKENS" in Gemini;
	// "COMPLETE" or "MAX_TOKENS" in Cohere ("ERROR" after its mid-stream
	// error). Empty for errors and for responses cut short by a fault.
	FinishReason string

	// Text is the output text the response carries: all of it, or, for a
	// stream that a Disconnect or StreamError fault ends early, the text of
	// the content events before the fault.
	Text string

	// Queued is how long the request waited for a place (Config.Capacity)
	// before its response started; Scheduled includes it.
	Queued time.Duration

	// Fault is the fault the request drew, NoFault for none.
	Fault Fault

	// FaultAt is the index of the content event the fault struck (see
	// Fault): the content events before it were written whole. 0 for
	// status faults, non-streaming responses and NoFault.
	FaultAt int

	// Scheduled holds, for each content event, when it was due, from Start:
	// after the wait in the queue (Queued), the prefill and TTFT, the ITLs
	// and any Stall. A content event is one that carries output text; a
	// non-streaming response has one, its body, due when the stream's last
	// would be. A response that a fault ends early holds only the events
	// before the fault; status faults hold none.
	Scheduled []time.Duration

	// Sent holds, for each content event written, when the write and its
	// flush returned. It is shorter than Scheduled when the response was cut
	// short.
	Sent []time.Time

	// Status is the HTTP status code.
	Status int

	// Events is the number of the response's writes made whole: one per
	// SSE event (per element, and the closing bracket, of Gemini's JSON
	// array stream), or one for a non-streaming body (two when a Stall
	// splits it). The half event before a Disconnect's cut is not counted.
	Events int

	// End is when the response ended: the last write, or when it was cut
	// short.
	End time.Time

	// Err is why the response was cut short (the client went away, the
	// server was closed, the body was closed early, a Disconnect fault:
	// ErrDisconnected), or nil: a response is complete, as far as the
	// fake's side goes, exactly when Err is nil.
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
	slices.SortFunc(out, func(a, b Record) int { return cmp.Compare(a.Seq, b.Seq) })
	return out
}

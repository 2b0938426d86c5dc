package providers

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// genericRequestID is the header that carries the request id.
var genericRequestID = []string{"X-Request-Id"}

// NewDecoder returns a decoder of the API's responses, framed as Format
// says, with the paths compiled once. Each event is walked once, reading
// only what the paths name.
//
// A stream ends with io.EOF at DoneData, after the event where DonePath
// marks the end, or at the end of the body; a stream that ends before
// anything could be decoded gives a *DecodeError, and a last event cut
// short is discarded. A 2xx response with an HTML content type gives a
// *DecodeError. When the configuration is invalid (see Validate), Reset
// returns a *DecodeError that says why.
func (p *Generic) NewDecoder() Decoder {
	d := &genericDecoder{frame: frame{name: p.Name(), sc: secrets{key: p.apiKey()}, requestID: genericRequestID}}
	d.format, d.cfgErr = p.format()
	if d.cfgErr == nil {
		d.root, d.cfgErr = compileGenericPaths(p)
	}
	d.doneData = []byte(strings.TrimSpace(p.DoneData))
	d.doneValue = p.DoneValue
	d.increments = p.UsageIncrements
	d.maxLine = p.MaxLineBytes
	if d.maxLine <= 0 {
		d.maxLine = DefaultMaxLineBytes
	}
	d.sse.MaxLineBytes = d.maxLine
	d.sse.DispatchAtEOF = true // a last event without its blank line is still decoded
	return d
}

// genericDecoder decodes one response of a Generic API at a time.
type genericDecoder struct {
	frame

	// configuration
	format     string
	cfgErr     error
	root       *genericPathNode
	doneData   []byte
	doneValue  string
	increments bool
	maxLine    int

	usage Usage // the running usage of the response

	// the event being decoded
	finish  []byte
	found   genericTarget // the count, finish, done and special targets found
	counts  [4]int        // input, output, reasoning, cached, when found
	errSpan []byte        // the value at ErrorPath, when it says error
	isErr   bool
}

// Reset prepares d for resp. See Decoder and Generic.NewDecoder.
func (d *genericDecoder) Reset(resp *http.Response, r *Request) error {
	d.attach(resp)
	d.usage = Usage{}
	if d.cfgErr != nil {
		return d.fail(&DecodeError{Provider: d.name, Err: fmt.Errorf("invalid configuration: %w", d.cfgErr)})
	}
	if err := d.status(); err != nil {
		return err
	}
	ct := resp.Header.Get("Content-Type")
	if mediaTypeIs(ct, "text/html") {
		return d.fail(contentTypeError(d.name, resp, ct, d.sc))
	}
	stream := r == nil || r.Stream
	json := isJSONType(ct) || ct == ""
	switch {
	case d.format == "json", d.format == "sse" && isJSONType(ct), !stream && json:
		d.mode = frameBody
	case d.format == "ndjson":
		d.readLines(d.maxLine)
	default:
		d.readSSE()
	}
	return nil
}

// Next decodes the next event into out. See Decoder.
func (d *genericDecoder) Next(out *Delta) error { return d.step(out, d) }

// event decodes one SSE event or NDJSON line; DoneData ends the stream.
func (d *genericDecoder) event(ev *SSEEvent, out *Delta) error {
	if len(d.doneData) > 0 && bytes.Equal(bytes.TrimSpace(ev.Data), d.doneData) {
		return io.EOF
	}
	*out = Delta{At: ev.DispatchAt}
	return d.decode(ev.Data, out)
}

// body decodes a whole body.
func (d *genericDecoder) body(data []byte, out *Delta) error { return d.decode(data, out) }

// decode walks one event (or body) into out, whose At is already set.
func (d *genericDecoder) decode(data []byte, out *Delta) error {
	c := &d.c
	c.reset(data)
	d.text, d.reasoning, d.args, d.finish = d.text[:0], d.reasoning[:0], d.args[:0], d.finish[:0]
	d.found, d.isErr, d.errSpan = 0, false, nil
	if c.kind() == jsonInvalid {
		c.skip() // records the error
	} else {
		d.walk(d.root)
	}
	if err := c.done(); err != nil {
		*out = Delta{At: out.At}
		return d.decodeError(err, data)
	}
	if d.isErr {
		*out = Delta{}
		return d.eventError(data)
	}
	if d.found&genericSpecial != 0 {
		d.text = d.text[:0]
	}
	if d.found&genericCounts != 0 {
		d.addUsage(genericInput, d.counts[0], &d.usage.InputTokens)
		d.addUsage(genericOutput, d.counts[1], &d.usage.OutputTokens)
		d.addUsage(genericReasoningTokens, d.counts[2], &d.usage.ReasoningTokens)
		d.addUsage(genericCached, d.counts[3], &d.usage.CachedTokens)
		out.Usage, out.HasUsage = d.usage, true
	}
	if len(d.finish) > 0 {
		out.FinishReason = finishReason(d.finish)
	}
	d.setOutput(out)
	if d.found&genericDone != 0 {
		d.mode = frameEnded // the next Next returns io.EOF
	}
	return nil
}

// addUsage folds the count n of target, when the event had it, into dst.
func (d *genericDecoder) addUsage(target genericTarget, n int, dst *int) {
	if d.found&target == 0 {
		return
	}
	if d.increments {
		// Each count is at most maxTokenCount; the sum saturates there
		// too, so that no server can overflow it.
		*dst = min(*dst+n, maxTokenCount)
	} else {
		*dst = n
	}
}

// walk reads the value at the cursor, which node n of the path trie
// matches: it descends into the keys and elements n's children name, skips
// the rest, and takes the value when n is a target.
func (d *genericDecoder) walk(n *genericPathNode) {
	c := &d.c
	k := c.kind()
	if n.targets != 0 && (!n.hasKids() || k != jsonObject && k != jsonArray) {
		d.take(n.targets, k)
		return
	}
	start := c.i
	switch k {
	case jsonObject:
		if !c.object() {
			return
		}
		for c.nextKey() {
			if kid := n.key(c.key); kid != nil {
				d.walk(kid)
			} else {
				c.skip()
			}
		}
	case jsonArray:
		if !c.array() {
			return
		}
		for i := 0; c.nextElem(); i++ {
			if kid := n.index(i); kid != nil {
				d.walk(kid)
			} else {
				c.skip()
			}
		}
	default:
		c.skip()
	}
	if n.targets != 0 && c.err == nil {
		d.takeContainer(n.targets, c.b[start:c.i])
	}
}

// take reads the value at the cursor, of kind k, for the targets t.
func (d *genericDecoder) take(t genericTarget, k jsonKind) {
	c := &d.c
	start := c.i
	switch k {
	case jsonString:
		if t&^genericCounts == 0 { // numbers in strings ("12")
			n, ok := c.int()
			d.setCounts(t, n, ok)
			return
		}
		v, ok := c.strView()
		if !ok {
			return
		}
		if t&genericText != 0 {
			d.text = append(d.text, v...)
		}
		if t&genericReasoning != 0 {
			d.reasoning = append(d.reasoning, v...)
		}
		if t&genericToolArgs != 0 {
			d.args = append(d.args, v...)
		}
		if t&genericFinish != 0 && len(v) > 0 {
			d.finish = append(d.finish[:0], v...)
		}
		if t&genericDone != 0 && d.doneValue != "" && string(v) == d.doneValue {
			d.found |= genericDone
		}
		if t&genericError != 0 && len(v) > 0 {
			d.isErr, d.errSpan = true, c.b[start:c.i]
		}
		if t&genericCounts != 0 {
			n, ok := parseIntLoose(v)
			d.setCounts(t, n, ok && len(v) > 0)
		}
	case jsonNumber:
		num, ok := c.number()
		if !ok {
			return
		}
		n, ok := parseCount(num)
		d.setCounts(t, n, ok)
		if t&genericError != 0 && (!ok || n != 0) {
			d.isErr, d.errSpan = true, c.b[start:c.i]
		}
	case jsonBool:
		isTrue := c.b[c.i] == 't'
		c.skip()
		if !isTrue || c.err != nil {
			return
		}
		if t&genericDone != 0 && d.doneValue == "" {
			d.found |= genericDone
		}
		if t&genericSpecial != 0 {
			d.found |= genericSpecial
		}
		if t&genericError != 0 {
			d.isErr, d.errSpan = true, c.b[start:c.i]
		}
	default:
		c.skip()
		if (k == jsonObject || k == jsonArray) && c.err == nil {
			d.takeContainer(t, c.b[start:c.i])
		}
	}
}

// takeContainer takes an object or array value (raw) for the targets t:
// only an error can be one, when it is not empty.
func (d *genericDecoder) takeContainer(t genericTarget, raw []byte) {
	if t&genericError == 0 {
		return
	}
	if inner := bytes.TrimSpace(raw[1 : len(raw)-1]); len(inner) > 0 {
		d.isErr, d.errSpan = true, raw
	}
}

// setCounts records n, when ok, as the count of each count target in t.
func (d *genericDecoder) setCounts(t genericTarget, n int64, ok bool) {
	if t&genericCounts == 0 || !ok {
		return
	}
	v := 0
	if n >= 0 && n <= maxTokenCount { // nonsense counts read as 0, as in the other codecs
		v = int(n)
	}
	for i, target := range [4]genericTarget{genericInput, genericOutput, genericReasoningTokens, genericCached} {
		if t&target != 0 {
			d.counts[i] = v
			d.found |= target
		}
	}
}

// eventError returns the *APIError for an event whose ErrorPath value says
// error: a string is the message; an object is read as an API error
// object; anything else makes the whole event the message.
func (d *genericDecoder) eventError(data []byte) *APIError {
	e := &APIError{
		Provider:   d.name,
		StatusCode: d.resp.StatusCode,
		InStream:   true,
		RequestID:  headerOf(d.resp.Header, genericRequestID),
	}
	span := d.sc.redactBytes(d.errSpan)
	c := &d.c
	c.reset(span)
	switch c.kind() {
	case jsonString:
		v, _ := c.strView()
		e.Message = string(v)
	case jsonObject:
		if !parseAPIError(c, span, e) {
			c.reset(span)
			readErrorObject(c, e)
			if e.Message == "" {
				e.Message = textMessage(span)
			}
		}
	default:
		e.Message = textMessage(d.sc.redactBytes(data))
	}
	e.Message = d.sc.redact(e.Message)
	e.Code = d.sc.redact(e.Code)
	e.Type = d.sc.redact(e.Type)
	return e
}

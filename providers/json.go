package providers

// JSON access for the codecs.
//
// Codecs read the server's JSON through jsonCursor, a pull scanner that walks
// one document in place: the codec asks for an object, iterates its keys,
// and for each key either reads the value (string, integer, nested object or
// array) or skips it. Nothing is allocated; strings without escapes are
// views into the input, strings with escapes are decoded into a buffer the
// caller owns. The whole document is checked for JSON syntax on the way
// (skipped values included), so a truncated or corrupt chunk is an error,
// never a half-read success.
//
// Why not a library: the budget for SSE read plus OpenAI decode is 250 ns
// and 0 allocations per text event (the decode target in PERFORMANCE.md). The candidates were
// benchmarked extracting the fields this codec needs (error, object,
// choices[].delta.{content, reasoning_content, reasoning,
// tool_calls[].function.arguments}, finish_reason, usage) from the 219-byte
// content chunk of testdata/openai_chat.sse, and from the same chunk with
// escapes in its text, with all memory reused. Medians of -count=5, one run,
// Intel Xeon 2.6 GHz (KVM, 2 cores), go1.26:
//
//	                                           plain       escaped     allocs
//	valyala/fastjson v1.6.10, Parser reused    490 ns      567 ns      0
//	  ParseBytes alone, no field access        282 ns
//	tidwall/gjson v1.20.2, unsafe string view  504 ns      591 ns      0 / 1
//	  plus gjson.Valid (to reject truncation)  698 ns      833 ns
//	  one gjson.Get path alone                 196 ns
//	buger/jsonparser v1.6.1, EachKey           1205 ns     1255 ns     0
//	  one jsonparser.Get path alone            350 ns
//	jsonCursor (this file), same fields        241 ns      270 ns      0
//
// No library fits the budget even before the SSE reader's share: fastjson
// builds a tree of the whole chunk before any field is read; gjson walks the
// chunk once per lookup and once more to validate it; jsonparser's EachKey
// walks it once but matches every key against every path. The cursor makes
// one validating pass and reads only the keys asked for. The OpenAI codec
// now reads its usual chunk with a walk of its own built on this file's
// scanners, in 160-170 ns (decodeFast in openai.go; BenchmarkOpenAIDecodeChunk
// measures it).
//
// A structural index of the document, simdjson's way in pure Go, was tried
// in place of scanString: for each 64-byte block, masks of quotes and
// backslashes computed branch-free eight bytes at a time (SWAR, gathered
// into bits by a multiply), escaped quotes removed by the odd-backslash-run
// carry, and string ends found by a bit scan. Without SIMD the masks cost
// about 280 instructions a block, more than the per-string scans they
// replace for the ~17 short strings of a chunk: the cursor's walk of the
// content chunk took 270-300 ns instead of 230-250.

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// jsonMaxDepth bounds the nesting the cursor accepts, so that hostile input
// cannot exhaust the stack.
const jsonMaxDepth = 512

// jsonKind is the kind of the next JSON value.
type jsonKind uint8

const (
	jsonInvalid jsonKind = iota // not the start of a value, or end of input
	jsonObject
	jsonArray
	jsonString
	jsonNumber
	jsonBool
	jsonNull
)

// jsonKindOf maps the first byte of a value to its kind.
var jsonKindOf = func() (t [256]jsonKind) {
	t['{'] = jsonObject
	t['['] = jsonArray
	t['"'] = jsonString
	t['t'] = jsonBool
	t['f'] = jsonBool
	t['n'] = jsonNull
	t['-'] = jsonNumber
	for ch := '0'; ch <= '9'; ch++ {
		t[ch] = jsonNumber
	}
	return t
}()

// jsonSyntaxError is a JSON document the cursor rejected.
type jsonSyntaxError struct {
	msg    string
	offset int // byte offset in the document; -1 for an unexpected end
}

func (e *jsonSyntaxError) Error() string {
	if e.offset < 0 {
		return e.msg
	}
	return fmt.Sprintf("%s at offset %d", e.msg, e.offset)
}

// errBadEscape is an invalid escape sequence inside a JSON string.
var errBadEscape = errors.New("invalid escape in JSON string")

// jsonCursor walks one JSON document. Use: reset(doc), then the typed
// readers; every reader consumes exactly one value, whatever its kind, so a
// codec that meets a key it does not use calls skip. The first syntax error
// is kept and ends the walk: every reader then returns false at once, and
// done reports the error. Codecs therefore read without checking errors at
// each step and check done once at the end.
//
// Object and array iteration:
//
//	if c.object() {
//		for c.nextKey() {
//			switch string(c.key) {
//			case "content":
//				buf, _ = c.str(buf)
//			default:
//				c.skip()
//			}
//		}
//	}
//
// The zero value is ready for reset.
type jsonCursor struct {
	b      []byte
	i      int
	first  bool // just entered an object or array: no comma expected
	depth  int
	err    error
	key    []byte // the key nextKey read, unescaped; valid until the next nextKey
	keyBuf []byte // decoded keys and strView strings that had escapes
}

// reset starts a walk of doc. The cursor keeps views into doc.
func (c *jsonCursor) reset(doc []byte) {
	c.b = doc
	c.i = 0
	c.first = false
	c.depth = 0
	c.err = nil
	c.key = nil
}

// done checks that nothing but white space follows the top-level value and
// returns the first error of the walk.
func (c *jsonCursor) done() error {
	if c.err == nil {
		if i := skipWS(c.b, c.i); i < len(c.b) {
			c.fail(i, "invalid character %q after top-level value", c.b[i])
		}
	}
	return c.err
}

// fail records the first error (at offset i) and moves the cursor to the end
// of the input, so that every later reader stops at once.
func (c *jsonCursor) fail(i int, format string, args ...any) {
	if c.err == nil {
		c.err = &jsonSyntaxError{msg: fmt.Sprintf(format, args...), offset: i}
	}
	c.i = len(c.b)
}

// failEnd records an unexpected end of input (worded as encoding/json words
// it). It returns false for the callers' convenience.
func (c *jsonCursor) failEnd() bool {
	if c.err == nil {
		c.err = &jsonSyntaxError{msg: "unexpected end of JSON input", offset: -1}
	}
	c.i = len(c.b)
	return false
}

// skipWS returns the index of the first byte at or after i that is not JSON
// white space.
func skipWS(b []byte, i int) int {
	// Every white-space byte is <= ' ', so compact JSON leaves at once.
	for i < len(b) && b[i] <= ' ' && (b[i] == ' ' || b[i] == '\n' || b[i] == '\r' || b[i] == '\t') {
		i++
	}
	return i
}

// kind reports the kind of the next value without consuming it (it does
// consume white space before it).
func (c *jsonCursor) kind() jsonKind {
	i := skipWS(c.b, c.i)
	c.i = i
	if i >= len(c.b) {
		return jsonInvalid
	}
	return jsonKindOf[c.b[i]]
}

// enter consumes the opening bracket at c.i.
func (c *jsonCursor) enter() bool {
	c.depth++
	if c.depth > jsonMaxDepth {
		c.fail(c.i, "JSON nested deeper than %d", jsonMaxDepth)
		return false
	}
	c.i++
	c.first = true
	return true
}

// object enters the next value if it is an object and reports whether it
// did; any other value is consumed and reported as false. After true, call
// nextKey until it returns false.
func (c *jsonCursor) object() bool {
	if c.kind() != jsonObject {
		c.skip()
		return false
	}
	return c.enter()
}

// array enters the next value if it is an array and reports whether it did;
// any other value is consumed and reported as false. After true, call
// nextElem until it returns false, consuming one value after each true.
func (c *jsonCursor) array() bool {
	if c.kind() != jsonArray {
		c.skip()
		return false
	}
	return c.enter()
}

// nextKey advances to the next key of the current object, sets c.key and
// consumes the colon; the caller must then consume the value. It returns
// false at the end of the object (consuming the closing brace) or on error.
func (c *jsonCursor) nextKey() bool {
	b := c.b
	i := skipWS(b, c.i)
	if i >= len(b) {
		return c.failEnd() // also the way out once an error was recorded
	}
	ch := b[i]
	if c.first {
		c.first = false
		if ch == '}' {
			c.i = i + 1
			c.depth--
			return false
		}
	} else {
		switch ch {
		case '}':
			c.i = i + 1
			c.depth--
			return false
		case ',':
			if i = skipWS(b, i+1); i >= len(b) {
				return c.failEnd()
			}
			ch = b[i]
		default:
			c.fail(i, "invalid character %q after object value", ch)
			return false
		}
	}
	if ch != '"' {
		c.fail(i, "invalid character %q looking for object key", ch)
		return false
	}
	end, escaped := scanString(b, i+1)
	if end < 0 {
		return c.failEnd()
	}
	key := b[i+1 : end-1]
	if i = skipWS(b, end); i >= len(b) {
		return c.failEnd()
	}
	if b[i] != ':' {
		c.fail(i, "invalid character %q after object key", b[i])
		return false
	}
	c.i = i + 1
	if escaped {
		var err error
		if c.keyBuf, err = appendUnescaped(c.keyBuf[:0], key); err != nil {
			c.fail(i, "%v", err)
			return false
		}
		key = c.keyBuf
	}
	c.key = key
	return true
}

// nextElem advances to the next element of the current array. It returns
// false at the end of the array (consuming the closing bracket) or on error.
func (c *jsonCursor) nextElem() bool {
	i := skipWS(c.b, c.i)
	if i >= len(c.b) {
		return c.failEnd()
	}
	switch ch := c.b[i]; {
	case ch == ']':
		// After a comma the caller reads a value and fails on ']', so a
		// bracket here always closes the array.
		c.i = i + 1
		c.depth--
		c.first = false
		return false
	case c.first:
		c.first = false
	case ch == ',':
		i++
	default:
		c.fail(i, "invalid character %q after array element", ch)
		return false
	}
	c.i = i
	return true
}

// nextObject advances to the next element of the current array that is
// an object and enters it, consuming the elements before it that are not;
// it reports false at the end of the array. After true, read the object
// with nextKey until it returns false.
func (c *jsonCursor) nextObject() bool {
	for c.nextElem() {
		if c.object() {
			return true
		}
	}
	return false
}

// scanString scans the content of a string that starts at i (just after the
// opening quote). It returns the index just after the closing quote, or -1
// when the input ends first, and whether the content has escapes. Raw
// control characters are accepted: servers do not send them, and rejecting
// them buys a timing client nothing.
func scanString(b []byte, i int) (end int, escaped bool) {
	const (
		lo     = 0x0101010101010101
		hi     = 0x8080808080808080
		quote  = 0x2222222222222222 // '"' in every byte
		bslash = 0x5c5c5c5c5c5c5c5c // '\\' in every byte
	)
	for {
		// Find the next '"' or '\\' eight bytes at a time (SWAR): most JSON
		// text is string bytes, and this is where decoding spends its time.
		// In q and e a byte is zero where b matched; (v-lo)&^v&hi sets the
		// high bit of the first zero byte exactly (later bits may be false
		// positives, which the trailing-zero count never reaches).
		for i+8 <= len(b) {
			x := binary.LittleEndian.Uint64(b[i:])
			q, e := x^quote, x^bslash
			if m := ((q-lo)&^q | (e-lo)&^e) & hi; m != 0 {
				i += bits.TrailingZeros64(m) >> 3
				goto found
			}
			i += 8
		}
		for i < len(b) && b[i] != '"' && b[i] != '\\' {
			i++
		}
	found:
		if i >= len(b) {
			return -1, escaped
		}
		if b[i] == '"' {
			return i + 1, escaped
		}
		escaped = true
		i += 2 // the backslash and the byte it escapes
	}
}

// scanNumber scans the number that starts at i and returns the index just
// after it, or -1 with a description of the fault at index at.
func scanNumber(b []byte, i int) (end int, at int, fault string) {
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i >= len(b):
		return -1, i, ""
	case b[i] == '0':
		i++
	case b[i] >= '1' && b[i] <= '9':
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	default:
		return -1, i, "in number"
	}
	if i < len(b) && b[i] == '.' {
		i++
		d := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == d {
			return -1, i, "after decimal point in number"
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		d := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == d {
			return -1, i, "in exponent of number"
		}
	}
	return i, i, ""
}

// number consumes the number at c.i and returns its text.
func (c *jsonCursor) number() ([]byte, bool) {
	s := c.i
	end, at, fault := scanNumber(c.b, s)
	if end < 0 {
		if at >= len(c.b) {
			return nil, c.failEnd()
		}
		c.fail(at, "invalid character %q %s", c.b[at], fault)
		return nil, false
	}
	c.i = end
	return c.b[s:end], true
}

// stringAt consumes the string at c.i and returns its raw content.
func (c *jsonCursor) stringAt() (raw []byte, escaped bool, ok bool) {
	s := c.i + 1
	end, escaped := scanString(c.b, s)
	if end < 0 {
		return nil, false, c.failEnd()
	}
	c.i = end
	return c.b[s : end-1], escaped, true
}

// literal consumes the literal word at c.i.
func (c *jsonCursor) literal(word string) {
	rest := c.b[c.i:]
	if len(rest) >= len(word) && string(rest[:len(word)]) == word {
		c.i += len(word)
		return
	}
	n := min(len(rest), len(word))
	if string(rest[:n]) != word[:n] {
		for j := range n {
			if rest[j] != word[j] {
				c.fail(c.i+j, "invalid character %q in literal %s", rest[j], word)
				return
			}
		}
	}
	if n < len(word) {
		c.failEnd()
		return
	}
	c.i += len(word)
}

// skip consumes the next value, whatever its kind, checking its syntax.
func (c *jsonCursor) skip() {
	switch c.kind() {
	case jsonObject:
		if c.enter() {
			for c.nextKey() {
				c.skip()
			}
		}
	case jsonArray:
		if c.enter() {
			for c.nextElem() {
				c.skip()
			}
		}
	case jsonString:
		if end, _ := scanString(c.b, c.i+1); end >= 0 {
			c.i = end
		} else {
			c.failEnd()
		}
	case jsonNumber:
		if end, _, _ := scanNumber(c.b, c.i); end >= 0 {
			c.i = end
		} else {
			c.number() // records the error
		}
	case jsonBool:
		if c.b[c.i] == 't' {
			c.literal("true")
		} else {
			c.literal("false")
		}
	case jsonNull:
		c.literal("null")
	default:
		if c.i >= len(c.b) {
			c.failEnd()
		} else {
			c.fail(c.i, "invalid character %q looking for beginning of value", c.b[c.i])
		}
	}
}

// null consumes the next value and reports whether it was null.
func (c *jsonCursor) null() bool {
	if c.kind() == jsonNull {
		c.literal("null")
		return c.err == nil
	}
	c.skip()
	return false
}

// str consumes the next value. If it is a string, str appends its decoded
// text to dst and returns true; any other value (null included) leaves dst
// as it was and returns false.
func (c *jsonCursor) str(dst []byte) ([]byte, bool) {
	if c.kind() != jsonString {
		c.skip()
		return dst, false
	}
	raw, escaped, ok := c.stringAt()
	if !ok {
		return dst, false
	}
	if !escaped {
		return append(dst, raw...), true
	}
	out, err := appendUnescaped(dst, raw)
	if err != nil {
		c.fail(c.i, "%v", err)
		return dst, false
	}
	return out, true
}

// strView consumes the next value. If it is a string without escapes, it
// returns a view of its text; a string with escapes is decoded into a
// cursor buffer, valid until the next nextKey or strView. Other kinds return
// false.
func (c *jsonCursor) strView() ([]byte, bool) {
	if c.kind() != jsonString {
		c.skip()
		return nil, false
	}
	raw, escaped, ok := c.stringAt()
	if !ok || !escaped {
		return raw, ok
	}
	out, err := appendUnescaped(c.keyBuf[:0], raw)
	if err != nil {
		c.fail(c.i, "%v", err)
		return nil, false
	}
	c.keyBuf = out
	return out, true
}

// int consumes the next value. If it is a number, int returns its value as
// an integer (a fraction is truncated, values beyond int64 saturate) and
// true; a string holding a number ("400") counts too, since some servers
// quote their codes. Other kinds return false.
func (c *jsonCursor) int() (int64, bool) {
	var num []byte
	switch c.kind() {
	case jsonNumber:
		n, ok := c.number()
		if !ok {
			return 0, false
		}
		num = n
	case jsonString:
		s, _, ok := c.stringAt()
		if !ok || len(s) == 0 {
			return 0, false
		}
		num = s
	default:
		c.skip()
		return 0, false
	}
	return parseCount(num)
}

// parseCount parses a JSON number (or numeric string) as an integer, with
// a fast path that does not allocate for plain non-negative integers of up
// to 18 digits.
func parseCount(num []byte) (int64, bool) {
	if len(num) > 0 && len(num) <= 18 {
		var v int64
		for _, ch := range num {
			if ch < '0' || ch > '9' {
				return parseIntLoose(num)
			}
			v = v*10 + int64(ch-'0')
		}
		return v, true
	}
	return parseIntLoose(num)
}

// parseIntLoose parses a JSON number (or numeric string) as an int64,
// truncating any fraction and saturating out-of-range values.
func parseIntLoose(num []byte) (int64, bool) {
	if v, err := strconv.ParseInt(string(num), 10, 64); err == nil {
		return v, true
	}
	f, err := strconv.ParseFloat(string(num), 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return 0, false
	}
	switch {
	case f != f: // NaN
		return 0, false
	case f >= 9.223372036854775807e18:
		return 1<<63 - 1, true
	case f <= -9.223372036854775808e18:
		return -1 << 63, true
	}
	return int64(f), true
}

// appendUnescaped appends the decoded text of a raw JSON string (without
// its quotes) to dst. Surrogate pairs (\ud83d\ude00) combine into one rune;
// a lone surrogate becomes U+FFFD, as encoding/json does.
func appendUnescaped(dst, s []byte) ([]byte, error) {
	for len(s) > 0 {
		i := bytes.IndexByte(s, '\\')
		if i < 0 {
			return append(dst, s...), nil
		}
		dst = append(dst, s[:i]...)
		s = s[i:]
		if len(s) < 2 {
			return dst, errBadEscape
		}
		switch s[1] {
		case '"', '\\', '/':
			dst = append(dst, s[1])
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r, ok := hex4(s[2:])
			if !ok {
				return dst, errBadEscape
			}
			s = s[6:]
			if utf16.IsSurrogate(r) {
				r2 := utf8.RuneError
				if len(s) >= 6 && s[0] == '\\' && s[1] == 'u' {
					if lo, ok := hex4(s[2:]); ok {
						r2 = lo
					}
				}
				if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
					r = dec
					s = s[6:]
				} else {
					r = utf8.RuneError
				}
			}
			dst = utf8.AppendRune(dst, r)
			continue
		default:
			return dst, errBadEscape
		}
		s = s[2:]
	}
	return dst, nil
}

// hex4 decodes the four hex digits at the start of s.
func hex4(s []byte) (rune, bool) {
	if len(s) < 4 {
		return 0, false
	}
	var r rune
	for _, ch := range s[:4] {
		switch {
		case ch >= '0' && ch <= '9':
			ch -= '0'
		case ch >= 'a' && ch <= 'f':
			ch = ch - 'a' + 10
		case ch >= 'A' && ch <= 'F':
			ch = ch - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(ch)
	}
	return r, true
}

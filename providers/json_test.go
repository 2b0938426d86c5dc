package providers

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

// cursorValid walks doc, skipping every value, and reports whether the
// cursor accepted it.
func cursorValid(doc []byte) error {
	var c jsonCursor
	c.reset(doc)
	c.skip()
	return c.done()
}

func TestJSONCursorSyntax(t *testing.T) {
	valid := []string{
		`{}`, `[]`, `""`, `0`, `-0`, `1.5e+3`, `-12.25E-2`, `true`, `false`, `null`,
		` { "a" : [ 1 , { "b" : null } ] , "c" : "d\"e" } `,
		"{\"a\":\n\t[]}\r\n",
		`{"k\u00e9y":"v"}`,
		`[[[[[[[[[[]]]]]]]]]]`,
		`{"a":{"b":{"c":[1,2,3,"x",true,false,null,{}]}}}`,
		contentChunk,
	}
	invalid := []string{
		``, ` `, `{`, `}`, `[`, `]`, `{"a"}`, `{"a":}`, `{"a":1,}`, `[1,]`, `[,1]`, `{,"a":1}`,
		`{"a":1 "b":2}`, `[1 2]`, `{"a" 1}`, `{1:2}`, `"abc`, `'a'`, `tru`, `nul`, `nulx`, `truex`,
		`01`, `-`, `1.`, `1.e3`, `1e`, `1e+`, `+1`, `.5`, `0x10`, `{"a":1}}`, `[1]]`, `{} {}`, `1 2`,
		`{"a":[}`, `[{]}`, `{"a":"\`, `NaN`, `{"\x"":1}`,
		strings.Repeat("[", jsonMaxDepth+1) + strings.Repeat("]", jsonMaxDepth+1),
	}
	for _, doc := range valid {
		if err := cursorValid([]byte(doc)); err != nil {
			t.Errorf("%q: rejected: %v", doc, err)
		}
		if !json.Valid([]byte(doc)) {
			t.Errorf("%q: test case is not valid JSON", doc)
		}
	}
	for _, doc := range invalid {
		if err := cursorValid([]byte(doc)); err == nil {
			t.Errorf("%q: accepted", doc)
		}
	}
	deep := strings.Repeat("[", jsonMaxDepth) + strings.Repeat("]", jsonMaxDepth)
	if err := cursorValid([]byte(deep)); err != nil {
		t.Errorf("depth %d rejected: %v", jsonMaxDepth, err)
	}
}

func TestJSONCursorErrorMessages(t *testing.T) {
	for doc, want := range map[string]string{
		`{"a":1`:   "unexpected end of JSON input",
		`{"a":1,}`: `invalid character '}' looking for object key at offset 7`,
		`[1 2]`:    `invalid character '2' after array element at offset 3`,
		`{"a":x}`:  `invalid character 'x' looking for beginning of value at offset 5`,
	} {
		if err := cursorValid([]byte(doc)); err == nil || err.Error() != want {
			t.Errorf("%q: error %v, want %q", doc, err, want)
		}
	}
}

func TestAppendUnescaped(t *testing.T) {
	for raw, want := range map[string]string{
		`plain`:                    "plain",
		`a\nb`:                     "a\nb",
		`\"q\"`:                    `"q"`,
		`\\ \/ \b \f \r \t`:        "\\ / \b \f \r \t",
		`caf\u00e9`:                "café",
		`\u00E9\u4e2d`:             "é中",
		`\ud83d\ude00`:             "😀",
		`x\ud83d\ude00y`:           "x😀y",
		`\ud83d`:                   "\uFFFD",
		`\ud83dx`:                  "\uFFFDx",
		`\ude00\ud83d`:             "\uFFFD\uFFFD",
		`\ud83d\u0041`:             "\uFFFDA",
		`\u0000`:                   "\x00",
		`multi\nline\ttext \u2014`: "multi\nline\ttext —",
	} {
		got, err := appendUnescaped([]byte("pre:"), []byte(raw))
		if err != nil || string(got) != "pre:"+want {
			t.Errorf("%s: got %q, %v; want %q", raw, got, err, want)
		}
		// encoding/json agrees.
		var s string
		if err := json.Unmarshal([]byte(`"`+raw+`"`), &s); err != nil || s != want {
			t.Errorf("%s: encoding/json says %q, %v", raw, s, err)
		}
	}
	for _, raw := range []string{`\`, `\x`, `\u12`, `\u12g4`, `a\`, `\U0041`} {
		if _, err := appendUnescaped(nil, []byte(raw)); err == nil {
			t.Errorf("%s: accepted", raw)
		}
	}
}

func TestJSONCursorReaders(t *testing.T) {
	var c jsonCursor
	c.reset([]byte(`{"s":"a\nb","n":42,"f":-3.9,"q":"400","big":1e30,"x":null,"o":{"k":[1,"two"]}}`))
	if !c.object() {
		t.Fatal("not an object")
	}
	got := map[string]any{}
	for c.nextKey() {
		switch k := string(c.key); k {
		case "s":
			v, ok := c.str([]byte("<"))
			got[k] = [2]any{string(v), ok}
		case "n", "f", "q", "big", "x":
			v, ok := c.int()
			got[k] = [2]any{v, ok}
		case "o":
			if c.object() {
				for c.nextKey() {
					if c.array() {
						for c.nextElem() {
							v, ok := c.strView()
							got["o."+string(v)] = ok
						}
					}
				}
			}
		}
	}
	if err := c.done(); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"s": [2]any{"<a\nb", true}, "n": [2]any{int64(42), true}, "f": [2]any{int64(-3), true},
		"q": [2]any{int64(400), true}, "big": [2]any{int64(1<<63 - 1), true}, "x": [2]any{int64(0), false},
		"o.": false, "o.two": true,
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: got %v, want %v", k, got[k], v)
		}
	}
}

// FuzzJSONCursor checks the cursor against encoding/json: it accepts every
// document json.Valid accepts (no false rejections), rejects what json.Valid
// rejects (except for the two leniencies it documents: raw control
// characters and unchecked escapes inside skipped strings), and decodes
// strings as encoding/json does.
func FuzzJSONCursor(f *testing.F) {
	for _, s := range []string{contentChunk, `{"a":"\u00e9\ud83d\ude00\n"}`, `[1,2,{"x":null}]`, `"\ud800"`, `-0.5e-3`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		err := cursorValid(doc)
		valid := json.Valid(doc)
		if valid && err != nil {
			t.Fatalf("valid JSON rejected: %v", err)
		}
		if !valid && err == nil && !strings.ContainsAny(string(doc), "\\\x00\x01\x02\x03\x04\x05\x06\x07\x08\t\n\x0b\x0c\r\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f") {
			t.Fatalf("invalid JSON accepted")
		}
		// A top-level string decodes as encoding/json decodes it.
		var want string
		isString := len(bytes.TrimSpace(doc)) > 0 && bytes.TrimSpace(doc)[0] == '"'
		if valid && isString && utf8.Valid(doc) && json.Unmarshal(doc, &want) == nil {
			var c jsonCursor
			c.reset(doc)
			got, ok := c.str(nil)
			if !ok || c.done() != nil || string(got) != want {
				t.Fatalf("string decoded as %q (%v, %v), want %q", got, ok, c.done(), want)
			}
		}
	})
}

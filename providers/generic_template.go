package providers

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Templates of the Generic codec: the JSON body template and the plain
// text templates of the URL and headers.

// genericBodyPlaceholders are the placeholders a body template may use.
var genericBodyPlaceholders = []string{"model", "prompt", "system", "messages", "max_tokens",
	"temperature", "top_p", "top_k", "stream", "api_key"}

// genericValue is the value of one placeholder.
type genericValue struct {
	set  bool   // false: the Request leaves it unset
	json []byte // the value as JSON, outside quotes
	text string // the value as text, inside quotes (escaped when inserted)
}

// genericSeg is a literal piece of a template and the placeholder after it.
type genericSeg struct {
	lit   string // literal text before the placeholder
	name  string // the placeholder; "" for the final literal
	inStr bool   // the placeholder is inside a JSON string

	// member, when > 0, says the placeholder is the whole value of an
	// object member whose key begins member bytes before the end of lit:
	// an unset value removes the member.
	member int
}

// genericTemplate is a parsed JSON body template.
type genericTemplate struct {
	segs []genericSeg
}

// parseGenericTemplate parses a body template, checking its placeholders.
func parseGenericTemplate(t string) (*genericTemplate, error) {
	var segs []genericSeg
	litStart := 0
	inStr, esc := false, false
	strStart, strEnd := -1, -1 // the last string that ended: its opening quote, and just past its closing one
	for i := 0; i < len(t); {
		if t[i] == '{' && strings.HasPrefix(t[i:], "{{") {
			j := strings.Index(t[i+2:], "}}")
			if j < 0 {
				return nil, fmt.Errorf("Body: %q at byte %d has no closing %q", "{{", i, "}}")
			}
			name := strings.TrimSpace(t[i+2 : i+2+j])
			if !isPlaceholderName(name) {
				return nil, fmt.Errorf("Body: %q at byte %d does not begin a placeholder such as {{prompt}}", "{{", i)
			}
			if !slices.Contains(genericBodyPlaceholders, name) {
				return nil, fmt.Errorf("Body: unknown placeholder {{%s}} at byte %d (the placeholders are {{%s}})",
					name, i, strings.Join(genericBodyPlaceholders, "}}, {{"))
			}
			end := i + 2 + j + 2
			seg := genericSeg{lit: t[litStart:i], name: name, inStr: inStr}
			if !inStr {
				seg.member = memberSpan(t, litStart, i, end, strStart, strEnd)
			}
			segs = append(segs, seg)
			i, litStart = end, end
			esc = false
			continue
		}
		ch := t[i]
		switch {
		case inStr && esc:
			esc = false
		case inStr && ch == '\\':
			esc = true
		case inStr && ch == '"':
			inStr, strEnd = false, i+1
		case !inStr && ch == '"':
			inStr, strStart = true, i
		}
		i++
	}
	segs = append(segs, genericSeg{lit: t[litStart:]})
	return &genericTemplate{segs: segs}, nil
}

// memberSpan returns, for a placeholder at t[at:end] outside strings, the
// number of bytes from the start of its member's key to at when the
// placeholder is the whole value of an object member whose key lies in
// t[litStart:at] ({ or , then "key" : placeholder then , or }); else 0.
func memberSpan(t string, litStart, at, end, strStart, strEnd int) int {
	isWS := func(ch byte) bool { return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' }
	k := at
	for k > litStart && isWS(t[k-1]) {
		k--
	}
	if k <= litStart || t[k-1] != ':' {
		return 0
	}
	k--
	for k > litStart && isWS(t[k-1]) {
		k--
	}
	if k != strEnd || strStart < litStart {
		return 0
	}
	q := strStart
	for q > litStart && isWS(t[q-1]) {
		q--
	}
	if q <= litStart || t[q-1] != '{' && t[q-1] != ',' {
		return 0
	}
	a := end
	for a < len(t) && isWS(t[a]) {
		a++
	}
	if a >= len(t) || t[a] != ',' && t[a] != '}' {
		return 0
	}
	return at - strStart
}

// isPlaceholderName reports whether s can be the name of a placeholder:
// letters, digits and underscores.
func isPlaceholderName(s string) bool {
	if s == "" {
		return false
	}
	for _, ch := range s {
		if !(ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || ch == '_') {
			return false
		}
	}
	return true
}

// uses reports whether the template has the placeholder name.
func (t *genericTemplate) uses(name string) bool {
	for _, s := range t.segs {
		if s.name == name {
			return true
		}
	}
	return false
}

// render fills the template with vals.
func (t *genericTemplate) render(vals map[string]genericValue) []byte {
	n := 0
	for _, s := range t.segs {
		n += len(s.lit) + len(vals[s.name].json) + 4
	}
	out := make([]byte, 0, n)
	dropped := false
	for _, s := range t.segs {
		out = append(out, s.lit...)
		if s.name == "" {
			continue
		}
		v := vals[s.name]
		switch {
		case s.inStr:
			if v.set {
				out = appendJSONStringContent(out, v.text)
			}
		case v.set:
			out = append(out, v.json...)
		case s.member > 0:
			out = out[:len(out)-s.member]
			dropped = true
		default:
			out = append(out, "null"...)
		}
	}
	if dropped {
		out = fixJSONCommas(out)
	}
	return out
}

// appendJSONStringContent appends s escaped for the inside of a JSON
// string (without the quotes).
func appendJSONStringContent(dst []byte, s string) []byte {
	b, _ := json.Marshal(s) // a string always encodes
	return append(dst, b[1:len(b)-1]...)
}

// fixJSONCommas removes the commas that removing members left behind: a
// comma after "{", "[" or another comma, and a comma before "}" or "]".
// Strings are left alone. It works in place.
func fixJSONCommas(b []byte) []byte {
	out := b[:0]
	last := -1 // index in out of the last byte outside strings that is not white space
	inStr, esc := false, false
	for _, ch := range b {
		if inStr {
			out = append(out, ch)
			switch {
			case esc:
				esc = false
			case ch == '\\':
				esc = true
			case ch == '"':
				inStr, last = false, len(out)-1
			}
			continue
		}
		switch ch {
		case ' ', '\t', '\n', '\r':
			out = append(out, ch)
			continue
		case '"':
			inStr = true
		case ',':
			if last < 0 || out[last] == '{' || out[last] == '[' || out[last] == ',' {
				continue
			}
		case '}', ']':
			if last >= 0 && out[last] == ',' {
				out = append(out[:last], out[last+1:]...)
				last--
				for last >= 0 && (out[last] == ' ' || out[last] == '\t' || out[last] == '\n' || out[last] == '\r') {
					last--
				}
			}
		}
		out = append(out, ch)
		last = len(out) - 1
	}
	return out
}

// renderJSON renders the template with vals, merges extra into its
// top-level object, and checks that the result is valid JSON.
func (t *genericTemplate) renderJSON(vals map[string]genericValue, extra map[string]any) ([]byte, error) {
	body := t.render(vals)
	var raw json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			// Offset counts the bytes read, the offending one included.
			off := int(min(max(se.Offset-1, 0), int64(len(body))))
			if strings.HasPrefix(se.Error(), "unexpected end") {
				off = len(body)
			}
			from := max(0, off-40)
			return nil, fmt.Errorf("Body: the rendered template is not valid JSON: %v at byte %d, after %q "+
				"(placeholders insert JSON values: write {{prompt}} or \"{{prompt}}\", {{max_tokens}} bare)",
				se, off, body[from:off])
		}
		return nil, fmt.Errorf("Body: the rendered template is not valid JSON: %w", err)
	}
	if len(extra) == 0 {
		return body, nil
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(body, &fields); err != nil {
		return nil, errors.New("Body: Request.Extra needs the body to be a JSON object")
	}
	for _, k := range slices.Sorted(maps.Keys(extra)) {
		b, err := json.Marshal(extra[k])
		if err != nil {
			return nil, fmt.Errorf("Request.Extra field %q: %w", k, err)
		}
		fields[k] = b
	}
	return json.Marshal(fields)
}

// genericTextTemplate is a plain text template (a URL or a header value).
type genericTextTemplate struct {
	segs []genericSeg
}

// genericText parses a text template of field that may use the
// placeholders allowed.
func parseGenericText(s, field string, allowed ...string) (*genericTextTemplate, error) {
	var segs []genericSeg
	for {
		i := strings.Index(s, "{{")
		if i < 0 {
			break
		}
		j := strings.Index(s[i+2:], "}}")
		if j < 0 {
			return nil, fmt.Errorf("%s: %q has no closing %q", field, "{{", "}}")
		}
		name := strings.TrimSpace(s[i+2 : i+2+j])
		if !isPlaceholderName(name) {
			return nil, fmt.Errorf("%s: %q does not begin a placeholder such as {{model}}", field, "{{")
		}
		if !slices.Contains(allowed, name) {
			return nil, fmt.Errorf("%s: unknown placeholder {{%s}} (it may use {{%s}})", field, name, strings.Join(allowed, "}}, {{"))
		}
		segs = append(segs, genericSeg{lit: s[:i], name: name})
		s = s[i+2+j+2:]
	}
	segs = append(segs, genericSeg{lit: s})
	return &genericTextTemplate{segs: segs}, nil
}

// uses reports whether the template has the placeholder name.
func (t *genericTextTemplate) uses(name string) bool {
	for _, s := range t.segs {
		if s.name == name {
			return true
		}
	}
	return false
}

// render fills the template with vals, inserted as they are.
func (t *genericTextTemplate) render(vals map[string]string) string {
	var b strings.Builder
	for _, s := range t.segs {
		b.WriteString(s.lit)
		if s.name != "" {
			b.WriteString(vals[s.name])
		}
	}
	return b.String()
}

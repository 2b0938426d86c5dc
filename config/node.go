package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// The configuration is read in two steps: the file's syntax (YAML or JSON)
// becomes a tree of cnodes that remember their line and column, and the
// tree is then decoded into the File types (config_decode.go). Both
// syntaxes give the same tree, so everything after the first step is
// shared, and JSON errors have lines too.

// cnodeKind is the kind of a cnode.
type cnodeKind int

const (
	cNull cnodeKind = iota
	cBool
	cInt
	cFloat
	cString
	cMap
	cList
)

// kindName names a kind in messages ("got a list").
func (k cnodeKind) kindName() string {
	switch k {
	case cNull:
		return "null"
	case cBool:
		return "a boolean"
	case cInt, cFloat:
		return "a number"
	case cString:
		return "a string"
	case cMap:
		return "a mapping"
	case cList:
		return "a list"
	}
	return "a value"
}

// cnode is one node of a parsed configuration document.
type cnode struct {
	kind cnodeKind
	line int // 1-based
	col  int // 1-based

	// Scalars. text is the scalar as written (for strings, its value);
	// b, i and f hold the typed value of booleans, integers and floats.
	text string
	b    bool
	i    int64
	f    float64

	// Mappings: keys and vals in document order. keyNodes keep the keys'
	// positions. Lists: items.
	keys     []string
	keyNodes []*cnode
	vals     []*cnode
	items    []*cnode
}

// maxConfigSize bounds the size of a configuration file.
const maxConfigSize = 16 << 20

// maxNodes bounds the number of nodes of a document once YAML aliases are
// expanded, so that a small file of nested aliases cannot blow up.
const maxNodes = 1 << 18

// maxDepth bounds the nesting of a document.
const maxDepth = 128

// syntaxOf chooses the syntax of a file: by extension, else by content
// (JSON when the first non-blank byte opens an object).
func syntaxOf(filename string, data []byte) string {
	lower := strings.ToLower(filename)
	switch {
	case strings.HasSuffix(lower, ".json"):
		return "json"
	case strings.HasSuffix(lower, ".yaml"), strings.HasSuffix(lower, ".yml"):
		return "yaml"
	}
	trimmed := bytes.TrimLeft(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")), " \t\r\n")
	if len(trimmed) > 0 && trimmed[0] == '{' {
		return "json"
	}
	return "yaml"
}

// parseDocument parses data in the given syntax into a tree. A nil tree
// with no problems is an empty document.
func parseDocument(data []byte, syntax string) (*cnode, []Problem) {
	if len(data) > maxConfigSize {
		return nil, []Problem{{Message: fmt.Sprintf("file is larger than %d MiB", maxConfigSize>>20)}}
	}
	if syntax == "json" {
		return parseJSON(data)
	}
	return parseYAML(data)
}

// ---- YAML ----

var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// parseYAML parses one YAML document.
func parseYAML(data []byte) (root *cnode, probs []Problem) {
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	err := yamlDecode(dec, &doc)
	if err == io.EOF {
		return nil, nil
	}
	if err != nil {
		return nil, []Problem{yamlProblem(err)}
	}
	var extra yaml.Node
	if err := yamlDecode(dec, &extra); err != io.EOF {
		line := extra.Line
		if err != nil {
			p := yamlProblem(err)
			line = p.Line
		}
		return nil, []Problem{{Line: line, Message: "a configuration file holds one YAML document (found a second after ---)"}}
	}
	c := &yamlConverter{inProgress: map[*yaml.Node]bool{}}
	var n *yaml.Node = &doc
	if n.Kind == yaml.DocumentNode {
		if len(n.Content) == 0 {
			return nil, nil
		}
		n = n.Content[0]
	}
	root = c.convert(n, 0)
	if c.err != nil {
		return nil, []Problem{*c.err}
	}
	return root, nil
}

// yamlDecode decodes one document, turning a panic of the parser (which
// it should never raise) into an error so that a configuration file can
// never crash the program that reads it.
func yamlDecode(dec *yaml.Decoder, n *yaml.Node) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("yaml: the YAML parser failed on this file: %v", r)
		}
	}()
	return dec.Decode(n)
}

// yamlProblem turns a yaml.v3 error into a Problem with its line.
func yamlProblem(err error) Problem {
	msg := err.Error()
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		msg = te.Errors[0]
	}
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		// yaml.v3 numbers the lines of scanner errors from 1 but those of
		// parser errors from 0; the parser's messages are these.
		for _, prefix := range []string{"did not find expected", "found undefined tag handle", "found duplicate %", "found incompatible YAML"} {
			if strings.HasPrefix(m[2], prefix) {
				line++
				break
			}
		}
		return Problem{Line: line, Message: "invalid YAML: " + m[2]}
	}
	return Problem{Message: "invalid YAML: " + strings.TrimPrefix(msg, "yaml: ")}
}

// yamlConverter turns a yaml.Node tree into a cnode tree, expanding
// aliases and merge keys within a budget.
type yamlConverter struct {
	nodes      int
	inProgress map[*yaml.Node]bool
	err        *Problem
}

func (c *yamlConverter) fail(n *yaml.Node, msg string) *cnode {
	if c.err == nil {
		c.err = &Problem{Line: n.Line, Column: n.Column, Message: msg}
	}
	return &cnode{kind: cNull, line: n.Line, col: n.Column}
}

func (c *yamlConverter) convert(n *yaml.Node, depth int) *cnode {
	if c.err != nil {
		return &cnode{}
	}
	c.nodes++
	if c.nodes > maxNodes {
		return c.fail(n, fmt.Sprintf("document has more than %d values once its aliases are expanded", maxNodes))
	}
	if depth > maxDepth {
		return c.fail(n, fmt.Sprintf("document is nested more than %d levels deep", maxDepth))
	}
	switch n.Kind {
	case yaml.AliasNode:
		if n.Alias == nil {
			return c.fail(n, "alias to an unknown anchor")
		}
		if c.inProgress[n.Alias] {
			return c.fail(n, "alias refers to a value that contains it")
		}
		c.inProgress[n.Alias] = true
		out := c.convert(n.Alias, depth+1)
		delete(c.inProgress, n.Alias)
		// The alias's own position is where the value is used.
		cp := *out
		cp.line, cp.col = n.Line, n.Column
		return &cp
	case yaml.ScalarNode:
		return c.scalar(n)
	case yaml.SequenceNode:
		out := &cnode{kind: cList, line: n.Line, col: n.Column}
		for _, it := range n.Content {
			out.items = append(out.items, c.convert(it, depth+1))
		}
		return out
	case yaml.MappingNode:
		return c.mapping(n, depth)
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return &cnode{kind: cNull, line: n.Line, col: n.Column}
		}
		return c.convert(n.Content[0], depth+1)
	}
	return c.fail(n, "unsupported YAML node")
}

func (c *yamlConverter) scalar(n *yaml.Node) *cnode {
	out := &cnode{line: n.Line, col: n.Column, text: n.Value}
	switch tag := n.ShortTag(); tag {
	case "!!null":
		out.kind = cNull
	case "!!bool":
		out.kind = cBool
		if err := n.Decode(&out.b); err != nil {
			return c.fail(n, "invalid boolean")
		}
	case "!!int":
		var i int64
		if err := n.Decode(&i); err == nil {
			out.kind, out.i, out.f = cInt, i, float64(i)
			break
		}
		var u uint64
		if err := n.Decode(&u); err == nil {
			out.kind, out.f = cFloat, float64(u)
			break
		}
		return c.fail(n, "invalid integer")
	case "!!float":
		out.kind = cFloat
		if err := n.Decode(&out.f); err != nil {
			return c.fail(n, "invalid number")
		}
	case "!!str", "!!timestamp", "!!binary":
		out.kind = cString
	default:
		return c.fail(n, fmt.Sprintf("unsupported YAML tag %s", tag))
	}
	return out
}

func (c *yamlConverter) mapping(n *yaml.Node, depth int) *cnode {
	out := &cnode{kind: cMap, line: n.Line, col: n.Column}
	var merges []*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.ShortTag() == "!!merge" {
			merges = append(merges, v)
			continue
		}
		if k.Kind != yaml.ScalarNode {
			return c.fail(k, "a mapping key must be a plain value, not a list or mapping")
		}
		out.keys = append(out.keys, k.Value)
		out.keyNodes = append(out.keyNodes, &cnode{kind: cString, text: k.Value, line: k.Line, col: k.Column})
		out.vals = append(out.vals, c.convert(v, depth+1))
	}
	// Merge keys (<<: *anchor): the merged mappings' entries that the
	// mapping does not set itself.
	for _, m := range merges {
		var srcs []*yaml.Node
		target := m
		if target.Kind == yaml.AliasNode && target.Alias != nil {
			target = target.Alias
		}
		switch target.Kind {
		case yaml.MappingNode:
			srcs = append(srcs, m)
		case yaml.SequenceNode:
			srcs = append(srcs, target.Content...)
		default:
			return c.fail(m, "a merge key (<<) takes a mapping or a list of mappings")
		}
		for _, s := range srcs {
			merged := c.convert(s, depth+1)
			if c.err != nil {
				return merged
			}
			if merged.kind != cMap {
				return c.fail(s, "a merge key (<<) takes a mapping or a list of mappings")
			}
			for j, key := range merged.keys {
				if out.index(key) >= 0 {
					continue
				}
				out.keys = append(out.keys, key)
				out.keyNodes = append(out.keyNodes, merged.keyNodes[j])
				out.vals = append(out.vals, merged.vals[j])
			}
		}
	}
	return out
}

// index returns the index of key in a mapping, or -1.
func (n *cnode) index(key string) int {
	for i, k := range n.keys {
		if k == key {
			return i
		}
	}
	return -1
}

// ---- JSON ----

// jsonParser builds a cnode tree from JSON with encoding/json's tokenizer,
// which keeps JSON's exact rules (escapes, surrogate pairs, numbers), and
// the byte offsets it reports, which give every value its line.
type jsonParser struct {
	data  []byte
	dec   *json.Decoder
	lines []int // offsets of line starts
	nodes int
}

func parseJSON(data []byte) (*cnode, []Problem) {
	p := &jsonParser{data: data, dec: json.NewDecoder(bytes.NewReader(data))}
	p.dec.UseNumber()
	p.lines = append(p.lines, 0)
	for i, b := range data {
		if b == '\n' {
			p.lines = append(p.lines, i+1)
		}
	}
	if len(bytes.TrimSpace(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")))) == 0 {
		return nil, nil
	}
	if bytes.HasPrefix(data, []byte("\xef\xbb\xbf")) {
		// encoding/json rejects a byte order mark; blank it, keeping offsets.
		p.data = append([]byte("   "), data[3:]...)
		p.dec = json.NewDecoder(bytes.NewReader(p.data))
		p.dec.UseNumber()
	}
	root, prob := p.value(0)
	if prob != nil {
		return nil, []Problem{*prob}
	}
	if _, err := p.dec.Token(); err != io.EOF {
		line, col := p.position(p.next())
		return nil, []Problem{{Line: line, Column: col, Message: "invalid JSON: data after the top-level value"}}
	}
	return root, nil
}

// next returns the offset where the next token starts.
func (p *jsonParser) next() int {
	off := int(p.dec.InputOffset())
	for off < len(p.data) {
		switch p.data[off] {
		case ' ', '\t', '\r', '\n', ',', ':':
			off++
			continue
		}
		break
	}
	return off
}

// position converts a byte offset to a 1-based line and column.
func (p *jsonParser) position(off int) (line, col int) {
	i := sort.Search(len(p.lines), func(i int) bool { return p.lines[i] > off }) - 1
	if i < 0 {
		i = 0
	}
	return i + 1, off - p.lines[i] + 1
}

func (p *jsonParser) syntaxError(err error) *Problem {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		line, col := p.position(max(0, int(se.Offset)-1))
		return &Problem{Line: line, Column: col, Message: "invalid JSON: " + se.Error()}
	}
	if err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) {
		line, col := p.position(len(p.data))
		return &Problem{Line: line, Column: col, Message: "invalid JSON: unexpected end of file"}
	}
	line, col := p.position(p.next())
	return &Problem{Line: line, Column: col, Message: "invalid JSON: " + err.Error()}
}

func (p *jsonParser) value(depth int) (*cnode, *Problem) {
	start := p.next()
	line, col := p.position(start)
	tok, err := p.dec.Token()
	if err != nil {
		return nil, p.syntaxError(err)
	}
	p.nodes++
	if p.nodes > maxNodes {
		return nil, &Problem{Line: line, Column: col, Message: fmt.Sprintf("document has more than %d values", maxNodes)}
	}
	n := &cnode{line: line, col: col}
	switch t := tok.(type) {
	case nil:
		n.kind = cNull
	case bool:
		n.kind, n.b = cBool, t
		n.text = strconv.FormatBool(t)
	case string:
		n.kind, n.text = cString, t
	case json.Number:
		n.text = string(t)
		if i, err := strconv.ParseInt(n.text, 10, 64); err == nil {
			n.kind, n.i, n.f = cInt, i, float64(i)
		} else {
			f, err := strconv.ParseFloat(n.text, 64)
			if err != nil && !errors.Is(err, strconv.ErrRange) {
				return nil, &Problem{Line: line, Column: col, Message: "invalid JSON number"}
			}
			n.kind, n.f = cFloat, f
		}
	case json.Delim:
		if depth >= maxDepth {
			return nil, &Problem{Line: line, Column: col, Message: fmt.Sprintf("document is nested more than %d levels deep", maxDepth)}
		}
		switch t {
		case '{':
			n.kind = cMap
			for p.dec.More() {
				kstart := p.next()
				kline, kcol := p.position(kstart)
				ktok, err := p.dec.Token()
				if err != nil {
					return nil, p.syntaxError(err)
				}
				key, ok := ktok.(string)
				if !ok {
					return nil, &Problem{Line: kline, Column: kcol, Message: "invalid JSON: object key is not a string"}
				}
				v, prob := p.value(depth + 1)
				if prob != nil {
					return nil, prob
				}
				n.keys = append(n.keys, key)
				n.keyNodes = append(n.keyNodes, &cnode{kind: cString, text: key, line: kline, col: kcol})
				n.vals = append(n.vals, v)
			}
		case '[':
			n.kind = cList
			for p.dec.More() {
				v, prob := p.value(depth + 1)
				if prob != nil {
					return nil, prob
				}
				n.items = append(n.items, v)
			}
		default:
			return nil, &Problem{Line: line, Column: col, Message: fmt.Sprintf("invalid JSON: unexpected %q", rune(t))}
		}
		if _, err := p.dec.Token(); err != nil { // the closing delimiter
			return nil, p.syntaxError(err)
		}
	}
	return n, nil
}

// finite reports whether f is a finite number.
func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }

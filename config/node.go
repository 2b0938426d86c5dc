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
// becomes a tree of yaml.Nodes that remember their line and column, and the
// tree is then decoded into the File types (decode.go). Both syntaxes give
// the same tree, so everything after the first step is shared, and JSON
// errors have lines too.

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
func parseDocument(data []byte, syntax string) (*yaml.Node, []Problem) {
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
func parseYAML(data []byte) (root *yaml.Node, probs []Problem) {
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
	if doc.Kind == yaml.DocumentNode {
		if len(doc.Content) == 0 {
			return nil, nil
		}
		return doc.Content[0], nil
	}
	return &doc, nil
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

// ---- JSON ----

// jsonParser builds a yaml.Node tree from JSON with encoding/json's tokenizer,
// which keeps JSON's exact rules (escapes, surrogate pairs, numbers), and
// the byte offsets it reports, which give every value its line.
type jsonParser struct {
	data  []byte
	dec   *json.Decoder
	lines []int // offsets of line starts
	nodes int
}

func parseJSON(data []byte) (*yaml.Node, []Problem) {
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

func (p *jsonParser) value(depth int) (*yaml.Node, *Problem) {
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
	n := &yaml.Node{Kind: yaml.ScalarNode, Line: line, Column: col}
	switch t := tok.(type) {
	case nil:
		n.Tag, n.Value = "!!null", "null"
	case bool:
		n.Tag, n.Value = "!!bool", strconv.FormatBool(t)
	case string:
		n.Tag, n.Value = "!!str", t
	case json.Number:
		n.Tag, n.Value = "!!float", string(t)
		if _, err := strconv.ParseInt(n.Value, 10, 64); err == nil {
			n.Tag = "!!int"
		}
	case json.Delim:
		if depth >= maxDepth {
			return nil, &Problem{Line: line, Column: col, Message: fmt.Sprintf("document is nested more than %d levels deep", maxDepth)}
		}
		switch t {
		case '{':
			n.Kind, n.Tag = yaml.MappingNode, "!!map"
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
				k := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key, Line: kline, Column: kcol}
				n.Content = append(n.Content, k, v)
			}
		case '[':
			n.Kind, n.Tag = yaml.SequenceNode, "!!seq"
			for p.dec.More() {
				v, prob := p.value(depth + 1)
				if prob != nil {
					return nil, prob
				}
				n.Content = append(n.Content, v)
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

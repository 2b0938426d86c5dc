package config

import (
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// decoder decodes a YAML node tree into a File by the fields' yaml tags. It
// checks shapes and types (unknown fields, a string where a number
// belongs), follows aliases and merge keys within a budget, expands ${ENV}
// and records every value's position; File.check then checks the values.
// Every problem is collected, none stops the decoding but an exhausted
// budget.
type decoder struct {
	lookup  func(string) (string, bool)
	pos     map[string]position
	probs   []Problem
	nodes   int
	depth   int
	open    map[*yaml.Node]bool // the nodes being decoded, to find cycles
	stopped bool
}

func (d *decoder) problem(n *yaml.Node, path, format string, args ...any) {
	p := Problem{Path: path, Message: fmt.Sprintf(format, args...)}
	if n != nil {
		p.Line, p.Column = n.Line, n.Column
	}
	d.probs = append(d.probs, p)
}

// stop records a problem that ends the decoding: the document itself is
// too large or malformed to go on.
func (d *decoder) stop(n *yaml.Node, format string, args ...any) {
	if !d.stopped {
		d.problem(n, "", format, args...)
		d.stopped = true
	}
}

func (d *decoder) typeErr(n *yaml.Node, path, want string) {
	d.problem(n, path, "must be %s, got %s", want, kindName(n))
}

func (d *decoder) mark(path string, n *yaml.Node) {
	d.pos[path] = position{n.Line, n.Column}
}

// kindName names a node's kind in messages ("got a list").
func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	switch n.ShortTag() {
	case "!!null":
		return "null"
	case "!!bool":
		return "a boolean"
	case "!!int", "!!float":
		return "a number"
	}
	return "a string"
}

// resolve follows an alias (the value keeps the alias's position) and
// counts the node against the budget. It returns nil when the decoding
// must stop; done must be called when the node's value is decoded.
func (d *decoder) resolve(n *yaml.Node) (out *yaml.Node, done func()) {
	if d.stopped {
		return nil, nil
	}
	if d.nodes++; d.nodes > maxNodes {
		d.stop(n, "document has more than %d values once its aliases are expanded", maxNodes)
		return nil, nil
	}
	orig := n
	if n.Kind == yaml.AliasNode {
		if orig = n.Alias; orig == nil {
			d.stop(n, "alias to an unknown anchor")
			return nil, nil
		}
		if orig.Kind == yaml.AliasNode {
			d.stop(n, "alias to an alias")
			return nil, nil
		}
		cp := *orig
		cp.Line, cp.Column = n.Line, n.Column
		out = &cp
	} else {
		out = n
	}
	if d.open[orig] {
		d.stop(n, "alias refers to a value that contains it")
		return nil, nil
	}
	d.open[orig] = true
	return out, func() { delete(d.open, orig) }
}

// entry is a key and its value in a mapping.
type entry struct{ key, val *yaml.Node }

// entries returns a mapping's entries in order: its own, then those of
// its merge keys (<<: *anchor) that it does not set itself. Duplicate keys
// are problems.
func (d *decoder) entries(n *yaml.Node, path string) []entry {
	var out []entry
	var merges []*yaml.Node
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.ShortTag() == "!!merge" {
			merges = append(merges, v)
			continue
		}
		if k.Kind != yaml.ScalarNode {
			d.stop(k, "a mapping key must be a plain value, not a list or mapping")
			return nil
		}
		if seen[k.Value] {
			d.problem(k, pathKey(path, k.Value), "duplicate key")
			continue
		}
		seen[k.Value] = true
		out = append(out, entry{k, v})
	}
	for _, m := range merges {
		m, done := d.resolve(m)
		if m == nil {
			return nil
		}
		defer done()
		srcs := []*yaml.Node{m}
		if m.Kind == yaml.SequenceNode {
			srcs = m.Content
		}
		for _, s := range srcs {
			s, done := d.resolve(s)
			if s == nil {
				return nil
			}
			if s.Kind != yaml.MappingNode {
				d.stop(s, "a merge key (<<) takes a mapping or a list of mappings")
				return nil
			}
			for _, e := range d.entries(s, path) {
				if !seen[e.key.Value] {
					seen[e.key.Value] = true
					out = append(out, e)
				}
			}
			done()
		}
	}
	return out
}

var (
	distType   = reflect.TypeFor[Dist]()
	promptType = reflect.TypeFor[Prompt]()
	anyType    = reflect.TypeFor[any]()
)

// value decodes n into v, by v's type.
func (d *decoder) value(n *yaml.Node, path string, v reflect.Value) {
	n, done := d.resolve(n)
	if n == nil {
		return
	}
	defer done()
	if d.depth++; d.depth > maxDepth {
		d.stop(n, "document is nested more than %d levels deep", maxDepth)
		return
	}
	defer func() { d.depth-- }()
	d.into(n, path, v)
}

// into decodes a resolved node into v, by v's type.
func (d *decoder) into(n *yaml.Node, path string, v reflect.Value) {
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" && v.Kind() != reflect.Interface {
		return // a null is the same as leaving the key out
	}
	if n.Kind == yaml.ScalarNode {
		switch tag := n.ShortTag(); tag {
		case "!!null", "!!bool", "!!int", "!!float", "!!str", "!!timestamp", "!!binary":
		default:
			d.stop(n, "unsupported YAML tag %s", tag)
			return
		}
	}
	t := v.Type()
	switch {
	case t == distType:
		if spec := d.dist(n, path); spec != nil {
			v.Set(reflect.ValueOf(*spec))
		}
		return
	case t == anyType:
		if x := d.anyValue(n, path); x != nil {
			v.Set(reflect.ValueOf(x))
		}
		return
	case t == promptType && n.Kind == yaml.ScalarNode:
		// prompt: "text" is short for prompt: {text: "text"}.
		v.FieldByName("Text").SetString(d.str(n, path))
		return
	}
	switch t.Kind() {
	case reflect.Pointer:
		p := reflect.New(t.Elem())
		d.into(n, path, p.Elem())
		v.Set(p)
	case reflect.Struct:
		d.structure(n, path, v)
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			d.typeErr(n, path, "a list")
			return
		}
		s := reflect.MakeSlice(t, len(n.Content), len(n.Content))
		for i, it := range n.Content {
			ip := pathIndex(path, i)
			d.mark(ip, it)
			d.value(it, ip, s.Index(i))
		}
		v.Set(s)
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			d.typeErr(n, path, "a mapping")
			return
		}
		m := reflect.MakeMap(t)
		for _, e := range d.entries(n, path) {
			kp := pathKey(path, e.key.Value)
			d.mark(kp, e.key)
			ev := reflect.New(t.Elem()).Elem()
			d.value(e.val, kp, ev)
			m.SetMapIndex(reflect.ValueOf(e.key.Value).Convert(t.Key()), ev)
		}
		v.Set(m)
	case reflect.String:
		v.SetString(d.str(n, path))
	case reflect.Bool:
		v.SetBool(d.boolean(n, path))
	case reflect.Int:
		v.SetInt(int64(d.intField(n, path)))
	case reflect.Uint64:
		if i, ok := d.integer(n, path); ok {
			if i < 0 {
				d.problem(n, path, "must be >= 0")
			} else {
				v.SetUint(uint64(i))
			}
		}
	case reflect.Float64:
		v.SetFloat(d.number(n, path))
	default:
		panic(fmt.Sprintf("config: no decoding for %v", t))
	}
}

// structure decodes a mapping into a struct by its fields' yaml tags.
func (d *decoder) structure(n *yaml.Node, path string, v reflect.Value) {
	if n.Kind != yaml.MappingNode {
		if path == "" {
			d.problem(n, "", "a configuration must be a mapping of version, providers, workload, execution and output, got %s", kindName(n))
			return
		}
		d.typeErr(n, path, "a mapping")
		return
	}
	fields, names := yamlFields(v.Type())
	for _, e := range d.entries(n, path) {
		kp := pathKey(path, e.key.Value)
		i, ok := fields[e.key.Value]
		if !ok {
			d.problem(e.key, kp, "unknown field%s", suggest(e.key.Value, names))
			continue
		}
		d.mark(kp, e.key)
		d.value(e.val, kp, v.Field(i))
	}
}

// yamlFields returns the fields of a struct type by their yaml key, and
// the keys in order.
func yamlFields(t reflect.Type) (map[string]int, []string) {
	fields := map[string]int{}
	var names []string
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		if name == "" || name == "-" {
			continue
		}
		fields[name] = i
		names = append(names, name)
	}
	return fields, names
}

// expand replaces ${ENV} references in a string value.
func (d *decoder) expand(n *yaml.Node, path, s string) (string, bool) {
	out, err := expandEnv(s, d.lookup)
	if err != nil {
		d.problem(n, path, "%v", err)
		return "", false
	}
	return out, true
}

// str decodes a string. Numbers and booleans are taken as written.
func (d *decoder) str(n *yaml.Node, path string) string {
	if n.Kind != yaml.ScalarNode {
		d.typeErr(n, path, "a string")
		return ""
	}
	if n.ShortTag() != "!!str" {
		return n.Value
	}
	s, _ := d.expand(n, path, n.Value)
	return s
}

// envText returns the text of a string value, expanded, for the number
// and boolean decoders: a string is only a number when it came from
// ${ENV}.
func (d *decoder) envText(n *yaml.Node, path string) (text string, isEnv, ok bool) {
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!str" || !strings.Contains(n.Value, "${") {
		return "", false, false
	}
	s, ok := d.expand(n, path, n.Value)
	return strings.TrimSpace(s), true, ok
}

// integer decodes a whole number.
func (d *decoder) integer(n *yaml.Node, path string) (int64, bool) {
	if s, isEnv, ok := d.envText(n, path); isEnv {
		if !ok {
			return 0, false // expand reported it
		}
		if v, err := strconv.ParseInt(s, 10, 64); err == nil {
			return v, true
		}
		d.problem(n, path, "must be a whole number (after expanding ${...})")
		return 0, false
	}
	switch n.ShortTag() {
	case "!!int", "!!float":
		if n.Kind != yaml.ScalarNode {
			break
		}
		var i int64
		if n.ShortTag() == "!!int" && n.Decode(&i) == nil {
			return i, true
		}
		f := d.float(n)
		if f == math.Trunc(f) && math.Abs(f) < 1<<63 {
			return int64(f), true
		}
		if finite(f) && f == math.Trunc(f) {
			d.problem(n, path, "must be a whole number within ±9223372036854775807")
		} else {
			d.problem(n, path, "must be a whole number, got a fraction")
		}
		return 0, false
	}
	d.typeErr(n, path, "a whole number")
	return 0, false
}

// float returns the value of a number scalar.
func (d *decoder) float(n *yaml.Node) float64 {
	var f float64
	if err := n.Decode(&f); err != nil {
		var u uint64
		if n.Decode(&u) == nil {
			return float64(u)
		}
		return math.NaN()
	}
	return f
}

// intField decodes a whole number that fits an int.
func (d *decoder) intField(n *yaml.Node, path string) int {
	v, ok := d.integer(n, path)
	if !ok {
		return 0
	}
	if int64(int(v)) != v {
		d.problem(n, path, "out of range")
		return 0
	}
	return int(v)
}

// number decodes a number.
func (d *decoder) number(n *yaml.Node, path string) float64 {
	if s, isEnv, ok := d.envText(n, path); isEnv {
		if !ok {
			return 0
		}
		if v, err := strconv.ParseFloat(s, 64); err == nil && finite(v) {
			return v
		}
		d.problem(n, path, "must be a number (after expanding ${...})")
		return 0
	}
	if n.Kind == yaml.ScalarNode && (n.ShortTag() == "!!int" || n.ShortTag() == "!!float") {
		f := d.float(n)
		if !finite(f) {
			d.problem(n, path, "must be a finite number")
			return 0
		}
		return f
	}
	d.typeErr(n, path, "a number")
	return 0
}

// boolean decodes true or false.
func (d *decoder) boolean(n *yaml.Node, path string) bool {
	if s, isEnv, ok := d.envText(n, path); isEnv {
		if !ok {
			return false
		}
		switch strings.ToLower(s) {
		case "true":
			return true
		case "false":
			return false
		}
		d.problem(n, path, "must be true or false (after expanding ${...})")
		return false
	}
	var b bool
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!bool" && n.Decode(&b) == nil {
		return b
	}
	d.typeErr(n, path, "true or false")
	return false
}

// anyValue decodes a value of any shape: nil, bool, int64, float64,
// string (expanded), []any or map[string]any.
func (d *decoder) anyValue(n *yaml.Node, path string) any {
	switch n.Kind {
	case yaml.SequenceNode:
		var out []any
		d.into(n, path, reflect.ValueOf(&out).Elem())
		return out
	case yaml.MappingNode:
		var out map[string]any
		d.into(n, path, reflect.ValueOf(&out).Elem())
		return out
	}
	switch n.ShortTag() {
	case "!!null":
		return nil
	case "!!bool":
		return d.boolean(n, path)
	case "!!int":
		if i, err := strconv.ParseInt(n.Value, 0, 64); err == nil || n.Decode(&i) == nil {
			return i
		}
		return d.float(n)
	case "!!float":
		return d.float(n)
	}
	s, _ := d.expand(n, path, n.Value)
	return s
}

// dist decodes a distribution.
func (d *decoder) dist(n *yaml.Node, path string) *Dist {
	before := len(d.probs)
	v := d.anyValue(n, path)
	if len(d.probs) > before {
		return nil
	}
	spec, err := parseDist(v)
	if err != nil {
		d.problem(n, path, "%v", err)
		return nil
	}
	return &spec
}

// decodeFile decodes a document's root into a File with its defaults.
func (d *decoder) decodeFile(root *yaml.Node) *File {
	c := &File{
		Version: "1.0",
		Workload: Workload{
			RequestParams: RequestParams{Stream: true},
		},
		Execution: Execution{HTTP: HTTP{HTTP2: true}},
		Output: Output{Console: Console{
			Enabled: true, Format: "table", ShowProgress: true,
		}},
	}
	if root == nil {
		return c
	}
	d.mark("", root)
	d.value(root, "", reflect.ValueOf(c).Elem())
	return c
}

// ---- ${ENV} ----

// expandEnv replaces ${NAME} and ${NAME:-default} in s from lookup; $${
// stands for a literal ${. An unset variable without a default is an
// error naming the variable; values never appear in errors.
func expandEnv(s string, lookup func(string) (string, bool)) (string, error) {
	if !strings.Contains(s, "${") {
		return s, nil
	}
	var b strings.Builder
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			b.WriteString(s)
			return b.String(), nil
		}
		if i > 0 && s[i-1] == '$' {
			b.WriteString(s[:i]) // keeps one '$'
			b.WriteString("{")
			s = s[i+2:]
			continue
		}
		b.WriteString(s[:i])
		end := strings.IndexByte(s[i:], '}')
		if end < 0 {
			return "", fmt.Errorf("unterminated ${ (write $${ for a literal ${)")
		}
		ref := s[i+2 : i+end]
		s = s[i+end+1:]
		name, def, hasDef := strings.Cut(ref, ":-")
		if !validEnvName(name) {
			return "", fmt.Errorf("invalid environment variable reference ${...}: a name is letters, digits and _, not starting with a digit")
		}
		v, ok := lookup(name)
		switch {
		case ok && (v != "" || !hasDef):
			b.WriteString(v)
		case hasDef:
			b.WriteString(def)
		default:
			return "", fmt.Errorf("environment variable %s is not set (write ${%s:-default} for a default)", name, name)
		}
	}
}

func validEnvName(s string) bool {
	if s == "" || s[0] >= '0' && s[0] <= '9' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// toNumber converts a decoded number (or a string holding one) to float64.
func toNumber(v any) (float64, bool) {
	switch x := v.(type) {
	case int64:
		return float64(x), true
	case int:
		return float64(x), true
	case float64:
		return x, finite(x)
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
		return f, err == nil && finite(f)
	}
	return 0, false
}

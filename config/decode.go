package config

import (
	"errors"
	"fmt"
	"math"
	"reflect"
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

	// typed is the struct type of a provider's settings or a database's
	// connection being decoded, and unknownTyped words a key it lacks.
	typed        reflect.Type
	unknownTyped func(key string) string
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
	orig, out := n, n
	if n.Kind == yaml.AliasNode {
		// yaml.v3's parser refuses an unknown anchor and puts none on an
		// alias, so n.Alias is a value.
		orig = n.Alias
		cp := *orig
		cp.Line, cp.Column = n.Line, n.Column
		out = &cp
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

// The walk below over mappings, lists, aliases and merge keys is ours;
// scalars and the types that decode themselves (Dist, Prompt) go through
// yaml.v3. The library's own decoding into Go values (Node.Decode, or
// Decoder.Decode with KnownFields) would lose what users value:
//   - its errors are strings with a line but no column and no key path
//     ("line 3: cannot unmarshal !!str `lots` into int");
//   - KnownFields exists only on a Decoder that reads bytes, not on
//     Node.Decode (which JSON input and UnmarshalYAML need); its message
//     names the Go type, not the key, and suggests nothing;
//   - it truncates a fraction into an int (1.5 becomes 1) and takes
//     "yes", "off" or a quoted "no" as a bool;
//   - a merge key of the wrong shape ends the decoding with one error
//     and no line;
//   - it resolves aliases and merge keys only while filling Go values,
//     never into a tree with positions, and each Node.Decode starts
//     afresh (no alias budget; an alias inside its own value overflows
//     the stack when an UnmarshalYAML decodes into its own type).

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
	t := v.Type()
	if t.Kind() == reflect.Pointer {
		p := reflect.New(t.Elem())
		d.into(n, path, p.Elem())
		v.Set(p)
		return
	}
	env := false
	if n.Kind == yaml.ScalarNode {
		switch tag := n.ShortTag(); tag {
		case "!!null", "!!bool", "!!int", "!!float", "!!timestamp", "!!binary":
		case "!!str":
			if n, env = d.expand(n, path); n == nil {
				return
			}
		default:
			d.stop(n, "unsupported YAML tag %s", tag)
			return
		}
	}
	// A type that decodes itself does, but for a mapping into a struct of
	// keys (a prompt's long form), which is walked here key by key.
	if u, ok := v.Addr().Interface().(yaml.Unmarshaler); ok {
		if _, keys := yamlFields(t); n.Kind == yaml.ScalarNode || len(keys) == 0 {
			d.unmarshal(u, n, path)
			return
		}
	}
	switch t.Kind() {
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
	case reflect.Interface:
		if x := d.anyValue(n, path); x != nil {
			v.Set(reflect.ValueOf(x))
		}
	case reflect.String:
		if n.Kind != yaml.ScalarNode {
			d.typeErr(n, path, "a string")
			return
		}
		v.SetString(n.Value) // numbers and booleans as written
	case reflect.Bool, reflect.Int, reflect.Uint64, reflect.Float64:
		d.scalar(n, path, v, env)
	default:
		panic(fmt.Sprintf("config: no decoding for %v", t))
	}
}

// unmarshal lets a type that decodes itself decode n; each error of its
// *yaml.TypeError ("line 3: message") is a problem at n.
func (d *decoder) unmarshal(u yaml.Unmarshaler, n *yaml.Node, path string) {
	err := u.UnmarshalYAML(n)
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		if err != nil {
			d.problem(n, path, "%v", err)
		}
		return
	}
	for _, e := range te.Errors {
		d.problem(n, path, "%s", strings.TrimPrefix(e, fmt.Sprintf("line %d: ", n.Line)))
	}
}

// typeError is err as an UnmarshalYAML returns it, so that yaml.v3 goes
// on decoding and reports it with n's line.
func typeError(n *yaml.Node, err error) error {
	return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: %v", n.Line, err)}}
}

// structure decodes a mapping into a struct by its fields' yaml tags.
func (d *decoder) structure(n *yaml.Node, path string, v reflect.Value) {
	if n.Kind != yaml.MappingNode {
		switch {
		case path == "":
			d.problem(n, "", "a configuration must be a mapping of version, providers, workload, execution and output, got %s", kindName(n))
		case v.Type() == reflect.TypeFor[Faults]():
			d.typeErr(n, path, "a mapping of fault names to rates ("+strings.Join(FaultNames(), ", ")+"), retry_after_ms and stall_for_ms")
		default:
			d.typeErr(n, path, "a mapping")
		}
		return
	}
	fields, names := yamlFields(v.Type())
	var typed *entry // a field whose type the struct's type key chooses
	for _, e := range d.entries(n, path) {
		kp := pathKey(path, e.key.Value)
		i, ok := fields[e.key.Value]
		if !ok {
			d.problem(e.key, kp, "%s", d.unknownKey(v.Type(), e.key.Value, names))
			continue
		}
		d.mark(kp, e.key)
		if t := v.Field(i).Type(); t == settingsType || t == connectionType {
			typed = &entry{e.key, e.val} // decoded last, once the type is known
			continue
		}
		d.value(e.val, kp, v.Field(i))
	}
	if typed == nil {
		return
	}
	kp := pathKey(path, typed.key.Value)
	switch x := v.Addr().Interface().(type) {
	case *Provider:
		d.settings(typed.val, kp, x)
	case *Database:
		d.connection(typed.val, kp, x)
	}
}

var (
	settingsType   = reflect.TypeFor[ProviderSettings]()
	connectionType = reflect.TypeFor[DatabaseConnection]()
)

// settings decodes a provider's settings into the ProviderSettings of
// its type. A provider whose type is unknown has its settings left
// undecoded (the type's problem is reported).
func (d *decoder) settings(n *yaml.Node, path string, p *Provider) {
	typ, _, err := resolveType(p.Type, p.Name)
	if err != nil {
		return
	}
	if s := d.typedStruct(n, path, settingsTypes[typ], func(key string) string { return unknownSetting(typ, key) }); s != nil {
		p.Settings = s.(ProviderSettings)
	}
}

// connection decodes a database's connection into the DatabaseConnection
// of its type. One whose type is unknown is left undecoded (the type's
// problem is reported, or here when the type is left out).
func (d *decoder) connection(n *yaml.Node, path string, db *Database) {
	t, ok := connectionTypes[db.Type]
	if !ok {
		if db.Type == "" && !db.Enabled && !(n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null") {
			d.problem(n, path, "%s", noDatabaseType)
		}
		return
	}
	db.Connection = d.typedStruct(n, path, t, func(key string) string { return unknownConnectionKey(db.Type, key) }).(DatabaseConnection)
}

// typedStruct decodes n into a new *t, t being the struct type a
// sibling "type" key chose, a key t lacks worded by unknown. It returns
// nil for a struct of no fields.
func (d *decoder) typedStruct(n *yaml.Node, path string, t reflect.Type, unknown func(key string) string) any {
	s := reflect.New(t)
	outerT, outerU := d.typed, d.unknownTyped
	d.typed, d.unknownTyped = t, unknown
	d.value(n, path, s.Elem())
	d.typed, d.unknownTyped = outerT, outerU
	if t.NumField() == 0 {
		return nil
	}
	return s.Interface()
}

// unknownKey words the problem of a key that struct type t does not have
// (names are the keys it has).
func (d *decoder) unknownKey(t reflect.Type, key string, names []string) string {
	switch {
	case d.typed != nil && t == d.typed:
		return d.unknownTyped(key)
	case t == reflect.TypeFor[Faults]():
		return unknownFault(key)
	}
	return "unknown field" + suggest(key, names)
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

// expand returns a string scalar with its ${ENV} references replaced (a
// copy at the same place) and whether it held any; nil when one cannot
// be expanded.
func (d *decoder) expand(n *yaml.Node, path string) (*yaml.Node, bool) {
	if !strings.Contains(n.Value, "${") {
		return n, false
	}
	s, err := expandEnv(n.Value, d.lookup)
	if err != nil {
		d.problem(n, path, "%v", err)
		return nil, true
	}
	cp := *n
	cp.Value = s
	return &cp, true
}

// scalar decodes a boolean or a number with yaml.v3, once the node's own
// tag says it is one (the library would take "yes" for true and 1.5 for
// 1). A string is a number or a boolean only when it came from ${ENV}
// (env): its text is then read as if it were written unquoted.
func (d *decoder) scalar(n *yaml.Node, path string, v reflect.Value, env bool) {
	want, tags := "a number", "!!int !!float"
	switch v.Kind() {
	case reflect.Bool:
		want, tags = "true or false", "!!bool"
	case reflect.Int, reflect.Uint64:
		want = "a whole number"
	}
	after := ""
	if env {
		n = &yaml.Node{Kind: yaml.ScalarNode, Value: strings.TrimSpace(n.Value), Line: n.Line, Column: n.Column}
		after = " (after expanding ${...})"
	}
	if n.Kind != yaml.ScalarNode || !strings.Contains(tags, n.ShortTag()) {
		if env {
			d.problem(n, path, "must be %s%s", want, after)
		} else {
			d.typeErr(n, path, want)
		}
		return
	}
	// Exact where the library can be: a bool, a float, an int from a whole
	// number as written (1e3 and 2.0 go the float's way below).
	if n.ShortTag() == "!!int" || v.Kind() == reflect.Bool || v.Kind() == reflect.Float64 {
		if n.Decode(v.Addr().Interface()) == nil && (v.Kind() != reflect.Float64 || finite(v.Float())) {
			return
		}
	}
	var f float64
	_ = n.Decode(&f)
	v.SetZero()
	switch {
	case v.Kind() == reflect.Float64:
		d.problem(n, path, "must be a finite number%s", after)
	case v.Kind() == reflect.Uint64 && f < 0:
		d.problem(n, path, "must be >= 0%s", after)
	case f != math.Trunc(f) || math.IsNaN(f):
		d.problem(n, path, "must be a whole number, got a fraction%s", after)
	case math.Abs(f) < 1<<63:
		v.Set(reflect.ValueOf(int64(f)).Convert(v.Type()))
	default:
		d.problem(n, path, "must be a whole number within ±9223372036854775807%s", after)
	}
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
	var x any
	switch n.ShortTag() {
	case "!!null", "!!bool", "!!int", "!!float":
		if n.Decode(&x) != nil {
			return n.Value
		}
	default:
		return n.Value // a string, a timestamp or binary, as written
	}
	switch i := x.(type) {
	case int:
		return int64(i)
	case uint64:
		return float64(i)
	}
	return x
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

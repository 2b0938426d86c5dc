// Package yamlkeys lists and edits the keys of a YAML document by path, for
// tests that walk a configuration file key by key.
//
// A path joins mapping keys with "." and list indexes with "[i]":
// "providers[0].settings.ttft_ms". Keys that hold "." or "[" cannot be
// named.
package yamlkeys

import (
	"bytes"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Leaves returns the path of every key of the YAML document data whose
// value is a scalar, a list of scalars or empty, in document order. A key
// whose value is a mapping or a list of mappings is not a leaf: its keys
// are listed instead.
func Leaves(data []byte) ([]string, error) {
	root, err := parse(data)
	if err != nil {
		return nil, err
	}
	var out []string
	var walk func(n *yaml.Node, path string)
	walk = func(n *yaml.Node, path string) {
		switch n.Kind {
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				p := join(path, k.Value)
				if container(v) {
					walk(v, p)
				} else {
					out = append(out, p)
				}
			}
		case yaml.SequenceNode:
			for i, it := range n.Content {
				walk(it, path+"["+strconv.Itoa(i)+"]")
			}
		}
	}
	walk(root, "")
	return out, nil
}

// container reports whether n holds keys: a mapping, or a list with a
// mapping in it.
func container(n *yaml.Node) bool {
	switch n.Kind {
	case yaml.MappingNode:
		return len(n.Content) > 0
	case yaml.SequenceNode:
		for _, it := range n.Content {
			if it.Kind == yaml.MappingNode {
				return true
			}
		}
	}
	return false
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// Set returns data with the value at path replaced by value, a YAML
// value ("42", "[a, b]", "{x: 1}"). The key is added to its mapping when
// missing, and the item to its list when its index is the list's length;
// a missing mapping on the way or an index further out is an error.
func Set(data []byte, path, value string) ([]byte, error) {
	root, err := parse(data)
	if err != nil {
		return nil, err
	}
	var v yaml.Node
	if err := yaml.Unmarshal([]byte(value), &v); err != nil {
		return nil, fmt.Errorf("yamlkeys: value %q: %w", value, err)
	}
	repl := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null"}
	if len(v.Content) == 1 {
		repl = v.Content[0]
	}
	steps, err := split(path)
	if err != nil {
		return nil, err
	}
	n := root
	for i, s := range steps {
		last := i == len(steps)-1
		if s.key == "" {
			if n.Kind == yaml.SequenceNode && last && s.index == len(n.Content) {
				n.Content = append(n.Content, repl)
				break
			}
			if n.Kind != yaml.SequenceNode || s.index >= len(n.Content) {
				return nil, fmt.Errorf("yamlkeys: %s: no item %d", path, s.index)
			}
			if last {
				n.Content[s.index] = repl
				break
			}
			n = n.Content[s.index]
			continue
		}
		if n.Kind != yaml.MappingNode {
			return nil, fmt.Errorf("yamlkeys: %s: %q is not in a mapping", path, s.key)
		}
		found := false
		for j := 0; j+1 < len(n.Content); j += 2 {
			if n.Content[j].Value == s.key {
				if last {
					n.Content[j+1] = repl
				} else {
					n = n.Content[j+1]
				}
				found = true
				break
			}
		}
		if !found {
			if !last {
				return nil, fmt.Errorf("yamlkeys: %s: no key %q", path, s.key)
			}
			n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: s.key}, repl)
		}
	}
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(root); err != nil {
		return nil, fmt.Errorf("yamlkeys: %w", err)
	}
	return b.Bytes(), enc.Close()
}

// SetAll is Set of every path of edits to its value, in the order of the
// paths.
func SetAll(data []byte, edits map[string]string) ([]byte, error) {
	paths := make([]string, 0, len(edits))
	for p := range edits {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		var err error
		if data, err = Set(data, p, edits[p]); err != nil {
			return nil, err
		}
	}
	return data, nil
}

type step struct {
	key   string
	index int
}

func split(path string) ([]step, error) {
	var out []step
	for _, part := range strings.Split(path, ".") {
		key, rest, _ := strings.Cut(part, "[")
		if key != "" {
			out = append(out, step{key: key})
		}
		for rest != "" {
			num, after, ok := strings.Cut(rest, "]")
			i, err := strconv.Atoi(num)
			if !ok || err != nil {
				return nil, fmt.Errorf("yamlkeys: bad path %q", path)
			}
			out = append(out, step{index: i})
			rest = strings.TrimPrefix(after, "[")
		}
	}
	return out, nil
}

func parse(data []byte) (*yaml.Node, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("yamlkeys: %w", err)
	}
	if len(doc.Content) != 1 {
		return nil, fmt.Errorf("yamlkeys: not one document")
	}
	return doc.Content[0], nil
}

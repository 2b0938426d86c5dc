package providers

import (
	"fmt"
	"strconv"
	"strings"
)

// The response paths of the Generic codec, compiled into one trie so that
// an event is walked once, whatever the number of paths: the walk descends
// only into the keys and elements some path names and skips the rest.

// genericTarget is what a path locates; a trie node holds a set of them.
type genericTarget uint16

const (
	genericText genericTarget = 1 << iota
	genericReasoning
	genericToolArgs
	genericSpecial
	genericInput
	genericOutput
	genericReasoningTokens
	genericCached
	genericFinish
	genericDone
	genericError

	genericTexts  = genericText | genericReasoning | genericToolArgs
	genericCounts = genericInput | genericOutput | genericReasoningTokens | genericCached
)

// genericPathNode is a node of the path trie.
type genericPathNode struct {
	kids    []genericPathKid
	any     *genericPathNode // the "*" segment
	targets genericTarget    // what the value at this node is
}

// genericPathKid is a named child of a node.
type genericPathKid struct {
	key  string
	idx  int // the key as an array index; -1 when it is not one
	node *genericPathNode
}

// hasKids reports whether the walk must descend below n.
func (n *genericPathNode) hasKids() bool { return len(n.kids) > 0 || n.any != nil }

// key returns the child for object key k, or nil.
func (n *genericPathNode) key(k []byte) *genericPathNode {
	for i := range n.kids {
		if n.kids[i].key == string(k) {
			return n.kids[i].node
		}
	}
	return n.any
}

// index returns the child for array element i, or nil.
func (n *genericPathNode) index(i int) *genericPathNode {
	for j := range n.kids {
		if n.kids[j].idx == i {
			return n.kids[j].node
		}
	}
	return n.any
}

// child returns the child for segment seg, creating it.
func (n *genericPathNode) child(seg string) *genericPathNode {
	if seg == "*" {
		if n.any == nil {
			n.any = &genericPathNode{}
		}
		return n.any
	}
	for _, k := range n.kids {
		if k.key == seg {
			return k.node
		}
	}
	idx := -1
	if v, err := strconv.Atoi(seg); err == nil && v >= 0 && strconv.Itoa(v) == seg {
		idx = v
	}
	kid := genericPathKid{key: seg, idx: idx, node: &genericPathNode{}}
	n.kids = append(n.kids, kid)
	return kid.node
}

// add adds the path expression expr (alternatives separated by "|") of
// field, locating target.
func (n *genericPathNode) add(field, expr string, target genericTarget) error {
	if expr == "" {
		return nil
	}
	for _, alt := range strings.Split(expr, "|") {
		alt = strings.TrimSpace(alt)
		if alt == "" {
			return fmt.Errorf("%s: %q has an empty alternative", field, expr)
		}
		node := n
		for _, seg := range strings.Split(alt, ".") {
			if seg == "" {
				return fmt.Errorf("%s: %q has an empty segment (paths are dotted keys and indexes, as in \"choices.0.delta.content\")", field, alt)
			}
			node = node.child(seg)
		}
		node.targets |= target
	}
	return nil
}

// merge adds the paths below src to dst.
func (dst *genericPathNode) merge(src *genericPathNode) {
	dst.targets |= src.targets
	for _, k := range src.kids {
		dst.child(k.key).merge(k.node)
	}
	if src.any != nil {
		dst.child("*").merge(src.any)
	}
}

// spreadWildcards copies the paths below every "*" into its named
// siblings, so that a key or element matching a named child also matches
// the wildcard's paths: "outputs.0.text" and "outputs.*.reasoning" both
// apply to the first output.
func (n *genericPathNode) spreadWildcards() {
	if n.any != nil {
		for _, k := range n.kids {
			k.node.merge(n.any)
		}
		n.any.spreadWildcards()
	}
	for _, k := range n.kids {
		k.node.spreadWildcards()
	}
}

// compileGenericPaths compiles the paths of p into a trie, checking them.
func compileGenericPaths(p *Generic) (*genericPathNode, error) {
	if p.TextPath == "" && p.ReasoningPath == "" && p.ToolArgsPath == "" {
		return nil, fmt.Errorf("TextPath is required (or ReasoningPath or ToolArgsPath): it locates the output text, as in \"choices.0.delta.content\"")
	}
	if p.DoneValue != "" && p.DonePath == "" {
		return nil, fmt.Errorf("DoneValue %q needs DonePath", p.DoneValue)
	}
	root := &genericPathNode{}
	for _, f := range []struct {
		field, expr string
		target      genericTarget
	}{
		{"TextPath", p.TextPath, genericText},
		{"ReasoningPath", p.ReasoningPath, genericReasoning},
		{"ToolArgsPath", p.ToolArgsPath, genericToolArgs},
		{"SpecialPath", p.SpecialPath, genericSpecial},
		{"InputTokensPath", p.InputTokensPath, genericInput},
		{"OutputTokensPath", p.OutputTokensPath, genericOutput},
		{"ReasoningTokensPath", p.ReasoningTokensPath, genericReasoningTokens},
		{"CachedTokensPath", p.CachedTokensPath, genericCached},
		{"FinishPath", p.FinishPath, genericFinish},
		{"DonePath", p.DonePath, genericDone},
		{"ErrorPath", p.ErrorPath, genericError},
	} {
		if err := root.add(f.field, f.expr, f.target); err != nil {
			return nil, err
		}
	}
	root.spreadWildcards()
	return root, nil
}

package yamlkeys

import (
	"reflect"
	"strings"
	"testing"
)

const doc = `# a comment
a: 1
b:
  c: [x, y]
  d: {e: 2}
list:
  - {name: one, v: 1}
  - name: two
empty: {}
`

// Leaves lists scalar and scalar-list keys, in order, through mappings and
// lists of mappings.
func TestLeaves(t *testing.T) {
	got, err := Leaves([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"a", "b.c", "b.d.e", "list[0].name", "list[0].v", "list[1].name", "empty"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Leaves = %q, want %q", got, want)
	}
}

// Set replaces a value, adds a missing key or a list's next item, keeps the
// comments, and refuses paths that lead nowhere.
func TestSet(t *testing.T) {
	for _, c := range []struct{ path, value, want string }{
		{"a", "5", "a: 5"},
		{"b.d.e", "[1, 2]", "e: [1, 2]"},
		{"list[1].name", "three", "name: three"},
		{"list[2]", "{name: four}", "name: four"},
		{"b.new", "yes", "new: yes"},
	} {
		out, err := Set([]byte(doc), c.path, c.value)
		if err != nil {
			t.Errorf("Set(%s): %v", c.path, err)
			continue
		}
		if !strings.Contains(string(out), c.want) || !strings.Contains(string(out), "# a comment") {
			t.Errorf("Set(%s, %s):\n%s\nwant it to hold %q and the comment", c.path, c.value, out, c.want)
		}
		if keys, _ := Leaves(out); len(keys) == 0 {
			t.Errorf("Set(%s): the result does not parse", c.path)
		}
	}
	for _, path := range []string{"nope.x", "list[5]", "a.b", "list[x]"} {
		if _, err := Set([]byte(doc), path, "1"); err == nil {
			t.Errorf("Set(%s): no error", path)
		}
	}
}

// SetAll makes every edit.
func TestSetAll(t *testing.T) {
	out, err := SetAll([]byte(doc), map[string]string{"a": "7", "list[2]": "{name: three}", "b.c": "[z]"})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"a: 7", "name: three", "c: [z]"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("SetAll:\n%s\nwant it to hold %q", out, want)
		}
	}
	if _, err := SetAll([]byte(doc), map[string]string{"a": "1", "nope.x": "1"}); err == nil {
		t.Error("SetAll with a path that leads nowhere: no error")
	}
}

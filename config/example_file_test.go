package config

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestFullExampleEveryDocumentedValue checks that every value
// examples/full.yaml documents loads: each alternative its comments list
// for a key ("# table (default), json or minimal"), each commented-out
// block it offers (the other providers, the binary export, the timeouts),
// substituted into the file in turn, with the blocks uncommented.
func TestFullExampleEveryDocumentedValue(t *testing.T) {
	seedEnv(t)
	t.Setenv("GOOGLE_ACCESS_TOKEN", "ya29.test")
	t.Setenv("AZURE_OPENAI_API_KEY", "azure-test")
	raw, err := os.ReadFile("../examples/full.yaml")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(raw), "\n")
	load := func(what string, lines []string) {
		t.Helper()
		if _, err := Parse([]byte(strings.Join(lines, "\n")), "full.yaml"); err != nil {
			t.Errorf("%s: %v", what, err)
		}
	}
	load("as written", lines)

	// Commented-out blocks: uncomment them in place.
	uncomment := func(what, from, to string, lines []string) []string {
		t.Helper()
		start, end := -1, -1
		for i, l := range lines {
			if start < 0 && strings.Contains(l, from) {
				start = i
			} else if start >= 0 && strings.Contains(l, to) {
				end = i
				break
			}
		}
		if start < 0 || end < 0 {
			t.Fatalf("%s: no block from %q to %q", what, from, to)
		}
		alt := append([]string(nil), lines...)
		for i := start; i < end; i++ {
			if strings.TrimSpace(alt[i]) == "#" {
				alt[i] = ""
			} else if strings.HasPrefix(strings.TrimSpace(alt[i]), "# ") {
				alt[i] = strings.Replace(alt[i], "# ", "", 1)
			}
		}
		load(what, alt)
		return alt
	}
	all := uncomment("the other providers", "# - name: openai", "workload:", lines)
	all = uncomment("the binary export", "# - format: binary", "database:", all)
	all = uncomment("timeouts", "# connect_ms", "output:", all)
	load("every block uncommented", all)

	// A key with an inline comment that lists its values; the list may go
	// on in comment lines below it.
	keyLine := regexp.MustCompile(`^(\s*(?:- )?[a-z_]+: )(\S+)(\s+#\s*)(.*)$`)
	more := regexp.MustCompile(`^\s+#\s*(.*)$`)
	word := `[a-z0-9_]+`
	list := regexp.MustCompile(`^(?:[a-z ]+: )?(` + word + `(?:(?:, | or |, or )` + word + `)+)$`)
	lists := 0
	lines = all
	for i, l := range lines {
		m := keyLine.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		text, hash := m[4], strings.Index(l, "#")
		for j := i + 1; j < len(lines); j++ {
			c := more.FindStringSubmatch(lines[j])
			if c == nil || strings.Index(lines[j], "#") != hash {
				break
			}
			text += " " + c[1]
		}
		text = regexp.MustCompile(`\s*\([^)]*\)`).ReplaceAllString(text, "")
		lm := list.FindStringSubmatch(text)
		if lm == nil {
			continue
		}
		values := strings.FieldsFunc(strings.ReplaceAll(lm[1], " or ", ","), func(r rune) bool { return r == ',' || r == ' ' })
		lists++
		for _, v := range values {
			alt := append([]string(nil), lines...)
			alt[i] = m[1] + v + m[3] + m[4]
			load(strings.TrimSpace(m[1])+" "+v, alt)
		}
	}
	if lists < 6 {
		t.Errorf("found %d documented value lists, want the 6 or more the file has", lists)
	}
}

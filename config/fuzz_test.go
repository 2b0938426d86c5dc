package config

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzLoadConfig checks that any bytes give either a configuration or a
// *Error, never a panic; and that a configuration that loads is
// valid and gives its runs (NewProvider builds every provider of a
// valid configuration).
func FuzzLoadConfig(f *testing.F) {
	for _, pattern := range []string{"testdata/*", "../examples/*.yaml"} {
		files, _ := filepath.Glob(pattern)
		for _, name := range files {
			data, err := os.ReadFile(name)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data, uint8(0))
			f.Add(data, uint8(2))
		}
	}
	for _, s := range []string{
		"providers: [{name: openai, models: [m]}]\nworkload: {scenarios: [{name: a, prompt: hi, requests: 1}]}\n",
		"providers:\n  - &p {name: vllm, models: [m], settings: {max_tokens_field: max_tokens}}\n  - {<<: *p, name: tgi}\nworkload: {scenarios: [{name: a, prompt: {tokens: \"uniform(1, 9)\"}, duration_secs: 1, rate_limit: 3, arrivals: poisson}]}\n",
		`{"providers": [{"name": "g", "type": "generic", "endpoint": "http://x/{{model}}", "models": ["m"], "settings": {"body": {"p": "{{prompt}}"}}}], "workload": {"scenarios": [{"name": "a", "prompt": "hi", "requests": 1}]}}`,
		"providers: &a [*a]\n",
		"a: ${X:-1}\n",
		"\xef\xbb\xbf{}",
	} {
		f.Add([]byte(s), uint8(0))
		f.Add([]byte(s), uint8(1))
	}
	f.Fuzz(func(t *testing.T, data []byte, syntax uint8) {
		name := [...]string{"fuzz.yaml", "fuzz.json", "fuzz"}[syntax%3]
		c, err := Parse(data, name)
		if err != nil {
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("error %T is not a *Error: %v", err, err)
			}
			if c != nil || len(ce.Problems) == 0 || ce.Error() == "" {
				t.Fatalf("config %v, %d problems", c, len(ce.Problems))
			}
			return
		}
		if c == nil {
			t.Fatal("neither a config nor an error")
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("a loaded config does not validate: %v", err)
		}
		cells := 0
		for _, pc := range c.Providers {
			cells += len(pc.Models)
		}
		if cells*len(c.Workload.Scenarios) > 10000 {
			return
		}
		if _, err := c.Runs(fakeBuild); err != nil {
			t.Fatalf("Runs on a loaded config: %v", err)
		}
	})
}

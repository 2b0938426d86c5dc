package config

import (
	"errors"
	"math"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// TestScalarEdges pins how numbers and booleans are read: yaml.v3 decodes
// them, but only once the value's own YAML type is a number or a
// boolean (the library alone would take 1.5 as 1 and "yes" as true), and
// a string from ${ENV} is read as if written unquoted.
func TestScalarEdges(t *testing.T) {
	env := map[string]string{"N": "1.5", "BIG": "18446744073709551615", "T": " true ", "Y": "yes", "HEX": "0x10"}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	const base = "providers: [{name: openai, models: [m]}]\nworkload: {scenarios: [{name: a, prompt: hi, requests: 1}]}\n"
	for _, tc := range []struct{ src, want string }{
		{"execution: {seed: 18446744073709551615}", ""},
		{"execution: {seed: \"${BIG}\"}", ""},
		{"execution: {seed: -1}", "execution.seed: must be >= 0"},
		{"execution: {seed: 18446744073709551616}", "execution.seed: must be a whole number within ±9223372036854775807"},
		{"execution: {http: {pool_size: 1e3}}", ""},
		{"execution: {http: {pool_size: 2.0}}", ""},
		{"execution: {http: {pool_size: 0x10}}", ""},
		{"execution: {http: {pool_size: \"${HEX}\"}}", ""},
		{"execution: {http: {pool_size: 1e30}}", "execution.http.pool_size: must be a whole number within ±9223372036854775807"},
		{"execution: {http: {pool_size: 9223372036854775808}}", "execution.http.pool_size: must be a whole number within ±9223372036854775807"},
		{"execution: {http: {pool_size: .nan}}", "execution.http.pool_size: must be a whole number, got a fraction"},
		{"execution: {http: {pool_size: \"${N}\"}}", "execution.http.pool_size: must be a whole number, got a fraction (after expanding ${...})"},
		{"execution: {http: {pool_size: [1]}}", "execution.http.pool_size: must be a whole number, got a list"},
		{"execution: {http: {http2: \"${T}\"}}", ""},
		{"execution: {http: {http2: yes}}", "execution.http.http2: must be true or false, got a string"},
		{"execution: {http: {http2: \"${Y}\"}}", "execution.http.http2: must be true or false (after expanding ${...})"},
		{"execution: {http: {http2: 1}}", "execution.http.http2: must be true or false, got a number"},
		{"execution: {retry: {multiplier: .inf}}", "execution.retry.multiplier: must be a finite number"},
		{"execution: {retry: {multiplier: \"2\"}}", "execution.retry.multiplier: must be a number, got a string"},
	} {
		c, err := parse([]byte(base+tc.src+"\n"), "c.yaml", lookup)
		if tc.want == "" {
			if err != nil {
				t.Errorf("%s: %v", tc.src, err)
			} else if strings.Contains(tc.src, "seed") && c.Execution.Seed != math.MaxUint64 {
				t.Errorf("%s: seed %d", tc.src, c.Execution.Seed)
			}
			continue
		}
		var ce *Error
		if !errors.As(err, &ce) || len(ce.Problems) != 1 || ce.Problems[0].Path+": "+ce.Problems[0].Message != tc.want {
			t.Errorf("%s:\n got %v\nwant %s", tc.src, err, tc.want)
		}
	}
	c, err := parse([]byte(base+"execution: {http: {pool_size: 1e3}}\n"), "c.yaml", lookup)
	if err != nil || c.Execution.HTTP.PoolSize != 1000 {
		t.Errorf("pool_size: 1e3 gave %v, %v", c, err)
	}
}

// TestTypesDecodeWithYAMLv3 checks that a program decoding the
// configuration's types with yaml.v3 directly reads distributions and
// prompts as Load does, gets their errors with a line and the rest of
// the document decoded, and never writes a secret back out.
func TestTypesDecodeWithYAMLv3(t *testing.T) {
	var v struct {
		A, B, C *Dist
		P, Q    Prompt
		S       Secret
	}
	err := yaml.Unmarshal([]byte("a: 80\nb: uniform(32, 64)\nc: \"7\"\np: hello\nq: {template: t, variables: {x: y}}\ns: sk-123\n"), &v)
	if err != nil {
		t.Fatal(err)
	}
	if *v.A != (Dist{Kind: "fixed", A: 80}) || *v.B != (Dist{Kind: "uniform", A: 32, B: 64}) || *v.C != (Dist{Kind: "fixed", A: 7}) {
		t.Errorf("dists %v %v %v", v.A, v.B, v.C)
	}
	if v.P.Text != "hello" || v.Q.Template != "t" || v.Q.Variables["x"] != "y" || v.S.Value() != "sk-123" {
		t.Errorf("prompts %+v %+v, secret %q", v.P, v.Q, v.S.Value())
	}
	out, err := yaml.Marshal(v.S)
	if err != nil || strings.Contains(string(out), "sk-123") {
		t.Errorf("marshalled secret %q, %v", out, err)
	}

	var w struct {
		A, B Dist
		N    int
	}
	err = yaml.Unmarshal([]byte("a: normall(1, 2)\nb: [1]\nn: 3\n"), &w)
	var te *yaml.TypeError
	if !errors.As(err, &te) || len(te.Errors) != 2 || w.N != 3 ||
		!strings.HasPrefix(te.Errors[0], `line 1: unknown distribution "normall" (did you mean "normal"?)`) ||
		!strings.HasPrefix(te.Errors[1], "line 2: must be a number or one of") {
		t.Errorf("got %v, n=%d", err, w.N)
	}
}

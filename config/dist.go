package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/llm-latency-lens/lens"
	"github.com/llm-latency-lens/lens/fake"
)

// Dist is a distribution as written in a configuration, a command-line
// flag and a fake.Latency's String: a plain value (fixed), or one of
//
//	fixed(v)
//	uniform(lo, hi)
//	normal(mean, stddev)
//	lognormal(median, sigma)
//
// In a configuration the values are numbers in the key's unit
// (max_tokens: uniform(32, 64), ttft_ms: normal(80, 10)); in a latency
// flag they are durations (-ttft "uniform(40ms, 120ms)"), but for
// lognormal's sigma, which has no unit.
type Dist struct {
	// Kind is fixed, uniform, normal or lognormal.
	Kind string

	// A and B are the parameters: fixed A; uniform lo A, hi B; normal
	// mean A, stddev B; lognormal median A, sigma B.
	A, B float64
}

// distKinds are the distributions and their parameters' names.
var distKinds = map[string][]string{
	"fixed": {"v"}, "uniform": {"lo", "hi"}, "normal": {"mean", "stddev"}, "lognormal": {"median", "sigma"},
}

const distForms = "a number or one of fixed(v), uniform(lo, hi), normal(mean, stddev), lognormal(median, sigma)"

// Dist returns the distribution.
func (d Dist) Dist() lens.Dist {
	switch d.Kind {
	case "uniform":
		return lens.UniformDist(d.A, d.B)
	case "normal":
		return lens.NormalDist(d.A, d.B)
	case "lognormal":
		return lens.LogNormalDist(d.A, d.B)
	}
	return lens.FixedDist(d.A)
}

// String formats the distribution in the syntax Parse reads:
// "uniform(32, 64)".
func (d Dist) String() string { return d.Dist().String() }

// UnmarshalYAML reads a distribution from a YAML number or string, so
// that yaml.v3 decodes a Dist as a configuration does: 80, "80" and
// uniform(40, 120) are all distributions. It reads the form only; Load
// and File.Validate check the values against the key's bounds.
func (d *Dist) UnmarshalYAML(n *yaml.Node) error {
	tag := n.ShortTag()
	if n.Kind != yaml.ScalarNode || tag == "!!bool" || tag == "!!null" {
		return typeError(n, fmt.Errorf("must be %s", distForms))
	}
	var f float64
	if tag != "!!str" && n.Decode(&f) == nil {
		if !finite(f) {
			return typeError(n, fmt.Errorf("must be %s", distForms))
		}
		*d = Dist{Kind: "fixed", A: f}
		return nil
	}
	spec, err := parseDist(n.Value)
	if err != nil {
		return typeError(n, err)
	}
	*d = spec
	return nil
}

// latency returns the distribution, in milliseconds, as a fake.Latency. d
// must have passed problem(0).
func (d Dist) latency() fake.Latency {
	ms := func(v float64) time.Duration { return time.Duration(v * float64(time.Millisecond)) }
	switch d.Kind {
	case "uniform":
		return fake.Uniform(ms(d.A), ms(d.B))
	case "normal":
		return fake.Normal(ms(d.A), ms(d.B))
	case "lognormal":
		return fake.LogNormal(ms(d.A), d.B)
	}
	return fake.Fixed(ms(d.A))
}

// ParseDist parses a distribution as a configuration writes it: a
// number, or a distribution of numbers ("uniform(32, 64)"). It checks
// that the parameters are finite and not negative, that lo <= hi and that
// a lognormal median is positive.
func ParseDist(s string) (Dist, error) {
	spec, err := parseDist(s)
	if err != nil {
		return Dist{}, err
	}
	if msg := spec.problem(0); msg != "" {
		return Dist{}, fmt.Errorf("%s", msg)
	}
	return spec, nil
}

// parseDist parses a distribution's shape; Dist.problem checks its
// values.
func parseDist(s string) (Dist, error) {
	return parseCall(s, func(_ string, _ int, arg string) (float64, error) {
		f, err := strconv.ParseFloat(arg, 64)
		if err != nil || !finite(f) {
			return 0, fmt.Errorf("%q is not a number", arg)
		}
		return f, nil
	})
}

// parseCall parses the text of a distribution, each parameter with arg
// (given the kind and the parameter's index).
func parseCall(s string, arg func(kind string, i int, s string) (float64, error)) (Dist, error) {
	s = strings.TrimSpace(s)
	kind, args, call := strings.Cut(s, "(")
	if !call {
		v, err := arg("fixed", 0, s)
		if err != nil {
			return Dist{}, fmt.Errorf("must be %s: %w", distForms, err)
		}
		return Dist{Kind: "fixed", A: v}, nil
	}
	kind = strings.ToLower(strings.TrimSpace(kind))
	names, ok := distKinds[kind]
	if !ok {
		return Dist{}, fmt.Errorf("unknown distribution %q%s: must be %s", kind,
			suggest(kind, []string{"fixed", "uniform", "normal", "lognormal"}), distForms)
	}
	args, closed := strings.CutSuffix(strings.TrimSpace(args), ")")
	parts := strings.Split(args, ",")
	if !closed || len(parts) != len(names) {
		return Dist{}, fmt.Errorf("must be %s(%s)", kind, strings.Join(names, ", "))
	}
	d := Dist{Kind: kind}
	for i, p := range parts {
		v, err := arg(kind, i, strings.TrimSpace(p))
		if err != nil {
			return Dist{}, fmt.Errorf("%s: %s: %w", kind, names[i], err)
		}
		if i == 0 {
			d.A = v
		} else {
			d.B = v
		}
	}
	return d, nil
}

// ParseLatency reads a latency as a command-line flag gives it: a duration
// ("80ms") or a distribution of durations ("uniform(40ms, 120ms)",
// "normal(80ms, 10ms)", "lognormal(40ms, 0.3)"), in the syntax of Dist and
// of a fake.Latency's String.
func ParseLatency(s string) (fake.Latency, error) {
	d, err := parseCall(s, func(kind string, i int, arg string) (float64, error) {
		if kind == "lognormal" && i == 1 {
			return strconv.ParseFloat(arg, 64)
		}
		v, err := time.ParseDuration(arg)
		return float64(v) / float64(time.Millisecond), err
	})
	if err != nil {
		return nil, err
	}
	if msg := d.problem(0); msg != "" {
		return nil, fmt.Errorf("%s", msg)
	}
	return d.latency(), nil
}

// problem checks a distribution's values; low is the least value allowed
// for a fixed value or the low end of a range. It returns "" when d is
// fine.
func (d Dist) problem(low float64) string {
	if !finite(d.A) || !finite(d.B) {
		return "parameters must be finite numbers"
	}
	switch d.Kind {
	case "fixed":
		if d.A < low {
			return fmt.Sprintf("must be >= %g", low)
		}
	case "uniform":
		if d.A < low {
			return fmt.Sprintf("uniform: lo must be >= %g", low)
		}
		if d.B < d.A {
			return "uniform: hi must be >= lo"
		}
	case "normal":
		if d.A < low {
			return fmt.Sprintf("normal: mean must be >= %g", low)
		}
		if d.B < 0 {
			return "normal: stddev must be >= 0"
		}
	case "lognormal":
		if d.A <= 0 {
			return "lognormal: median must be > 0"
		}
		if d.A < low {
			return fmt.Sprintf("lognormal: median must be >= %g", low)
		}
		if d.B < 0 {
			return "lognormal: sigma must be >= 0"
		}
	default:
		return fmt.Sprintf("unknown distribution %q", d.Kind)
	}
	return ""
}

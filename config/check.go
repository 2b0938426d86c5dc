package config

import (
	"errors"
	"fmt"
	"math"
	"net"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/llm-latency-lens/lens"
	"github.com/llm-latency-lens/lens/capacity"
	"github.com/llm-latency-lens/lens/verdict"
)

// ---- provider types ----

// providerTypes are the canonical provider types.
var providerTypes = []string{
	"openai", "openai_compatible", "responses", "anthropic", "gemini", "vertex",
	"azure", "cohere", "generic", "fake",
}

// typeAliases maps other spellings to canonical types.
var typeAliases = map[string]string{
	"google":           "gemini",
	"openai_responses": "responses",
	"vertex_ai":        "vertex",
	"vertexai":         "vertex",
	"azure_openai":     "azure",
	"vllm":             "openai_compatible",
	"ollama":           "openai_compatible",
	"llamacpp":         "openai_compatible",
	"llama.cpp":        "openai_compatible",
	"llama_cpp":        "openai_compatible",
	"tgi":              "openai_compatible",
}

// localEndpoints are the usual addresses of self-hosted OpenAI-compatible
// servers.
var localEndpoints = map[string]string{
	"vllm":      "http://localhost:8000/v1",
	"ollama":    "http://localhost:11434/v1",
	"llamacpp":  "http://localhost:8080/v1",
	"llama.cpp": "http://localhost:8080/v1",
	"llama_cpp": "http://localhost:8080/v1",
	"tgi":       "http://localhost:8080/v1",
}

func normType(s string) string {
	return strings.ReplaceAll(strings.ToLower(strings.TrimSpace(s)), "-", "_")
}

// canonType returns the canonical type for a spelling, or "".
func canonType(s string) string {
	if slices.Contains(providerTypes, s) {
		return s
	}
	return typeAliases[s]
}

// firstWord returns s up to its first "-", "_", "." or space.
func firstWord(s string) string {
	if i := strings.IndexAny(s, "-_. "); i > 0 {
		return s[:i]
	}
	return s
}

// resolveType returns a provider's canonical type and, for an
// OpenAI-compatible server, its flavor (vllm, ollama, ...; "" when not
// known). It fails when the type is unknown or cannot be inferred.
func resolveType(typ, name string) (canon, flavor string, err error) {
	t := normType(typ)
	n := strings.ToLower(strings.TrimSpace(name))
	nameFlavor := ""
	for _, cand := range []string{n, normType(n), firstWord(n)} {
		if _, ok := localEndpoints[cand]; ok {
			nameFlavor = cand
			break
		}
	}
	if t == "" {
		for _, cand := range []string{n, normType(n), firstWord(n)} {
			if c := canonType(cand); c != "" {
				return c, nameFlavor, nil
			}
		}
		return "", "", fmt.Errorf("required: the type cannot be inferred from the name %q; set one of %s", name, oneOf(providerTypes))
	}
	c := canonType(t)
	if c == "" {
		cands := append(append([]string(nil), providerTypes...), "google", "vllm", "ollama", "llamacpp", "tgi")
		return "", "", fmt.Errorf("unknown type %q%s; the types are %s", typ, suggest(t, cands), oneOf(providerTypes))
	}
	if _, ok := localEndpoints[t]; ok {
		return c, t, nil
	}
	if c == "openai_compatible" {
		return c, nameFlavor, nil
	}
	return c, "", nil
}

// ---- the checks ----

// checker collects the problems of a File.
type checker struct {
	c     *File
	probs []Problem
}

// errf records a problem at path, located at path or its nearest
// ancestor that has a place in the file.
func (k *checker) errf(path, format string, args ...any) {
	p := Problem{Path: path, Message: fmt.Sprintf(format, args...)}
	for q := path; ; q = parentPath(q) {
		if at, ok := k.c.pos[q]; ok {
			p.Line, p.Column = at.line, at.col
			break
		}
		if q == "" {
			break
		}
	}
	k.probs = append(k.probs, p)
}

// nonNeg checks a number that must be finite and >= 0.
func (k *checker) nonNeg(path string, v float64) {
	if !finite(v) || v < 0 {
		k.errf(path, "must be >= 0")
	}
}

// tagged checks every field of v that has a check tag, at path and below:
// "ms" and "secs" are times in that unit, which must fit a Duration
// (their other rules are the engine's, see scenarios), ">=0" a number or
// count that must be >= 0. A field's other rules are in the checker's
// methods; its type, unknown keys and the like are the decoder's.
func (k *checker) tagged(v reflect.Value, path string) {
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			k.tagged(v.Elem(), path)
		}
	case reflect.Slice:
		for i := range v.Len() {
			k.tagged(v.Index(i), pathIndex(path, i))
		}
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if !f.IsExported() || name == "" || name == "-" {
				continue
			}
			fp := pathKey(path, name)
			check := f.Tag.Get("check")
			fv := v.Field(i)
			if check == "" {
				k.tagged(fv, fp)
				continue
			}
			if fv.Kind() == reflect.Pointer {
				if fv.IsNil() {
					continue
				}
				fv = fv.Elem()
			}
			var x float64
			if fv.CanInt() {
				x = float64(fv.Int())
			} else {
				x = fv.Float()
			}
			switch check {
			case "ms":
				k.duration(fp, x, time.Millisecond)
			case "secs":
				k.duration(fp, x, time.Second)
			case ">=0":
				k.nonNeg(fp, x)
			default:
				panic("config: unknown check " + check)
			}
		}
	}
}

// duration checks that a time in unit fits a Duration.
func (k *checker) duration(path string, v float64, unit time.Duration) {
	if math.Abs(v*float64(unit)) >= math.MaxInt64 {
		k.errf(path, "too large")
	}
}

// toDuration converts a time in unit to a Duration; one out of range
// becomes the nearest Duration.
func toDuration(v float64, unit time.Duration) time.Duration {
	d := math.Round(v * float64(unit))
	switch {
	case d >= math.MaxInt64:
		return math.MaxInt64
	case d <= math.MinInt64:
		return math.MinInt64
	}
	return time.Duration(d)
}

var versionRE = regexp.MustCompile(`^1(\.[0-9]+)*$`)

var headerNameRE = regexp.MustCompile("^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")

// check returns every problem of c's values.
func (c *File) check() []Problem {
	if c.pos == nil {
		c.pos = map[string]position{}
	}
	c.normalize()
	k := &checker{c: c}
	if c.Version != "" && !versionRE.MatchString(c.Version) {
		k.errf("version", "unsupported version %q (this reads version 1.x)", c.Version)
	}
	names := k.providers()
	k.workload(names)
	k.execution()
	k.output()
	k.tagged(reflect.ValueOf(c).Elem(), "")
	k.scenarios()
	return k.probs
}

func (k *checker) providers() []string {
	c := k.c
	if len(c.Providers) == 0 {
		k.errf("providers", "at least one provider is required")
	}
	var names []string
	seen := map[string]int{}
	for i := range c.Providers {
		pc := &c.Providers[i]
		path := pathIndex("providers", i)
		key := func(s string) string { return pathKey(path, s) }
		k.name("providers", i, "provider", pc.Name, seen)
		names = append(names, pc.Name)
		typ, _, err := resolveType(pc.Type, pc.Name)
		if err != nil {
			k.errf(key("type"), "%v", err)
		}
		k.endpoint(key("endpoint"), typ, pc.Endpoint)
		k.auth(key("auth"), typ, pc.Auth)
		if len(pc.Models) == 0 {
			k.errf(key("models"), "must list at least one model")
		}
		models := map[string]bool{}
		for j, m := range pc.Models {
			mp := pathIndex(key("models"), j)
			switch {
			case strings.TrimSpace(m) == "":
				k.errf(mp, "empty model name")
			case models[m]:
				k.errf(mp, "duplicate model %q", m)
			}
			models[m] = true
		}
		if typ != "" {
			checkSettings(typ, pc.Settings, func(sub, msg string) { k.errf(joinPath(key("settings"), sub), "%s", msg) })
		}
		for _, h := range sortedKeys(pc.Headers) {
			if !headerNameRE.MatchString(h) {
				k.errf(pathKey(key("headers"), h), "not a valid header name")
			}
		}
		for _, m := range sortedKeys(pc.Pricing) {
			mp := pathKey(key("pricing"), m)
			if !models[m] {
				k.errf(mp, "model %q is not in %s%s", m, key("models"), suggest(m, pc.Models))
			}
			pr := pc.Pricing[m]
			k.nonNeg(pathKey(mp, "input"), pr.Input)
			k.nonNeg(pathKey(mp, "output"), pr.Output)
		}
	}
	return names
}

// name checks the name of entry i of the list at path: required, and
// unique (seen maps each name to its first entry). It reports whether the
// name is the first of its kind.
func (k *checker) name(list string, i int, what, name string, seen map[string]int) bool {
	path := pathKey(pathIndex(list, i), "name")
	j, dup := seen[name]
	switch {
	case strings.TrimSpace(name) == "":
		k.errf(path, "required")
	case dup:
		k.errf(path, "duplicate %s name %q (also %s)", what, name, pathIndex(list, j))
	default:
		seen[name] = i
		return true
	}
	return false
}

func (k *checker) endpoint(path, typ, endpoint string) {
	if endpoint == "" {
		switch typ {
		case "openai_compatible":
			k.errf(path, "required for an OpenAI-compatible server (known by default only for vllm, ollama, llamacpp and tgi)")
		case "azure":
			k.errf(path, "required for azure: the resource URL, https://{resource}.openai.azure.com")
		case "generic":
			k.errf(path, "required for generic: the URL requests go to")
		}
		return
	}
	if typ == "fake" {
		k.errf(path, "must be empty for fake: the CLI serves the fake in-process")
		return
	}
	if msg := checkURL(endpoint); msg != "" {
		k.errf(path, "%s", msg)
	}
}

// checkURL returns what is wrong with an endpoint URL, or "". It never
// repeats the URL, which may carry a credential.
func checkURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "not a valid URL"
	}
	switch {
	case u.Scheme == "":
		return "not a valid URL: no scheme (want http:// or https://)"
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Sprintf("not a valid URL: scheme %q (want http or https)", u.Scheme)
	case u.Host == "" || u.Hostname() == "":
		return "not a valid URL: no host"
	}
	return ""
}

func (k *checker) auth(path, typ string, a Auth) {
	scheme := strings.ToLower(a.Type)
	switch scheme {
	case "", "bearer", "api_key":
	default:
		k.errf(pathKey(path, "type"), "unknown auth type %q%s; want bearer or api_key", a.Type,
			suggest(scheme, []string{"bearer", "api_key"}))
	}
	if a.Header != "" && !headerNameRE.MatchString(a.Header) {
		k.errf(pathKey(path, "header"), "not a valid header name")
	}
	if scheme == "api_key" && a.Header == "" && typ != "" && typ != "fake" && typ != "generic" && apis[typ].keyHeader == "" {
		k.errf(pathKey(path, "header"), "required with type api_key: %s takes a bearer token, so name the header that carries the key", typ)
	}
}

func (k *checker) workload(providerNames []string) {
	w := &k.c.Workload
	templates, prompts := map[string]string{}, map[string]int{}
	var templateNames []string
	for i, t := range w.Prompts {
		if k.name("workload.prompts", i, "prompt", t.Name, prompts) {
			templates[t.Name] = t.Template
			templateNames = append(templateNames, t.Name)
		}
		if t.Template == "" {
			k.errf(pathKey(pathIndex("workload.prompts", i), "template"), "required")
		}
	}
	sets := map[string]int{}
	var setNames []string
	for i, s := range w.PromptSets {
		path := pathIndex("workload.prompt_sets", i)
		if k.name("workload.prompt_sets", i, "prompt set", s.Name, sets) {
			setNames = append(setNames, s.Name)
		}
		if len(s.Prompts) == 0 {
			k.errf(pathKey(path, "prompts"), "must list at least one prompt")
		}
		for j, p := range s.Prompts {
			if p == "" {
				k.errf(pathIndex(pathKey(path, "prompts"), j), "empty prompt")
			}
		}
	}

	rp := w.RequestParams
	rpath := "workload.request_params"
	k.maxTokens(pathKey(rpath, "max_tokens"), rp.MaxTokens)
	if t := k.c.Execution.Timeouts.RequestSecs; rp.TimeoutSecs > 0 && t > 0 && t != rp.TimeoutSecs {
		k.errf(pathKey(rpath, "timeout"), "conflicts with execution.timeouts.request_secs (set one)")
	}

	if len(w.Scenarios) == 0 {
		k.errf("workload.scenarios", "at least one scenario is required")
	}
	seen := map[string]int{}
	for i := range w.Scenarios {
		s := &w.Scenarios[i]
		path := pathIndex("workload.scenarios", i)
		key := func(f string) string { return pathKey(path, f) }
		k.name("workload.scenarios", i, "scenario", s.Name, seen)
		if s.Trace.File != "" {
			k.readTrace(key("trace"), s)
		}
		if p := s.Prompt; s.Trace.File == "" || p.Template != "" || p.Text != "" || p.Set != "" || p.Tokens != nil {
			k.prompt(key("prompt"), p, templates, templateNames, sets, setNames)
		} else if len(p.Variables) > 0 {
			k.errf(pathKey(key("prompt"), "variables"), "not with trace, whose prompts are synthetic")
		}
		if d := s.Session.ThinkTimeSecs; d != nil {
			if msg := d.problem(0); msg != "" {
				k.errf(pathKey(key("session"), "think_time_secs"), "%s", msg)
			}
		}
		if c := s.Concurrency; c != nil {
			switch {
			case *c == 0 && s.RateLimit <= 0 && s.Trace.File == "":
				k.errf(key("concurrency"), "must be > 0 without a rate_limit (0 means no cap, only for an open loop)")
			case *c > maxConfigConcurrency:
				k.errf(key("concurrency"), "must be at most %d", maxConfigConcurrency)
			}
		}
		switch strings.ToLower(s.Arrivals) {
		case "", "constant", "poisson":
		default:
			k.errf(key("arrivals"), "unknown arrivals %q%s; want constant or poisson", s.Arrivals,
				suggest(strings.ToLower(s.Arrivals), []string{"constant", "poisson"}))
		}
		k.maxTokens(key("max_tokens"), s.MaxTokens)
		for j, p := range s.Providers {
			if !slices.Contains(providerNames, p) {
				k.errf(pathIndex(key("providers"), j), "no provider is named %q%s", p, suggest(p, providerNames))
			}
		}
		k.gates(key("gates"), s.Gates)
		if s.MaxRequests > 0 && len(s.Gates) == 0 {
			k.errf(key("max_requests"), "is the request budget of the scenario's gates, and it has none")
		}
		if s.Sweep != nil {
			k.sweep(key("sweep"), s)
		}
	}
}

// sweep checks a scenario's capacity search (its numbers' signs are the
// tags').
func (k *checker) sweep(path string, s *Scenario) {
	w := s.Sweep
	key := func(f string) string { return pathKey(path, f) }
	mode, err := capacity.ParseMode(w.Mode)
	if err != nil {
		k.errf(key("mode"), "unknown mode %q%s; want rate or concurrency", w.Mode, suggest(w.Mode, []string{"rate", "concurrency"}))
	}
	if len(s.Gates) == 0 {
		k.errf(path, "a sweep searches the highest load at which the scenario's gates hold, and it has none")
	}
	if s.Trace.File != "" {
		k.errf(path, "not with trace, which replays its own timing (use trace.speed)")
	}
	if mode == capacity.Rate && s.Session.Turns > 0 {
		k.errf(key("mode"), "sessions are closed loop: search the concurrency (users), not the rate")
	}
	if w.Growth != 0 && !(w.Growth > 1) {
		k.errf(key("growth"), "must be more than 1")
	}
	if !(w.Resolution >= 0 && w.Resolution < 1) {
		k.errf(key("resolution"), "must be within 0..1 (a share: 0.05 stops within 5%%)")
	}
	if !(w.MinAchieved >= 0 && w.MinAchieved <= 1) {
		k.errf(key("min_achieved"), "must be within 0..1 (a share of the asked rate)")
	}
	if w.Min > 0 && w.Max > 0 && w.Min > w.Max {
		k.errf(key("min"), "is above max (%v > %v)", w.Min, w.Max)
	}
	if w.Start > 0 && ((w.Min > 0 && w.Start < w.Min) || (w.Max > 0 && w.Start > w.Max)) {
		k.errf(key("start"), "is outside min..max")
	}
	if mode == capacity.Concurrency || (mode == capacity.Auto && s.RateLimit <= 0) {
		for _, f := range []struct {
			name string
			v    float64
		}{{"start", w.Start}, {"min", w.Min}, {"max", w.Max}, {"require", w.Require}} {
			if f.v != math.Trunc(f.v) {
				k.errf(key(f.name), "a number of users is whole, got %v", f.v)
			}
		}
	}
}

// gates checks a scenario's gates through the verdict engine's own rules.
func (k *checker) gates(path string, gs []Gate) {
	seen := map[string]int{}
	for i, g := range gs {
		p := pathIndex(path, i)
		name := g.verdict().Name()
		if j, dup := seen[name]; dup && g.Metric != "" {
			k.errf(p, "a second %s gate (also gates[%d]): one limit per metric and percentile", name, j)
		}
		seen[name] = i
		if g.Metric == string(verdict.ErrorRate) {
			if g.Max == nil {
				k.errf(pathKey(p, "max"), "required for an error_rate gate (the highest share of failed requests, 0..1)")
			}
			if g.Percentile != 0 || g.LimitMs != 0 {
				k.errf(p, "an error_rate gate takes max, not percentile or limit_ms")
			}
		} else if g.Max != nil {
			k.errf(pathKey(p, "max"), "only an error_rate gate takes max; a latency gate takes percentile and limit_ms")
		}
		if g.Metric == "" {
			k.errf(pathKey(p, "metric"), "required (%s or %s)", latencyMetricNames(), string(verdict.ErrorRate))
			continue
		}
		if g.Metric == string(lens.MetricJourney) {
			k.errf(pathKey(p, "metric"), "journey is measured only for a Go journey (lens.Scenario.Journey); a configuration's scenarios have none: use %s", latencyMetricNames())
			continue
		}
		if err := g.verdict().Validate(); err != nil {
			k.errf(p, "%s", strings.TrimPrefix(err.Error(), "verdict: "))
		}
	}
}

func latencyMetricNames() string {
	var names []string
	for _, m := range lens.Metrics {
		if m != lens.MetricJourney {
			names = append(names, string(m))
		}
	}
	return strings.Join(names, ", ")
}

// maxConfigConcurrency bounds a scenario's concurrency, and
// maxConfigMaxConcurrency execution.max_concurrency: both are allocated
// up front.
const (
	maxConfigConcurrency    = 100000
	maxConfigMaxConcurrency = 1000000
)

func (k *checker) maxTokens(path string, d *Dist) {
	if d != nil {
		if msg := d.problem(1); msg != "" {
			k.errf(path, "%s", msg)
		}
	}
}

// placeholderRE matches a template placeholder, {{name}} or {{ name }}.
var placeholderRE = regexp.MustCompile(`\{\{\s*([A-Za-z_][A-Za-z0-9_.-]*)\s*\}\}`)

// fillTemplate fills text's placeholders from vars. It returns the text,
// the variables that have no placeholder and the placeholders left
// unfilled, each sorted.
func fillTemplate(text string, vars map[string]string) (out string, unused, unfilled []string) {
	used := map[string]bool{}
	missing := map[string]bool{}
	out = placeholderRE.ReplaceAllStringFunc(text, func(m string) string {
		name := placeholderRE.FindStringSubmatch(m)[1]
		v, ok := vars[name]
		if !ok {
			missing[name] = true
			return m
		}
		used[name] = true
		return v
	})
	for name := range vars {
		if !used[name] {
			unused = append(unused, name)
		}
	}
	for name := range missing {
		unfilled = append(unfilled, name)
	}
	sort.Strings(unused)
	sort.Strings(unfilled)
	return out, unused, unfilled
}

func (k *checker) prompt(path string, p Prompt, templates map[string]string, templateNames []string, sets map[string]int, setNames []string) {
	var sources []string
	for _, s := range []struct {
		name string
		set  bool
	}{{"template", p.Template != ""}, {"text", p.Text != ""}, {"set", p.Set != ""}, {"tokens", p.Tokens != nil}} {
		if s.set {
			sources = append(sources, s.name)
		}
	}
	switch len(sources) {
	case 0:
		k.errf(path, "one of template, text, set or tokens is required")
		return
	case 1:
	default:
		k.errf(pathKey(path, sources[1]), "set only one of template, text, set and tokens (%s is set too)", sources[0])
		return
	}
	switch {
	case p.Template != "":
		text, ok := templates[p.Template]
		if !ok {
			if len(templateNames) == 0 {
				k.errf(pathKey(path, "template"), "unknown template %q: workload.prompts is empty", p.Template)
			} else {
				k.errf(pathKey(path, "template"), "unknown template %q%s; workload.prompts has %s", p.Template,
					suggest(p.Template, templateNames), oneOf(quoteAll(templateNames)))
			}
			return
		}
		k.fill(path, fmt.Sprintf("template %q", p.Template), text, p.Variables)
	case p.Text != "":
		k.fill(path, "text", p.Text, p.Variables)
	case p.Set != "":
		if _, ok := sets[p.Set]; !ok {
			k.errf(pathKey(path, "set"), "unknown prompt set %q%s", p.Set, suggest(p.Set, setNames))
		}
		if len(p.Variables) > 0 {
			k.errf(pathKey(path, "variables"), "variables fill a template or text, not a prompt set")
		}
	case p.Tokens != nil:
		if msg := p.Tokens.problem(1); msg != "" {
			k.errf(pathKey(path, "tokens"), "%s", msg)
		}
		if len(p.Variables) > 0 {
			k.errf(pathKey(path, "variables"), "variables fill a template or text, not synthetic prompts")
		}
	}
}

func (k *checker) fill(path, what, text string, vars map[string]string) {
	_, unused, unfilled := fillTemplate(text, vars)
	for _, v := range unused {
		k.errf(pathKey(pathKey(path, "variables"), v), "%s has no placeholder {{%s}}", what, v)
	}
	for _, v := range unfilled {
		k.errf(pathKey(path, "variables"), "placeholder {{%s}} of %s is not filled (set variables.%s)", v, what, v)
	}
}

func (k *checker) execution() {
	e := &k.c.Execution
	const path = "execution"
	if e.MaxConcurrency < 0 {
		k.errf(pathKey(path, "max_concurrency"), "must be >= 0 (0: no cap)")
	} else if e.MaxConcurrency > maxConfigMaxConcurrency {
		k.errf(pathKey(path, "max_concurrency"), "must be at most %d", maxConfigMaxConcurrency)
	}
	h := e.HTTP
	if e.Shard != "" {
		if _, err := lens.ParseShard(e.Shard); err != nil {
			k.errf(pathKey(path, "shard"), "%s", strings.TrimPrefix(err.Error(), "lens: "))
		}
	}
	if e.StartAt != "" {
		if _, err := time.Parse(time.RFC3339Nano, e.StartAt); err != nil {
			k.errf(pathKey(path, "start_at"), "%q is not an RFC 3339 time such as 2026-01-02T15:04:05Z", e.StartAt)
		}
	}
	if t := e.Timeouts.ConnectMs; h.ConnectTimeoutMs > 0 && t > 0 && t != h.ConnectTimeoutMs {
		k.errf(pathKey(pathKey(path, "timeouts"), "connect_ms"), "conflicts with execution.http.connect_timeout_ms (set one)")
	}
}

// ConsoleFormats are the values of output.console.format: how a run's
// results are printed.
var ConsoleFormats = []string{"table", "json", "minimal"}

// ExportFormats are the values of an output.export entry's format: the
// result files a run writes.
var ExportFormats = []string{"json", "csv", "binary", "html", "markdown", "benchstat", "prometheus"}

func (k *checker) output() {
	o := &k.c.Output
	choose := func(path, what, v string, choices ...string) {
		if !slices.Contains(choices, v) {
			k.errf(path, "unknown %s %q%s; want %s", what, v, suggest(v, choices), oneOf(choices))
		}
	}
	if o.Console.Format != "" {
		choose("output.console.format", "format", o.Console.Format, ConsoleFormats...)
	}
	for i, e := range o.Export {
		path := pathIndex("output.export", i)
		if e.Format == "" {
			k.errf(pathKey(path, "format"), "required")
		} else {
			choose(pathKey(path, "format"), "format", e.Format, ExportFormats...)
		}
		if e.Path == "" {
			k.errf(pathKey(path, "path"), "required")
		}
		if e.Codec != "" {
			if e.Format != "binary" {
				k.errf(pathKey(path, "codec"), "only for format binary")
			} else {
				if e.Codec == "bincode" {
					k.errf(pathKey(path, "codec"), "bincode is a Rust-only encoding and is not written here; use messagepack (the same document as the JSON file)")
				} else {
					choose(pathKey(path, "codec"), "codec", e.Codec, "messagepack")
				}
			}
		}
	}
	db := o.Database
	if db.Type != "" {
		choose("output.database.type", "database type", db.Type, DatabaseTypes...)
	} else if db.Enabled {
		k.errf("output.database.type", "required when the database is enabled")
	}
	k.databaseConnection(db)
	if ep := o.Tracing.Endpoint; ep != "" {
		if msg := checkURL(ep); msg != "" {
			k.errf("output.tracing.endpoint", "%s", msg)
		}
	}
	k.dashboard()
}

// dashboard checks the dashboard section: its address, window and alerts.
func (k *checker) dashboard() {
	d := &k.c.Dashboard
	if d.Listen != "" {
		if _, _, err := net.SplitHostPort(d.Listen); err != nil {
			k.errf("dashboard.listen", "want host:port, such as 127.0.0.1:8080 (port 0 picks one), got %q", d.Listen)
		}
	}
	if d.WindowSecs < 0 {
		k.errf("dashboard.window_secs", "must be >= 1, got %d", d.WindowSecs)
	}
	for i, a := range d.Alerts {
		path := pathIndex("dashboard.alerts", i)
		if a.Metric == "" {
			k.errf(pathKey(path, "metric"), "required: one of ttft, itl, tpot, e2e, ttfb, dns, connect, tls, queue, error_rate")
			continue
		}
		if err := a.DashboardAlert().Check(); err != nil {
			for _, line := range strings.Split(err.Error(), "\n") {
				field, msg, _ := strings.Cut(line, ": ")
				switch {
				case field == "limit":
					k.errf(pathKey(path, "limit_ms"), "must be > 0 (milliseconds)")
				case strings.Contains(field, " "): // about several fields
					k.errf(path, "%s: %s", field, msg)
				default:
					k.errf(pathKey(path, field), "%s", msg)
				}
			}
		}
	}
}

// normalize fills in what loading derives: each provider's canonical type
// and default endpoint, without the endpoint's trailing slash, and the
// database's connection.
func (c *File) normalize() {
	c.Output.Database.normalizeConnection()
	for i := range c.Providers {
		pc := &c.Providers[i]
		pc.index = i
		typ, flavor, err := resolveType(pc.Type, pc.Name)
		if err != nil {
			continue
		}
		pc.Type = typ
		if pc.Endpoint == "" && typ == "openai_compatible" {
			pc.Endpoint = localEndpoints[flavor]
		}
		if typ != "generic" {
			pc.Endpoint = strings.TrimRight(pc.Endpoint, "/")
		}
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = fmt.Sprintf("%q", s)
	}
	return out
}

// readTrace reads the trace a scenario replays, at path.
func (k *checker) readTrace(path string, s *Scenario) {
	tr, err := lens.ReadTraceFile(k.c.relative(s.Trace.File))
	if err != nil {
		k.errf(pathKey(path, "file"), "%s", strings.TrimPrefix(err.Error(), "lens: "))
	}
	s.Trace.requests = tr
}

// scenarioKeys maps a field of lens.Scenario to the keys that set it:
// the scenario's own (relative to it) before the file's (from its root,
// written with a leading "/"). A problem the engine finds in the field is
// reported at the first of them that the file sets, else at the first.
var scenarioKeys = map[string][]string{
	"Requests":             {"requests"},
	"MaxRequests":          {"max_requests"},
	"Duration":             {"duration_secs"},
	"Concurrency":          {"concurrency"},
	"Rate":                 {"rate_limit"},
	"Arrivals":             {"arrivals"},
	"RampUp":               {"ramp_up_secs"},
	"Warmup":               {"warmup", "/execution.warmup_requests"},
	"Timeout":              {"timeouts.request_secs", "/execution.timeouts.request_secs", "/workload.request_params.timeout"},
	"FirstTokenTimeout":    {"timeouts.first_token_ms", "/execution.timeouts.first_token_ms"},
	"IdleTimeout":          {"timeouts.idle_ms", "/execution.timeouts.idle_ms"},
	"Temperature":          {"temperature", "/workload.request_params.temperature"},
	"TopP":                 {"top_p", "/workload.request_params.top_p"},
	"MaxTokens":            {"max_tokens", "/workload.request_params.max_tokens"},
	"MaxTokensDist":        {"max_tokens", "/workload.request_params.max_tokens"},
	"Prompt":               {"prompt"},
	"Prompts":              {"prompt.set"},
	"PromptTokens":         {"prompt.tokens"},
	"SLO.TTFT":             {"slo.ttft_ms"},
	"SLO.TPOT":             {"slo.tpot_ms"},
	"SLO.E2E":              {"slo.e2e_ms"},
	"Retry.MaxAttempts":    {"/execution.retry.max_attempts"},
	"Retry.InitialBackoff": {"/execution.retry.initial_backoff_ms"},
	"Retry.MaxBackoff":     {"/execution.retry.max_backoff_ms"},
	"Retry.Multiplier":     {"/execution.retry.multiplier"},
	"Retry.Jitter":         {"/execution.retry.jitter"},
	"Retry.MaxRetryAfter":  {"/execution.retry.max_retry_after_ms"},
	"HTTP.PoolSize":        {"/execution.http.pool_size"},
	"HTTP.ConnectTimeout":  {"timeouts.connect_ms", "/execution.timeouts.connect_ms", "/execution.http.connect_timeout_ms"},
	"HTTP.KeepAlive":       {"/execution.http.keep_alive_secs"},
	"Session":              {"session.turns"},
	"Session.Turns":        {"session.turns"},
	"Session.ThinkTime":    {"session.think_time_secs"},
	"Trace":                {"trace"},
	"TraceSpeed":           {"trace.speed"},
	"Shard":                {"/execution.shard"},
	"StartAt":              {"/execution.start_at"},
}

// scenarioFieldRE matches the names of scenarioKeys in an engine message,
// the longer first ("Session.Turns" before "Session").
var scenarioFieldRE = func() *regexp.Regexp {
	names := sortedKeys(scenarioKeys)
	sort.SliceStable(names, func(i, j int) bool { return len(names[i]) > len(names[j]) })
	for i, n := range names {
		names[i] = regexp.QuoteMeta(n)
	}
	return regexp.MustCompile(`\b(` + strings.Join(names, "|") + `)\b`)
}()

// scenarios checks every scenario as the engine will run it, with the
// engine's own rules (lens.Scenario.Validate), and reports each problem
// at the key that sets the field, in the file's words. A key that has a
// problem already (a wrong type, a time too large) gets no second one.
func (k *checker) scenarios() {
	for i, s := range k.c.Workload.Scenarios {
		sc := k.c.scenario(i)
		if s.Trace.File != "" && len(sc.Trace) == 0 {
			// The trace could not be read (a problem already): a stand-in
			// of one request keeps the other fields checked.
			sc.Trace = []lens.TraceRequest{{}}
		}
		var se *lens.ScenarioError
		if !errors.As(sc.Validate(), &se) {
			continue
		}
		path := pathIndex("workload.scenarios", i)
		for _, p := range se.Problems {
			field, _, indexed := strings.Cut(p.Field, "[")
			switch {
			case field == "Provider" || field == "Model":
				continue // each run's own, built from the providers section
			case field == "Prompts" && indexed:
				continue // an empty prompt is reported in its prompt set
			}
			at, known := k.scenarioKey(path, field)
			if slices.ContainsFunc(k.probs, func(q Problem) bool { return q.Path == at }) {
				continue
			}
			msg := scenarioFieldRE.ReplaceAllStringFunc(p.Message, func(f string) string {
				key, _ := k.scenarioKey(path, f)
				return strings.TrimPrefix(key, path+".")
			})
			if !known {
				msg = p.Field + ": " + msg
			}
			k.errf(at, "%s", msg)
		}
	}
}

// scenarioKey returns the key, from the file's root, that sets a field of
// the scenario at path (see scenarioKeys), and whether the field has one;
// the scenario's own path when it has not.
func (k *checker) scenarioKey(path, field string) (string, bool) {
	keys, ok := scenarioKeys[field]
	if !ok {
		return path, false
	}
	abs := func(key string) string {
		if rest, ok := strings.CutPrefix(key, "/"); ok {
			return rest
		}
		return joinPath(path, key)
	}
	for _, key := range keys {
		if _, set := k.c.pos[abs(key)]; set {
			return abs(key), true
		}
	}
	return abs(keys[0]), true
}

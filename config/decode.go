package config

import (
	"fmt"
	"github.com/llm-latency-lens/lens"
	"math"
	"slices"
	"strconv"
	"strings"
)

// decoder decodes a cnode tree into a File. It checks shapes and types
// (unknown fields, a string where a number belongs) and expands ${ENV};
// File.check then checks the values. Every problem is collected, none
// stops the decoding.
type decoder struct {
	lookup func(string) (string, bool)
	pos    map[string]position
	probs  []Problem
}

func (d *decoder) problem(n *cnode, path, format string, args ...any) {
	p := Problem{Path: path, Message: fmt.Sprintf(format, args...)}
	if n != nil {
		p.Line, p.Column = n.line, n.col
	}
	d.probs = append(d.probs, p)
}

func (d *decoder) typeErr(n *cnode, path, want string) {
	d.problem(n, path, "must be %s, got %s", want, n.kind.kindName())
}

func (d *decoder) mark(path string, n *cnode) {
	if n != nil {
		d.pos[path] = position{n.line, n.col}
	}
}

// fields checks that n is a mapping of only the given keys, records their
// positions and returns the values that are not null, by key.
func (d *decoder) fields(n *cnode, path string, keys ...string) map[string]*cnode {
	if n.kind != cMap {
		d.typeErr(n, path, "a mapping")
		return nil
	}
	out := make(map[string]*cnode, len(n.keys))
	seen := make(map[string]bool, len(n.keys))
	for i, k := range n.keys {
		kp := pathKey(path, k)
		kn := n.keyNodes[i]
		if seen[k] {
			d.problem(kn, kp, "duplicate key")
			continue
		}
		seen[k] = true
		if !slices.Contains(keys, k) {
			d.problem(kn, kp, "unknown field%s", suggest(k, keys))
			continue
		}
		d.mark(kp, kn)
		if n.vals[i].kind != cNull {
			out[k] = n.vals[i]
		}
	}
	return out
}

// entries checks that n is a mapping and returns its entries in order,
// recording their positions. Duplicate keys are problems.
func (d *decoder) entries(n *cnode, path string) (keys []string, vals []*cnode) {
	if n.kind != cMap {
		d.typeErr(n, path, "a mapping")
		return nil, nil
	}
	seen := make(map[string]bool, len(n.keys))
	for i, k := range n.keys {
		kp := pathKey(path, k)
		if seen[k] {
			d.problem(n.keyNodes[i], kp, "duplicate key")
			continue
		}
		seen[k] = true
		d.mark(kp, n.keyNodes[i])
		keys = append(keys, k)
		vals = append(vals, n.vals[i])
	}
	return keys, vals
}

// list checks that n is a list and records its items' positions.
func (d *decoder) list(n *cnode, path string) []*cnode {
	if n.kind != cList {
		d.typeErr(n, path, "a list")
		return nil
	}
	for i, it := range n.items {
		d.mark(pathIndex(path, i), it)
	}
	return n.items
}

// expand replaces ${ENV} references in a string value.
func (d *decoder) expand(n *cnode, path, s string) (string, bool) {
	out, err := expandEnv(s, d.lookup)
	if err != nil {
		d.problem(n, path, "%v", err)
		return "", false
	}
	return out, true
}

// str decodes a string. Numbers and booleans are taken as written.
func (d *decoder) str(n *cnode, path string) string {
	switch n.kind {
	case cString:
		s, _ := d.expand(n, path, n.text)
		return s
	case cBool, cInt, cFloat:
		return n.text
	}
	d.typeErr(n, path, "a string")
	return ""
}

// envText returns the text of a string value, expanded, for the number
// and boolean decoders: a string is only a number when it came from
// ${ENV}.
func (d *decoder) envText(n *cnode, path string) (string, bool) {
	if n.kind != cString || !strings.Contains(n.text, "${") {
		return "", false
	}
	s, ok := d.expand(n, path, n.text)
	return strings.TrimSpace(s), ok
}

// integer decodes a whole number.
func (d *decoder) integer(n *cnode, path string) (int64, bool) {
	switch n.kind {
	case cInt:
		return n.i, true
	case cFloat:
		if n.f == math.Trunc(n.f) && math.Abs(n.f) < 1<<63 {
			return int64(n.f), true
		}
		if finite(n.f) && n.f == math.Trunc(n.f) {
			d.problem(n, path, "must be a whole number within ±9223372036854775807")
		} else {
			d.problem(n, path, "must be a whole number, got a fraction")
		}
		return 0, false
	case cString:
		if s, ok := d.envText(n, path); ok {
			if v, err := strconv.ParseInt(s, 10, 64); err == nil {
				return v, true
			}
			d.problem(n, path, "must be a whole number (after expanding ${...})")
			return 0, false
		} else if strings.Contains(n.text, "${") {
			return 0, false // expand reported it
		}
	}
	d.typeErr(n, path, "a whole number")
	return 0, false
}

// intField decodes a whole number that fits an int.
func (d *decoder) intField(n *cnode, path string) int {
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
func (d *decoder) number(n *cnode, path string) float64 {
	switch n.kind {
	case cInt, cFloat:
		if !finite(n.f) {
			d.problem(n, path, "must be a finite number")
			return 0
		}
		return n.f
	case cString:
		if s, ok := d.envText(n, path); ok {
			if v, err := strconv.ParseFloat(s, 64); err == nil && finite(v) {
				return v
			}
			d.problem(n, path, "must be a number (after expanding ${...})")
			return 0
		} else if strings.Contains(n.text, "${") {
			return 0
		}
	}
	d.typeErr(n, path, "a number")
	return 0
}

// optNumber decodes a number into a new pointer.
func (d *decoder) optNumber(n *cnode, path string) *float64 {
	v := d.number(n, path)
	return &v
}

// boolean decodes true or false.
func (d *decoder) boolean(n *cnode, path string) bool {
	switch n.kind {
	case cBool:
		return n.b
	case cString:
		if s, ok := d.envText(n, path); ok {
			switch strings.ToLower(s) {
			case "true":
				return true
			case "false":
				return false
			}
			d.problem(n, path, "must be true or false (after expanding ${...})")
			return false
		} else if strings.Contains(n.text, "${") {
			return false
		}
	}
	d.typeErr(n, path, "true or false")
	return false
}

// strList decodes a list of strings.
func (d *decoder) strList(n *cnode, path string) []string {
	items := d.list(n, path)
	if items == nil {
		return nil
	}
	out := make([]string, 0, len(items))
	for i, it := range items {
		out = append(out, d.str(it, pathIndex(path, i)))
	}
	return out
}

// anyValue decodes a value of any shape: nil, bool, int64, float64,
// string (expanded), []any or map[string]any.
func (d *decoder) anyValue(n *cnode, path string) any {
	switch n.kind {
	case cNull:
		return nil
	case cBool:
		return n.b
	case cInt:
		return n.i
	case cFloat:
		return n.f
	case cString:
		s, _ := d.expand(n, path, n.text)
		return s
	case cList:
		out := make([]any, len(n.items))
		for i, it := range n.items {
			p := pathIndex(path, i)
			d.mark(p, it)
			out[i] = d.anyValue(it, p)
		}
		return out
	case cMap:
		keys, vals := d.entries(n, path)
		out := make(map[string]any, len(keys))
		for i, k := range keys {
			out[k] = d.anyValue(vals[i], pathKey(path, k))
		}
		return out
	}
	return nil
}

// dist decodes a distribution.
func (d *decoder) dist(n *cnode, path string) *Dist {
	if n.kind == cString && !strings.Contains(n.text, "${") {
		d.problem(n, path, "must be %s, got a string", distForms)
		return nil
	}
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

// ---- the schema ----

func (d *decoder) config(root *cnode) *File {
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
	if root.kind != cMap {
		d.problem(root, "", "a configuration must be a mapping of version, providers, workload, execution and output, got %s", root.kind.kindName())
		return c
	}
	d.mark("", root)
	f := d.fields(root, "", "version", "providers", "workload", "execution", "output")
	if n := f["version"]; n != nil {
		c.Version = d.str(n, "version")
	}
	if n := f["providers"]; n != nil {
		for i, it := range d.list(n, "providers") {
			c.Providers = append(c.Providers, d.provider(it, pathIndex("providers", i), i))
		}
	}
	if n := f["workload"]; n != nil {
		d.workload(n, "workload", &c.Workload)
	}
	if n := f["execution"]; n != nil {
		d.execution(n, "execution", &c.Execution)
	}
	if n := f["output"]; n != nil {
		d.output(n, "output", &c.Output)
	}
	return c
}

func (d *decoder) provider(n *cnode, path string, index int) Provider {
	pc := Provider{index: index}
	f := d.fields(n, path, "name", "type", "endpoint", "auth", "models", "settings", "headers", "rate_limit", "pricing")
	if f == nil {
		return pc
	}
	if v := f["name"]; v != nil {
		pc.Name = d.str(v, pathKey(path, "name"))
	}
	if v := f["type"]; v != nil {
		pc.Type = d.str(v, pathKey(path, "type"))
	}
	if v := f["endpoint"]; v != nil {
		pc.Endpoint = d.str(v, pathKey(path, "endpoint"))
	}
	if v := f["auth"]; v != nil {
		p := pathKey(path, "auth")
		a := d.fields(v, p, "type", "header", "token")
		if v := a["type"]; v != nil {
			pc.Auth.Type = d.str(v, pathKey(p, "type"))
		}
		if v := a["header"]; v != nil {
			pc.Auth.Header = d.str(v, pathKey(p, "header"))
		}
		if v := a["token"]; v != nil {
			tp := pathKey(p, "token")
			if v.kind != cString {
				// Never echo it: a credential put here by mistake must
				// not be printed.
				d.typeErr(v, tp, "a string")
			} else {
				s, _ := d.expand(v, tp, v.text)
				pc.Auth.Token = Secret(s)
			}
		}
	}
	if v := f["models"]; v != nil {
		pc.Models = d.strList(v, pathKey(path, "models"))
	}
	if v := f["settings"]; v != nil {
		p := pathKey(path, "settings")
		keys, vals := d.entries(v, p)
		if keys != nil || v.kind == cMap {
			pc.Settings = make(map[string]any, len(keys))
		}
		for i, k := range keys {
			pc.Settings[k] = d.anyValue(vals[i], pathKey(p, k))
		}
	}
	if v := f["headers"]; v != nil {
		p := pathKey(path, "headers")
		keys, vals := d.entries(v, p)
		pc.Headers = make(map[string]Secret, len(keys))
		for i, k := range keys {
			kp := pathKey(p, k)
			if vals[i].kind == cMap || vals[i].kind == cList {
				d.typeErr(vals[i], kp, "a string")
				continue
			}
			if vals[i].kind == cNull {
				pc.Headers[k] = ""
				continue
			}
			pc.Headers[k] = Secret(d.str(vals[i], kp))
		}
	}
	if v := f["rate_limit"]; v != nil {
		p := pathKey(path, "rate_limit")
		r := d.fields(v, p, "requests_per_second", "tokens_per_minute")
		if v := r["requests_per_second"]; v != nil {
			pc.RateLimit.RequestsPerSecond = d.number(v, pathKey(p, "requests_per_second"))
		}
		if v := r["tokens_per_minute"]; v != nil {
			pc.RateLimit.TokensPerMinute = d.intField(v, pathKey(p, "tokens_per_minute"))
		}
	}
	if v := f["pricing"]; v != nil {
		p := pathKey(path, "pricing")
		keys, vals := d.entries(v, p)
		pc.Pricing = make(map[string]lens.Price, len(keys))
		for i, model := range keys {
			mp := pathKey(p, model)
			if vals[i].kind == cNull {
				pc.Pricing[model] = lens.Price{}
				continue
			}
			pf := d.fields(vals[i], mp, "input", "output")
			var pr lens.Price
			if v := pf["input"]; v != nil {
				pr.Input = d.number(v, pathKey(mp, "input"))
			}
			if v := pf["output"]; v != nil {
				pr.Output = d.number(v, pathKey(mp, "output"))
			}
			pc.Pricing[model] = pr
		}
	}
	return pc
}

func (d *decoder) workload(n *cnode, path string, w *Workload) {
	f := d.fields(n, path, "scenarios", "prompts", "prompt_sets", "request_params")
	if v := f["scenarios"]; v != nil {
		p := pathKey(path, "scenarios")
		for i, it := range d.list(v, p) {
			w.Scenarios = append(w.Scenarios, d.scenario(it, pathIndex(p, i)))
		}
	}
	if v := f["prompts"]; v != nil {
		p := pathKey(path, "prompts")
		for i, it := range d.list(v, p) {
			ip := pathIndex(p, i)
			var t PromptTemplate
			tf := d.fields(it, ip, "name", "template")
			if v := tf["name"]; v != nil {
				t.Name = d.str(v, pathKey(ip, "name"))
			}
			if v := tf["template"]; v != nil {
				t.Template = d.str(v, pathKey(ip, "template"))
			}
			w.Prompts = append(w.Prompts, t)
		}
	}
	if v := f["prompt_sets"]; v != nil {
		p := pathKey(path, "prompt_sets")
		for i, it := range d.list(v, p) {
			ip := pathIndex(p, i)
			var s PromptSet
			sf := d.fields(it, ip, "name", "prompts")
			if v := sf["name"]; v != nil {
				s.Name = d.str(v, pathKey(ip, "name"))
			}
			if v := sf["prompts"]; v != nil {
				s.Prompts = d.strList(v, pathKey(ip, "prompts"))
			}
			w.PromptSets = append(w.PromptSets, s)
		}
	}
	if v := f["request_params"]; v != nil {
		p := pathKey(path, "request_params")
		rf := d.fields(v, p, "max_tokens", "temperature", "top_p", "stream", "timeout")
		rp := &w.RequestParams
		if v := rf["max_tokens"]; v != nil {
			rp.MaxTokens = d.dist(v, pathKey(p, "max_tokens"))
		}
		if v := rf["temperature"]; v != nil {
			rp.Temperature = d.optNumber(v, pathKey(p, "temperature"))
		}
		if v := rf["top_p"]; v != nil {
			rp.TopP = d.optNumber(v, pathKey(p, "top_p"))
		}
		if v := rf["stream"]; v != nil {
			rp.Stream = d.boolean(v, pathKey(p, "stream"))
		}
		if v := rf["timeout"]; v != nil {
			rp.TimeoutSecs = d.number(v, pathKey(p, "timeout"))
		}
	}
}

func (d *decoder) scenario(n *cnode, path string) Scenario {
	var s Scenario
	f := d.fields(n, path, "name", "prompt", "requests", "duration_secs", "concurrency", "rate_limit",
		"arrivals", "ramp_up_secs", "warmup", "max_tokens", "stream", "temperature", "top_p", "slo",
		"timeouts", "providers")
	if f == nil {
		return s
	}
	key := func(k string) string { return pathKey(path, k) }
	if v := f["name"]; v != nil {
		s.Name = d.str(v, key("name"))
	}
	if v := f["prompt"]; v != nil {
		s.Prompt = d.prompt(v, key("prompt"))
	}
	if v := f["requests"]; v != nil {
		s.Requests = d.intField(v, key("requests"))
	}
	if v := f["duration_secs"]; v != nil {
		s.DurationSecs = d.number(v, key("duration_secs"))
	}
	if v := f["concurrency"]; v != nil {
		c := d.intField(v, key("concurrency"))
		s.Concurrency = &c
	}
	if v := f["rate_limit"]; v != nil {
		s.RateLimit = d.number(v, key("rate_limit"))
	}
	if v := f["arrivals"]; v != nil {
		s.Arrivals = d.str(v, key("arrivals"))
	}
	if v := f["ramp_up_secs"]; v != nil {
		s.RampUpSecs = d.number(v, key("ramp_up_secs"))
	}
	if v := f["warmup"]; v != nil {
		w := d.intField(v, key("warmup"))
		s.Warmup = &w
	}
	if v := f["max_tokens"]; v != nil {
		s.MaxTokens = d.dist(v, key("max_tokens"))
	}
	if v := f["stream"]; v != nil {
		b := d.boolean(v, key("stream"))
		s.Stream = &b
	}
	if v := f["temperature"]; v != nil {
		s.Temperature = d.optNumber(v, key("temperature"))
	}
	if v := f["top_p"]; v != nil {
		s.TopP = d.optNumber(v, key("top_p"))
	}
	if v := f["slo"]; v != nil {
		p := key("slo")
		sf := d.fields(v, p, "ttft_ms", "tpot_ms", "e2e_ms")
		if v := sf["ttft_ms"]; v != nil {
			s.SLO.TTFTMs = d.number(v, pathKey(p, "ttft_ms"))
		}
		if v := sf["tpot_ms"]; v != nil {
			s.SLO.TPOTMs = d.number(v, pathKey(p, "tpot_ms"))
		}
		if v := sf["e2e_ms"]; v != nil {
			s.SLO.E2EMs = d.number(v, pathKey(p, "e2e_ms"))
		}
	}
	if v := f["timeouts"]; v != nil {
		d.timeouts(v, key("timeouts"), &s.Timeouts)
	}
	if v := f["providers"]; v != nil {
		s.Providers = d.strList(v, key("providers"))
	}
	return s
}

func (d *decoder) prompt(n *cnode, path string) Prompt {
	var p Prompt
	if n.kind == cString {
		// prompt: "text" is short for prompt: {text: "text"}.
		p.Text = d.str(n, path)
		return p
	}
	f := d.fields(n, path, "template", "variables", "text", "set", "tokens", "system")
	key := func(k string) string { return pathKey(path, k) }
	if v := f["template"]; v != nil {
		p.Template = d.str(v, key("template"))
	}
	if v := f["variables"]; v != nil {
		vp := key("variables")
		keys, vals := d.entries(v, vp)
		p.Variables = make(map[string]string, len(keys))
		for i, k := range keys {
			kp := pathKey(vp, k)
			switch vals[i].kind {
			case cNull:
				p.Variables[k] = ""
			case cMap, cList:
				d.typeErr(vals[i], kp, "a string")
			default:
				p.Variables[k] = d.str(vals[i], kp)
			}
		}
	}
	if v := f["text"]; v != nil {
		p.Text = d.str(v, key("text"))
	}
	if v := f["set"]; v != nil {
		p.Set = d.str(v, key("set"))
	}
	if v := f["tokens"]; v != nil {
		p.Tokens = d.dist(v, key("tokens"))
	}
	if v := f["system"]; v != nil {
		p.System = d.str(v, key("system"))
	}
	return p
}

func (d *decoder) timeouts(n *cnode, path string, t *Timeouts) {
	f := d.fields(n, path, "connect_ms", "request_secs", "first_token_ms", "idle_ms")
	if v := f["connect_ms"]; v != nil {
		t.ConnectMs = d.number(v, pathKey(path, "connect_ms"))
	}
	if v := f["request_secs"]; v != nil {
		t.RequestSecs = d.number(v, pathKey(path, "request_secs"))
	}
	if v := f["first_token_ms"]; v != nil {
		t.FirstTokenMs = d.number(v, pathKey(path, "first_token_ms"))
	}
	if v := f["idle_ms"]; v != nil {
		t.IdleMs = d.number(v, pathKey(path, "idle_ms"))
	}
}

func (d *decoder) execution(n *cnode, path string, e *Execution) {
	f := d.fields(n, path, "max_concurrency", "warmup_requests", "seed", "retry", "http", "timeouts")
	key := func(k string) string { return pathKey(path, k) }
	if v := f["max_concurrency"]; v != nil {
		e.MaxConcurrency = d.intField(v, key("max_concurrency"))
	}
	if v := f["warmup_requests"]; v != nil {
		e.WarmupRequests = d.intField(v, key("warmup_requests"))
	}
	if v := f["seed"]; v != nil {
		if s, ok := d.integer(v, key("seed")); ok {
			if s < 0 {
				d.problem(v, key("seed"), "must be >= 0")
			} else {
				e.Seed = uint64(s)
			}
		}
	}
	if v := f["retry"]; v != nil {
		p := key("retry")
		rf := d.fields(v, p, "max_attempts", "initial_backoff_ms", "max_backoff_ms", "multiplier", "jitter", "max_retry_after_ms")
		r := &e.Retry
		if v := rf["max_attempts"]; v != nil {
			r.MaxAttempts = d.intField(v, pathKey(p, "max_attempts"))
		}
		if v := rf["initial_backoff_ms"]; v != nil {
			r.InitialBackoffMs = d.number(v, pathKey(p, "initial_backoff_ms"))
		}
		if v := rf["max_backoff_ms"]; v != nil {
			r.MaxBackoffMs = d.number(v, pathKey(p, "max_backoff_ms"))
		}
		if v := rf["multiplier"]; v != nil {
			r.Multiplier = d.number(v, pathKey(p, "multiplier"))
		}
		if v := rf["jitter"]; v != nil {
			r.Jitter = d.number(v, pathKey(p, "jitter"))
		}
		if v := rf["max_retry_after_ms"]; v != nil {
			r.MaxRetryAfterMs = d.number(v, pathKey(p, "max_retry_after_ms"))
		}
	}
	if v := f["http"]; v != nil {
		p := key("http")
		hf := d.fields(v, p, "pool_size", "connect_timeout_ms", "keep_alive_secs", "http2", "disable_keep_alives")
		h := &e.HTTP
		if v := hf["pool_size"]; v != nil {
			h.PoolSize = d.intField(v, pathKey(p, "pool_size"))
		}
		if v := hf["connect_timeout_ms"]; v != nil {
			h.ConnectTimeoutMs = d.number(v, pathKey(p, "connect_timeout_ms"))
		}
		if v := hf["keep_alive_secs"]; v != nil {
			h.KeepAliveSecs = d.number(v, pathKey(p, "keep_alive_secs"))
		}
		if v := hf["http2"]; v != nil {
			h.HTTP2 = d.boolean(v, pathKey(p, "http2"))
		}
		if v := hf["disable_keep_alives"]; v != nil {
			h.DisableKeepAlives = d.boolean(v, pathKey(p, "disable_keep_alives"))
		}
	}
	if v := f["timeouts"]; v != nil {
		d.timeouts(v, key("timeouts"), &e.Timeouts)
	}
}

func (d *decoder) output(n *cnode, path string, o *Output) {
	f := d.fields(n, path, "console", "export", "database")
	if v := f["console"]; v != nil {
		p := pathKey(path, "console")
		cf := d.fields(v, p, "enabled", "format", "show_progress")
		if v := cf["enabled"]; v != nil {
			o.Console.Enabled = d.boolean(v, pathKey(p, "enabled"))
		}
		if v := cf["format"]; v != nil {
			o.Console.Format = d.str(v, pathKey(p, "format"))
		}
		if v := cf["show_progress"]; v != nil {
			o.Console.ShowProgress = d.boolean(v, pathKey(p, "show_progress"))
		}
	}
	if v := f["export"]; v != nil {
		p := pathKey(path, "export")
		for i, it := range d.list(v, p) {
			ip := pathIndex(p, i)
			var e Export
			ef := d.fields(it, ip, "format", "path", "pretty", "codec")
			if v := ef["format"]; v != nil {
				e.Format = d.str(v, pathKey(ip, "format"))
			}
			if v := ef["path"]; v != nil {
				e.Path = d.str(v, pathKey(ip, "path"))
			}
			if v := ef["pretty"]; v != nil {
				e.Pretty = d.boolean(v, pathKey(ip, "pretty"))
			}
			if v := ef["codec"]; v != nil {
				e.Codec = d.str(v, pathKey(ip, "codec"))
			}
			o.Export = append(o.Export, e)
		}
	}
	if v := f["database"]; v != nil {
		p := pathKey(path, "database")
		df := d.fields(v, p, "enabled", "type", "connection")
		if v := df["enabled"]; v != nil {
			o.Database.Enabled = d.boolean(v, pathKey(p, "enabled"))
		}
		if v := df["type"]; v != nil {
			o.Database.Type = d.str(v, pathKey(p, "type"))
		}
		if v := df["connection"]; v != nil {
			cp := pathKey(p, "connection")
			keys, vals := d.entries(v, cp)
			o.Database.Connection = make(map[string]Secret, len(keys))
			for i, k := range keys {
				kp := pathKey(cp, k)
				switch vals[i].kind {
				case cNull:
				case cMap, cList:
					d.typeErr(vals[i], kp, "a string")
				default:
					o.Database.Connection[k] = Secret(d.str(vals[i], kp))
				}
			}
		}
	}
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

// ---- distributions ----

const distForms = "a number or one of {fixed: n}, {uniform: [lo, hi]}, {normal: {mean: m, stddev: s}}, {lognormal: {median: m, sigma: s}}"

// ParseDist parses a distribution from a decoded value (as found in
// Provider.Settings): a number, a string holding a number, or a
// one-key mapping {fixed: n}, {uniform: [lo, hi]}, {normal: {mean,
// stddev}} or {lognormal: {median, sigma}} (the last three also take a
// two-number list). It checks that the parameters are finite and not
// negative, that lo <= hi and that a lognormal median is positive.
func ParseDist(v any) (Dist, error) {
	spec, err := parseDist(v)
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
func parseDist(v any) (Dist, error) {
	if f, ok := toNumber(v); ok {
		return Dist{Kind: "fixed", A: f}, nil
	}
	m, ok := v.(map[string]any)
	if !ok || len(m) != 1 {
		return Dist{}, fmt.Errorf("must be %s", distForms)
	}
	for kind, arg := range m {
		switch kind {
		case "fixed":
			f, ok := toNumber(arg)
			if !ok {
				return Dist{}, fmt.Errorf("fixed: must be a number")
			}
			return Dist{Kind: kind, A: f}, nil
		case "uniform":
			a, b, err := distPair(kind, arg, "lo", "hi")
			return Dist{Kind: kind, A: a, B: b}, err
		case "normal":
			a, b, err := distPair(kind, arg, "mean", "stddev")
			return Dist{Kind: kind, A: a, B: b}, err
		case "lognormal":
			a, b, err := distPair(kind, arg, "median", "sigma")
			return Dist{Kind: kind, A: a, B: b}, err
		default:
			return Dist{}, fmt.Errorf("unknown distribution %q%s: must be %s", kind,
				suggest(kind, []string{"fixed", "uniform", "normal", "lognormal"}), distForms)
		}
	}
	return Dist{}, fmt.Errorf("must be %s", distForms)
}

// distPair reads a distribution's two parameters from [a, b] or
// {an: a, bn: b}.
func distPair(kind string, arg any, an, bn string) (float64, float64, error) {
	bad := fmt.Errorf("%s: must be [%s, %s] or {%s: ..., %s: ...} (numbers)", kind, an, bn, an, bn)
	switch x := arg.(type) {
	case []any:
		if len(x) != 2 {
			return 0, 0, bad
		}
		a, ok1 := toNumber(x[0])
		b, ok2 := toNumber(x[1])
		if !ok1 || !ok2 {
			return 0, 0, bad
		}
		return a, b, nil
	case map[string]any:
		for k := range x {
			if k != an && k != bn {
				return 0, 0, fmt.Errorf("%s: unknown parameter %q%s", kind, k, suggest(k, []string{an, bn}))
			}
		}
		a, ok1 := toNumber(x[an])
		b, ok2 := toNumber(x[bn])
		if !ok1 || !ok2 {
			return 0, 0, bad
		}
		return a, b, nil
	}
	return 0, 0, bad
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

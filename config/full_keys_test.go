package config

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/llm-latency-lens/lens/internal/yamlkeys"
	"github.com/llm-latency-lens/lens/providers"
)

// keyCase shows what one key of examples/full.yaml does: set to value (a
// YAML value), the configuration must give other runs than as written, or
// be refused when refused is set. with are edits made to both sides first,
// for a key whose effect needs another key (a second provider for a
// scenario's providers list, say).
type keyCase struct {
	value   string
	refused bool
	with    map[string]string
}

// secondProvider adds a second fake provider, for the keys that choose
// among providers.
var secondProvider = map[string]string{"providers[1]": "{name: fake-b, type: fake, models: [fake-model]}"}

// fullKeyCases has one case for every key of examples/full.yaml that the
// configuration loader turns into runs; the keys under output and dashboard,
// which lens-report run acts on, are cmd/lens-report's
// TestFullExampleOutputKeys.
var fullKeyCases = map[string]keyCase{
	"version":                 {value: `"2.0"`, refused: true},
	"providers[0].name":       {value: "renamed", refused: true}, // scenarios name it in their providers lists
	"providers[0].type":       {value: "openai", refused: true},  // the fake's settings are not OpenAI's
	"providers[0].auth.type":  {value: "api_key", with: map[string]string{"providers[0].auth.header": "x-api-key"}},
	"providers[0].auth.token": {value: "another-token"},
	"providers[0].models":     {value: "[fake-model, fake-model-2]"},

	"providers[0].settings.ttft_ms":                 {value: "fixed(10)"},
	"providers[0].settings.itl_ms":                  {value: "fixed(2)"},
	"providers[0].settings.output_tokens":           {value: "8"},
	"providers[0].settings.tokens_per_chunk":        {value: "2"},
	"providers[0].settings.capacity":                {value: "4"},
	"providers[0].settings.prefill_per_token_ms":    {value: "0.5"},
	"providers[0].settings.seed":                    {value: "8"},
	"providers[0].settings.format":                  {value: "anthropic"},
	"providers[0].settings.faults.rate_limit":       {value: "0.02"},
	"providers[0].settings.faults.server_error":     {value: "0.02"},
	"providers[0].settings.faults.unavailable":      {value: "0.02"},
	"providers[0].settings.faults.overloaded":       {value: "0.02"},
	"providers[0].settings.faults.disconnect":       {value: "0.02"},
	"providers[0].settings.faults.stall":            {value: "0.02"},
	"providers[0].settings.faults.malformed":        {value: "0.02"},
	"providers[0].settings.faults.stream_error":     {value: "0.02"},
	"providers[0].settings.faults.retry_after_ms":   {value: "30"},
	"providers[0].settings.faults.stall_for_ms":     {value: "100"},
	"providers[0].headers.X-Request-Source":         {value: "another-source"},
	"providers[0].rate_limit.requests_per_second":   {value: "100"},
	"providers[0].rate_limit.tokens_per_minute":     {value: "100000"},
	"providers[0].pricing.fake-model.input":         {value: "0.2"},
	"providers[0].pricing.fake-model.output":        {value: "0.8"},
	"workload.scenarios[0].name":                    {value: "chat-2"},
	"workload.scenarios[0].prompt.template":         {value: "other", with: map[string]string{"workload.prompts[1]": "{name: other, template: 'Tell me about {{topic}}.'}"}},
	"workload.scenarios[0].prompt.variables.topic":  {value: "caching"},
	"workload.scenarios[0].prompt.system":           {value: "You are thorough."},
	"workload.scenarios[0].requests":                {value: "100"},
	"workload.scenarios[0].concurrency":             {value: "3"},
	"workload.scenarios[0].warmup":                  {value: "2"},
	"workload.scenarios[0].max_tokens":              {value: "uniform(16, 32)"},
	"workload.scenarios[0].temperature":             {value: "0.5"},
	"workload.scenarios[0].slo.ttft_ms":             {value: "300"},
	"workload.scenarios[0].slo.tpot_ms":             {value: "30"},
	"workload.scenarios[0].slo.e2e_ms":              {value: "3000"},
	"workload.scenarios[0].timeouts.request_secs":   {value: "25"},
	"workload.scenarios[0].timeouts.first_token_ms": {value: "4000"},
	"workload.scenarios[0].timeouts.idle_ms":        {value: "1000"},
	"workload.scenarios[0].gates[0].metric":         {value: "e2e"},
	"workload.scenarios[0].gates[0].percentile":     {value: "90"},
	"workload.scenarios[0].gates[0].limit_ms":       {value: "400"},
	"workload.scenarios[0].gates[1].metric":         {value: "ttft", refused: true}, // a latency gate takes percentile and limit_ms, not max
	"workload.scenarios[0].gates[1].max":            {value: "0.1"},
	"workload.scenarios[0].max_requests":            {value: "800"},
	"workload.scenarios[0].sweep.mode":              {value: "rate"},
	"workload.scenarios[0].sweep.start":             {value: "4"},
	"workload.scenarios[0].sweep.min":               {value: "2"},
	"workload.scenarios[0].sweep.max":               {value: "32"},
	"workload.scenarios[0].sweep.growth":            {value: "3"},
	"workload.scenarios[0].sweep.resolution":        {value: "0.1"},
	"workload.scenarios[0].sweep.min_achieved":      {value: "0.8"},
	"workload.scenarios[0].sweep.require":           {value: "8"},
	"workload.scenarios[1].name":                    {value: "open-loop-2"},
	"workload.scenarios[1].prompt.set":              {value: "other", with: map[string]string{"workload.prompt_sets[1]": "{name: other, prompts: ['Hello?']}"}},
	"workload.scenarios[1].requests":                {value: "100"},
	"workload.scenarios[1].rate_limit":              {value: "30"},
	"workload.scenarios[1].arrivals":                {value: "constant"},
	"workload.scenarios[1].ramp_up_secs":            {value: "2"},
	"workload.scenarios[1].concurrency":             {value: "16"},
	"workload.scenarios[2].name":                    {value: "long-prompts-2"},
	"workload.scenarios[2].prompt.tokens":           {value: "normal(200, 40)"},
	"workload.scenarios[2].duration_secs":           {value: "3"},
	"workload.scenarios[2].concurrency":             {value: "2"},
	"workload.scenarios[2].stream":                  {value: "true"},
	"workload.scenarios[2].max_tokens":              {value: "16"},
	"workload.scenarios[2].providers":               {value: "[fake-b]", with: secondProvider},
	"workload.scenarios[3].name":                    {value: "conversation-2"},
	"workload.scenarios[3].prompt.text":             {value: "Go on."},
	"workload.scenarios[3].requests":                {value: "12"},
	"workload.scenarios[3].concurrency":             {value: "2"},
	"workload.scenarios[3].session.turns":           {value: "2"},
	"workload.scenarios[3].session.think_time_secs": {value: "fixed(0.1)"},
	"workload.scenarios[3].providers":               {value: "[fake, fake-b]", with: secondProvider},
	"workload.prompts[0].name":                      {value: "renamed", refused: true}, // scenarios[0] names it
	"workload.prompts[0].template":                  {value: "Describe {{topic}}."},
	"workload.prompt_sets[0].name":                  {value: "renamed", refused: true}, // scenarios[1] names it
	"workload.prompt_sets[0].prompts":               {value: "['Hello?', 'Goodbye?']"},
	"workload.request_params.max_tokens":            {value: "128"},
	"workload.request_params.temperature":           {value: "0.4"},
	"workload.request_params.top_p":                 {value: "0.5"},
	"workload.request_params.stream":                {value: "false"},
	"workload.request_params.timeout":               {value: "45"},
	"execution.max_concurrency":                     {value: "32"},
	"execution.warmup_requests":                     {value: "2"},
	"execution.seed":                                {value: "43"},
	"execution.retry.max_attempts":                  {value: "5"},
	"execution.retry.initial_backoff_ms":            {value: "100"},
	"execution.retry.max_backoff_ms":                {value: "8000"},
	"execution.retry.multiplier":                    {value: "3"},
	"execution.retry.jitter":                        {value: "0.5"},
	"execution.retry.max_retry_after_ms":            {value: "20000"},
	"execution.http.pool_size":                      {value: "50"},
	"execution.http.connect_timeout_ms":             {value: "3000"},
	"execution.http.keep_alive_secs":                {value: "30"},
	"execution.http.http2":                          {value: "false"},
	"execution.http.disable_keep_alives":            {value: "true"},
	"execution.timeouts.first_token_ms":             {value: "8000"},
	"execution.timeouts.idle_ms":                    {value: "4000"},
}

// TestFullExampleEveryKeyHasEffect walks every key of examples/full.yaml
// (its YAML node tree) and shows that each one the loader reads changes
// the runs it builds — every scenario, provider (the codec, its
// credentials and headers, the fake server's settings), limiter, gate and
// price — or is refused. A key added to the file without a case here
// fails the test, as does a case for a key the file no longer has.
func TestFullExampleEveryKeyHasEffect(t *testing.T) {
	seedEnv(t)
	data, err := os.ReadFile("../examples/full.yaml")
	if err != nil {
		t.Fatal(err)
	}
	keys, err := yamlkeys.Leaves(data)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, key := range keys {
		if strings.HasPrefix(key, "output.") || strings.HasPrefix(key, "dashboard.") {
			continue
		}
		seen[key] = true
		c, ok := fullKeyCases[key]
		if !ok {
			t.Errorf("%s: no case in fullKeyCases: add one that shows what the key changes", key)
			continue
		}
		t.Run(key, func(t *testing.T) {
			base, err := yamlkeys.SetAll(data, c.with)
			if err != nil {
				t.Fatal(err)
			}
			changed, err := yamlkeys.Set(base, key, c.value)
			if err != nil {
				t.Fatal(err)
			}
			before, err := observeRuns(base)
			if err != nil {
				t.Fatalf("as written: %v", err)
			}
			after, err := observeRuns(changed)
			switch {
			case c.refused && err == nil:
				t.Errorf("%s: %s was accepted, want it refused", key, c.value)
			case c.refused:
				t.Logf("%s: %s is refused: %v", key, c.value, err)
			case err != nil:
				t.Errorf("%s: %s: %v", key, c.value, err)
			case after == before:
				t.Errorf("%s: %s changes nothing in the runs: the key is ignored", key, c.value)
			}
		})
	}
	for key := range fullKeyCases {
		if !seen[key] {
			t.Errorf("fullKeyCases has %s, a key examples/full.yaml does not have", key)
		}
	}
	if len(seen) < 90 {
		t.Errorf("walked %d keys of examples/full.yaml, want the 90 or more it has", len(seen))
	}
}

// observeRuns parses a configuration and describes everything its runs
// act on, in full: each Run (its Scenario with the provider's codec,
// limiter and gate, its gates and price, the provider's name and type) and
// each fake provider's server configuration and wire format.
func observeRuns(data []byte) (string, error) {
	cfg, err := Parse(data, "full.yaml")
	if err != nil {
		return "", err
	}
	var b strings.Builder
	runs, err := cfg.Runs(func(p Provider, model string) (providers.Provider, error) {
		if p.Type != "fake" {
			return NewProvider(p, model)
		}
		var errs []error
		fs, _ := p.Settings.(*FakeSettings)
		srv, format := fs.server(func(key, msg string) { errs = append(errs, errors.New(key+": "+msg)) })
		if len(errs) > 0 {
			return nil, errors.Join(errs...)
		}
		fmt.Fprintf(&b, "fake %s/%s: format %s, server ", p.Name, model, format)
		describe(&b, reflect.ValueOf(srv), 0)
		b.WriteString("\n")
		return NewProvider(fakeCodec(p, format, "http://fake.invalid"), model)
	})
	if err != nil {
		return "", err
	}
	for _, r := range runs {
		// Run.Provider is the provider's configuration as written: of it,
		// reports use the name and type. The rest must show in what the
		// run does: the codec in the Scenario, the limiter, the price.
		r.Provider = Provider{Name: r.Provider.Name, Type: r.Provider.Type}
		describe(&b, reflect.ValueOf(r), 0)
		b.WriteString("\n")
	}
	return b.String(), nil
}

// describe writes v and everything it reaches, unexported fields included,
// with pointers followed rather than printed (so two runs built alike
// describe alike) and maps in key order.
func describe(b *strings.Builder, v reflect.Value, depth int) {
	if depth > 24 {
		b.WriteString("…")
		return
	}
	switch v.Kind() {
	case reflect.Invalid:
		b.WriteString("<invalid>")
	case reflect.Pointer:
		if v.IsNil() {
			b.WriteString("nil")
			return
		}
		b.WriteString("&")
		describe(b, v.Elem(), depth+1)
	case reflect.Interface:
		if v.IsNil() {
			b.WriteString("nil")
			return
		}
		b.WriteString(v.Elem().Type().String())
		describe(b, v.Elem(), depth+1)
	case reflect.Struct:
		b.WriteString("{")
		for i := range v.NumField() {
			b.WriteString(v.Type().Field(i).Name + ":")
			describe(b, v.Field(i), depth+1)
			b.WriteString(" ")
		}
		b.WriteString("}")
	case reflect.Slice, reflect.Array:
		if v.Kind() == reflect.Slice && v.IsNil() {
			b.WriteString("nil")
			return
		}
		b.WriteString("[")
		for i := range v.Len() {
			describe(b, v.Index(i), depth+1)
			b.WriteString(" ")
		}
		b.WriteString("]")
	case reflect.Map:
		if v.IsNil() {
			b.WriteString("nil")
			return
		}
		entries := make([]string, 0, v.Len())
		it := v.MapRange()
		for it.Next() {
			var e strings.Builder
			describe(&e, it.Key(), depth+1)
			e.WriteString(":")
			describe(&e, it.Value(), depth+1)
			entries = append(entries, e.String())
		}
		sort.Strings(entries)
		b.WriteString("map[" + strings.Join(entries, " ") + "]")
	case reflect.Func:
		if v.IsNil() {
			b.WriteString("func(nil)")
		} else {
			b.WriteString("func")
		}
	case reflect.Chan:
		if v.IsNil() {
			b.WriteString("chan(nil)")
		} else {
			fmt.Fprintf(b, "chan(cap %d)", v.Cap())
		}
	case reflect.Bool:
		b.WriteString(strconv.FormatBool(v.Bool()))
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		b.WriteString(strconv.FormatInt(v.Int(), 10))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		b.WriteString(strconv.FormatUint(v.Uint(), 10))
	case reflect.Float32, reflect.Float64:
		b.WriteString(strconv.FormatFloat(v.Float(), 'g', -1, 64))
	case reflect.String:
		b.WriteString(strconv.Quote(v.String()))
	default:
		b.WriteString(v.Kind().String())
	}
}

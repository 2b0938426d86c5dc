package config

import (
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/llm-latency-lens/lens/fake"
	"github.com/llm-latency-lens/lens/providers"
)

// FakeSettings are the settings of type fake: how the fake server that
// serves the provider answers. Every key is optional.
type FakeSettings struct {
	// TTFTMs, key "ttft_ms", is the time to first token, and ITLMs, key
	// "itl_ms", the time between tokens, in milliseconds: a number or a
	// distribution (nil: 0).
	TTFTMs *Dist `yaml:"ttft_ms"`
	ITLMs  *Dist `yaml:"itl_ms"`

	// OutputTokens, key "output_tokens", are the tokens of each answer
	// (0: 16; a request's max_tokens lowers it); TokensPerChunk, key
	// "tokens_per_chunk", those of each stream event (0: the wire format's
	// usual size). Both >= 0.
	OutputTokens   int `yaml:"output_tokens"`
	TokensPerChunk int `yaml:"tokens_per_chunk"`

	// Capacity, key "capacity", is the requests served at once (0: no
	// limit); more wait in a queue, and their TTFT grows by the wait.
	Capacity int `yaml:"capacity"`

	// PrefillPerTokenMs, key "prefill_per_token_ms", adds this many
	// milliseconds to the time to first token per prompt token (>= 0).
	PrefillPerTokenMs float64 `yaml:"prefill_per_token_ms"`

	// Seed, key "seed", seeds the fake's own random choices.
	Seed uint64 `yaml:"seed"`

	// Faults, key "faults", are the shares of requests that fail, and how.
	Faults Faults `yaml:"faults"`

	// Format, key "format", is the wire format the fake speaks: openai (the
	// default), responses, anthropic, gemini, azure or cohere.
	Format string `yaml:"format"`
}

// Faults are the shares of a fake's requests that fail, each way (key
// "faults"): rates in 0..1 that sum to at most 1. Each is the field of
// fake.Faults of the same name.
type Faults struct {
	Disconnect  float64 `yaml:"disconnect"`   // the connection is cut mid-response
	Malformed   float64 `yaml:"malformed"`    // one event of invalid JSON
	Overloaded  float64 `yaml:"overloaded"`   // 529 (Anthropic) or 503
	RateLimit   float64 `yaml:"rate_limit"`   // 429 with Retry-After
	ServerError float64 `yaml:"server_error"` // 500
	Stall       float64 `yaml:"stall"`        // the response stops for StallForMs mid-way
	StreamError float64 `yaml:"stream_error"` // the format's mid-stream error event
	Unavailable float64 `yaml:"unavailable"`  // 503

	// RetryAfterMs, key "retry_after_ms", is the wait that 429, 503 and 529
	// answers ask for, and StallForMs, key "stall_for_ms", how long a stall
	// lasts, in milliseconds (>= 0; 0: the fake's defaults).
	RetryAfterMs float64 `yaml:"retry_after_ms"`
	StallForMs   float64 `yaml:"stall_for_ms"`
}

// fakeFormats is the base URL path of each wire format a provider of type
// fake can speak, on the fake server.
var fakeFormats = map[string]string{
	"openai": "/v1", "responses": "/v1", "anthropic": "/v1", "gemini": "/v1beta", "azure": "", "cohere": "/v2",
}

// server returns the fake server's configuration and the wire format of
// s; each problem goes to report with its key below settings ("ttft_ms",
// "faults.rate_limit").
func (s *FakeSettings) server(report func(key, msg string)) (cfg fake.Config, format string) {
	if s == nil {
		s = &FakeSettings{}
	}
	latency := func(key string, d *Dist) fake.Latency {
		if d == nil {
			return nil
		}
		if msg := d.problem(0); msg != "" {
			report(key, msg)
			return nil
		}
		return d.latency()
	}
	cfg.TTFT, cfg.ITL = latency("ttft_ms", s.TTFTMs), latency("itl_ms", s.ITLMs)
	for _, c := range []struct {
		key string
		v   float64
	}{
		{"output_tokens", float64(s.OutputTokens)}, {"tokens_per_chunk", float64(s.TokensPerChunk)},
		{"capacity", float64(s.Capacity)}, {"prefill_per_token_ms", s.PrefillPerTokenMs},
	} {
		if !finite(c.v) || c.v < 0 {
			report(c.key, "must be >= 0")
		}
	}
	cfg.OutputTokens, cfg.TokensPerChunk, cfg.Capacity = max(s.OutputTokens, 0), max(s.TokensPerChunk, 0), max(s.Capacity, 0)
	cfg.PrefillPerToken = toDuration(max(s.PrefillPerTokenMs, 0), time.Millisecond)
	cfg.Seed = s.Seed
	cfg.Faults = s.Faults.fake(func(key, msg string) { report(joinPath("faults", key), msg) })
	format = s.Format
	if format == "" {
		format = "openai"
	}
	if _, ok := fakeFormats[format]; !ok {
		formats := slices.Sorted(maps.Keys(fakeFormats))
		report("format", fmt.Sprintf("unknown wire format %q%s (want %s)", format, suggest(format, formats), oneOf(formats)))
	}
	return cfg, format
}

// FakeConfig returns the fake server's configuration of a provider of
// type fake with settings s, with the checks a configuration file gets.
// The error names every setting that is wrong ("capacity: must be >= 0").
func FakeConfig(s FakeSettings) (fake.Config, error) {
	var errs []error
	cfg, _ := s.server(func(key, msg string) { errs = append(errs, errors.New(key+": "+msg)) })
	return cfg, errors.Join(errs...)
}

// FaultNames returns the names of the fake's faults, sorted: the keys of
// Faults besides retry_after_ms and stall_for_ms.
func FaultNames() []string {
	_, names := yamlFields(reflect.TypeFor[Faults]())
	return slices.DeleteFunc(names, func(n string) bool { return strings.HasSuffix(n, "_ms") })
}

// unknownFault words the problem of a fault name that Faults does not
// have.
func unknownFault(name string) string {
	_, names := yamlFields(reflect.TypeFor[Faults]())
	return fmt.Sprintf("unknown fault%s (want %s)", suggest(name, names), oneOf(names))
}

// fake checks f and returns it as the fake's Faults. Each problem goes to
// report with the fault's key, or "" for one of the whole set.
func (f Faults) fake(report func(key, msg string)) fake.Faults {
	out := fake.Faults{
		Disconnect: f.Disconnect, Malformed: f.Malformed, Overloaded: f.Overloaded, RateLimit: f.RateLimit,
		ServerError: f.ServerError, Stall: f.Stall, StreamError: f.StreamError, Unavailable: f.Unavailable,
		RetryAfter: toDuration(max(f.RetryAfterMs, 0), time.Millisecond),
		StallFor:   toDuration(max(f.StallForMs, 0), time.Millisecond),
	}
	v := reflect.ValueOf(f)
	fields, _ := yamlFields(v.Type())
	var sum float64
	for _, key := range FaultNames() {
		r := v.Field(fields[key]).Float()
		if !finite(r) || r < 0 || r > 1 {
			report(key, fmt.Sprintf("%v is not a rate in 0..1", r))
			continue
		}
		sum += r
	}
	for _, key := range []string{"retry_after_ms", "stall_for_ms"} {
		if ms := v.Field(fields[key]).Float(); !finite(ms) || ms < 0 {
			report(key, "must be >= 0")
		}
	}
	if sum > 1 {
		report("", fmt.Sprintf("the rates sum to %v, more than 1", sum))
	}
	return out
}

// ParseFaults reads fault rates written as a command-line flag:
// "rate_limit=0.05,disconnect=0.01", with the names and rules of Faults
// (see FaultNames; also retry_after_ms and stall_for_ms). The empty
// string is no faults. Every problem is in the error.
func ParseFaults(s string) (fake.Faults, error) {
	var f Faults
	fields, _ := yamlFields(reflect.TypeFor[Faults]())
	var errs []error
	for _, kv := range strings.Split(s, ",") {
		if kv = strings.TrimSpace(kv); kv == "" {
			continue
		}
		k, v, ok := strings.Cut(kv, "=")
		x, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		k = strings.TrimSpace(k)
		i, known := fields[k]
		switch {
		case !ok || err != nil:
			errs = append(errs, fmt.Errorf("%q: want name=number", kv))
		case !known:
			errs = append(errs, fmt.Errorf("%s: %s", k, unknownFault(k)))
		default:
			reflect.ValueOf(&f).Elem().Field(i).SetFloat(x)
		}
	}
	out := f.fake(func(key, msg string) {
		if key != "" {
			msg = key + ": " + msg
		}
		errs = append(errs, errors.New(msg))
	})
	return out, errors.Join(errs...)
}

// Builder builds the providers of a configuration, as NewProvider does,
// and serves each provider of type fake in-process: one fake server per
// provider, started on its first use and speaking the wire format of its
// settings.format, with a codec of that format pointed at it. Pass its
// Build to File.Runs. The zero Builder is ready to use; it is safe for
// concurrent use; Close stops the servers it started.
type Builder struct {
	mu      sync.Mutex
	servers map[string]*fake.Server
}

// Build returns the Provider of p for model: for type fake a codec
// talking to p's fake server, for any other type NewProvider(p, model).
func (b *Builder) Build(p Provider, model string) (providers.Provider, error) {
	if p.Type != "fake" {
		return NewProvider(p, model)
	}
	var errs []error
	checkSettings("fake", p.Settings, func(key, msg string) {
		errs = append(errs, fmt.Errorf("%s: %s", joinPath("settings", key), msg))
	})
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	fs, _ := p.Settings.(*FakeSettings)
	cfg, format := fs.server(func(string, string) {})
	b.mu.Lock()
	srv, ok := b.servers[p.Name]
	if !ok {
		if b.servers == nil {
			b.servers = map[string]*fake.Server{}
		}
		srv = fake.NewServer(cfg)
		b.servers[p.Name] = srv
	}
	b.mu.Unlock()
	return NewProvider(fakeCodec(p, format, srv.URL), model)
}

// fakeCodec is the configuration of the codec that talks to p's fake
// server at url, in the wire format format: p's name, headers and auth
// (the fake takes any credential; without one the codec sends
// "fake-key").
func fakeCodec(p Provider, format, url string) Provider {
	codec := p
	codec.Type, codec.Endpoint, codec.Settings = format, url+fakeFormats[format], nil
	if codec.Auth.Token == "" {
		codec.Auth.Token = "fake-key"
	}
	return codec
}

// Close stops every fake server the Builder started.
func (b *Builder) Close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for name, s := range b.servers {
		s.Close()
		delete(b.servers, name)
	}
}

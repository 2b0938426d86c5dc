package config

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/llm-latency-lens/lens/fake"
	"github.com/llm-latency-lens/lens/providers"
)

// fakeFormats is the base URL path of each wire format a provider of type
// fake can speak, on the fake server.
var fakeFormats = map[string]string{
	"openai": "/v1", "responses": "/v1", "anthropic": "/v1", "gemini": "/v1beta", "azure": "", "cohere": "/v2",
}

// fakeServer reads the settings of a provider of type fake into the fake
// server's configuration and its wire format. Each problem goes to report
// with the setting's path below settings ("ttft_ms",
// "faults.rate_limit", see joinPath); the loader reports them with their lines, and a
// Builder refuses a provider that has any.
func fakeServer(p Provider, report func(key, msg string)) (cfg fake.Config, format string) {
	latency := func(key string) fake.Latency {
		d, err := p.SettingDist(key)
		if err != nil {
			return nil // the setting's kind is checked with every other setting
		}
		if d == nil {
			return nil
		}
		if msg := d.problem(0); msg != "" {
			report(key, msg)
			return nil
		}
		return d.latency()
	}
	whole := func(key string) int {
		v, ok, _ := p.SettingInt(key)
		if ok && v < 0 {
			report(key, "must be >= 0")
			return 0
		}
		return v
	}
	cfg.TTFT, cfg.ITL = latency("ttft_ms"), latency("itl_ms")
	cfg.OutputTokens = whole("output_tokens")
	cfg.TokensPerChunk = whole("tokens_per_chunk")
	cfg.Capacity = whole("capacity")
	cfg.Seed = uint64(whole("seed"))
	if v, ok, _ := p.SettingNumber("prefill_per_token_ms"); ok {
		if v < 0 {
			report("prefill_per_token_ms", "must be >= 0")
		}
		cfg.PrefillPerToken = time.Duration(v * float64(time.Millisecond))
	}
	if v, ok := p.Setting("faults"); ok {
		m, isMap := v.(map[string]any)
		if !isMap {
			report("faults", "must be a mapping of fault names to rates ("+strings.Join(FaultNames(), ", ")+"), retry_after_ms and stall_for_ms")
		} else {
			rates := make(map[string]float64, len(m))
			for _, k := range slices.Sorted(maps.Keys(m)) {
				f, ok := toNumber(m[k])
				if !ok {
					report(pathKey("faults", k), "must be a number")
					continue
				}
				rates[k] = f
			}
			cfg.Faults = faults(rates, func(key, msg string) {
				if key != "" {
					key = pathKey("faults", key)
				} else {
					key = "faults"
				}
				report(key, msg)
			})
		}
	}
	format, _ = p.SettingString("format")
	if format == "" {
		format = "openai"
	}
	if _, ok := fakeFormats[format]; !ok {
		report("format", fmt.Sprintf("unknown wire format %q%s (want %s)", format,
			suggest(format, slices.Sorted(maps.Keys(fakeFormats))), oneOf(slices.Sorted(maps.Keys(fakeFormats)))))
	}
	return cfg, format
}

// FakeConfig reads the settings of a provider of type fake, as a
// configuration's settings section holds them (output_tokens,
// tokens_per_chunk, capacity, seed, prefill_per_token_ms, ttft_ms, itl_ms,
// faults, format; values as Provider.Settings holds them), into the fake
// server's configuration, with the checks a configuration file gets. The
// error names every setting that is wrong ("capacity: must be >= 0").
func FakeConfig(settings map[string]any) (fake.Config, error) {
	var errs []error
	cfg, _ := fakeServer(Provider{Type: "fake", Settings: settings}, func(key, msg string) {
		errs = append(errs, errors.New(key+": "+msg))
	})
	return cfg, errors.Join(errs...)
}

// faultFields maps the fault names of settings and flags to the fields of
// fake.Faults.
func faultFields(f *fake.Faults) map[string]*float64 {
	return map[string]*float64{
		"rate_limit": &f.RateLimit, "server_error": &f.ServerError, "unavailable": &f.Unavailable,
		"overloaded": &f.Overloaded, "disconnect": &f.Disconnect, "stall": &f.Stall,
		"malformed": &f.Malformed, "stream_error": &f.StreamError,
	}
}

// FaultNames returns the names of the fake's faults, sorted: the keys of
// a fake provider's settings.faults besides retry_after_ms and
// stall_for_ms.
func FaultNames() []string {
	return slices.Sorted(maps.Keys(faultFields(&fake.Faults{})))
}

// faults reads fault rates (each in 0..1, summing to at most 1),
// retry_after_ms and stall_for_ms (>= 0). Each problem goes to report
// with the fault's name as its key, or "" for one of the whole set.
func faults(rates map[string]float64, report func(key, msg string)) fake.Faults {
	var f fake.Faults
	fields := faultFields(&f)
	var sum float64
	for _, k := range slices.Sorted(maps.Keys(rates)) {
		v := rates[k]
		switch k {
		case "retry_after_ms", "stall_for_ms":
			if !finite(v) || v < 0 {
				report(k, "must be >= 0")
				continue
			}
			d := time.Duration(v * float64(time.Millisecond))
			if k == "retry_after_ms" {
				f.RetryAfter = d
			} else {
				f.StallFor = d
			}
			continue
		}
		p, ok := fields[k]
		if !ok {
			names := append(FaultNames(), "retry_after_ms", "stall_for_ms")
			report(k, fmt.Sprintf("unknown fault%s (want %s)", suggest(k, names), oneOf(names)))
			continue
		}
		if !finite(v) || v < 0 || v > 1 {
			report(k, fmt.Sprintf("%v is not a rate in 0..1", v))
			continue
		}
		*p = v
		sum += v
	}
	if sum > 1 {
		report("", fmt.Sprintf("the rates sum to %v, more than 1", sum))
	}
	return f
}

// ParseFaults reads fault rates written as a command-line flag:
// "rate_limit=0.05,disconnect=0.01", with the names and rules of a fake
// provider's settings.faults (see FaultNames; also retry_after_ms and
// stall_for_ms). The empty string is no faults. Every problem is in the
// error.
func ParseFaults(s string) (fake.Faults, error) {
	rates := map[string]float64{}
	var errs []error
	for _, kv := range strings.Split(s, ",") {
		if kv = strings.TrimSpace(kv); kv == "" {
			continue
		}
		k, v, ok := strings.Cut(kv, "=")
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if !ok || err != nil {
			errs = append(errs, fmt.Errorf("%q: want name=number", kv))
			continue
		}
		rates[strings.TrimSpace(k)] = f
	}
	f := faults(rates, func(key, msg string) {
		if key != "" {
			msg = key + ": " + msg
		}
		errs = append(errs, errors.New(msg))
	})
	return f, errors.Join(errs...)
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
	cfg, format := fakeServer(p, func(key, msg string) {
		errs = append(errs, fmt.Errorf("%s: %s", joinPath("settings", key), msg))
	})
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
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

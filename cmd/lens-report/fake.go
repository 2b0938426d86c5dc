package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"maps"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/llm-latency-lens/lens"
	"github.com/llm-latency-lens/lens/fake"
	"github.com/llm-latency-lens/lens/providers"
)

var fakeCmd = &command{
	name:    "fake",
	args:    "",
	summary: "serve the fake LLM server on an address",
	detail: `Fake serves every wire format the fake speaks (OpenAI chat completions and
responses, Anthropic messages, Gemini and Vertex AI, Azure OpenAI, Cohere) on
one address until interrupted, with the latency profile the flags give.

A latency is a duration ("80ms"), or a distribution of durations:
"uniform:40ms,120ms", "normal:80ms,10ms" (mean, standard deviation).`,
	flags: func(fs *flag.FlagSet) func([]string) error {
		addr := fs.String("addr", "127.0.0.1:8080", "listen `address`")
		ttft := fs.String("ttft", "100ms", "time to first token: a `latency`")
		itl := fs.String("itl", "10ms", "time between tokens: a `latency`")
		tokens := fs.Int("tokens", 64, "output tokens per response (a request's max_tokens lowers it)")
		perChunk := fs.Int("tokens-per-chunk", 0, "tokens per content event (0: 1; Gemini's default is several)")
		capacity := fs.Int("capacity", 0, "concurrent streams served at full speed; more queue (0: no limit)")
		prefill := fs.Duration("prefill-per-token", 0, "extra time to first token per prompt token")
		seed := fs.Uint64("seed", 1, "seed of every random choice")
		model := fs.String("model", "", "model named in responses when a request names none")
		faults := fs.String("faults", "", "fault `rates`, e.g. \"rate_limit=0.05,disconnect=0.01\"; faults: "+strings.Join(faultNames(), ", ")+
			"; also retry_after_ms and stall_for_ms")
		return func(args []string) error {
			if len(args) > 0 {
				return errUsage
			}
			cfg := fake.Config{OutputTokens: *tokens, TokensPerChunk: *perChunk, Seed: *seed, Model: *model,
				Capacity: *capacity, PrefillPerToken: *prefill}
			rates := map[string]any{}
			for _, kv := range strings.Split(*faults, ",") {
				if kv = strings.TrimSpace(kv); kv == "" {
					continue
				}
				k, v, ok := strings.Cut(kv, "=")
				f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
				if !ok || err != nil {
					return fmt.Errorf("-faults: %q: want name=number", kv)
				}
				rates[strings.TrimSpace(k)] = f
			}
			var err error
			if cfg.Faults, err = parseFaults(rates); err != nil {
				return fmt.Errorf("-faults: %w", err)
			}
			if cfg.TTFT, err = parseLatency(*ttft); err != nil {
				return fmt.Errorf("-ttft: %w", err)
			}
			if cfg.ITL, err = parseLatency(*itl); err != nil {
				return fmt.Errorf("-itl: %w", err)
			}
			return serveFake(*addr, cfg)
		}
	},
}

// serveFake serves the fake on addr until SIGINT or SIGTERM.
func serveFake(addr string, cfg fake.Config) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := fake.NewUnstartedServer(cfg)
	hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	fmt.Fprintf(current.out, "fake LLM server on http://%s (OpenAI base URL http://%s/v1); Ctrl-C stops it\n", ln.Addr(), ln.Addr())
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = hs.Shutdown(shut)
	srv.Close()
	return nil
}

// parseLatency reads a latency flag: a duration, "uniform:LO,HI" or
// "normal:MEAN,STDDEV".
func parseLatency(s string) (fake.Latency, error) {
	kind, args, ok := strings.Cut(s, ":")
	if !ok {
		d, err := time.ParseDuration(s)
		if err != nil {
			return nil, err
		}
		return fake.Fixed(d), nil
	}
	parts := strings.Split(args, ",")
	if len(parts) != 2 {
		return nil, fmt.Errorf("%q: want %s:A,B", s, kind)
	}
	a, err := time.ParseDuration(strings.TrimSpace(parts[0]))
	if err != nil {
		return nil, err
	}
	b, err := time.ParseDuration(strings.TrimSpace(parts[1]))
	if err != nil {
		return nil, err
	}
	switch kind {
	case "uniform":
		if b < a {
			return nil, fmt.Errorf("%q: the upper bound is below the lower", s)
		}
		return fake.Uniform(a, b), nil
	case "normal":
		if a < 0 || b < 0 {
			return nil, fmt.Errorf("%q: negative mean or deviation", s)
		}
		return fake.Normal(a, b), nil
	}
	return nil, fmt.Errorf("%q: unknown distribution %q (want uniform or normal)", s, kind)
}

// fakes serves the providers of type fake of a configuration in-process:
// one fake server per provider, started on first use.
type fakes struct {
	mu      sync.Mutex
	servers map[string]*fake.Server
}

func newFakes() *fakes { return &fakes{servers: map[string]*fake.Server{}} }

// build is the configuration's provider builder: a fake provider gets a
// server of its own and a codec of its wire format pointed at it; any other
// goes to lens.DefaultProvider.
func (f *fakes) build(pc lens.ProviderConfig, model string) (providers.Provider, error) {
	if pc.Type != "fake" {
		return lens.DefaultProvider(pc, model)
	}
	format, err := pc.SettingString("format")
	if err != nil {
		return nil, fmt.Errorf("settings.format: %w", err)
	}
	if format == "" {
		format = "openai"
	}
	prefix, ok := fakePaths[format]
	if !ok {
		return nil, fmt.Errorf("settings.format: unknown wire format %q (want openai, responses, anthropic, gemini, azure or cohere)", format)
	}
	srv, err := f.server(pc)
	if err != nil {
		return nil, err
	}
	codec := pc
	codec.Type, codec.Endpoint, codec.Settings = format, srv.URL+prefix, nil
	codec.Auth = lens.AuthConfig{Type: "bearer", Token: "fake-key"}
	return lens.DefaultProvider(codec, model)
}

// fakePaths is the base URL path of each wire format on the fake.
var fakePaths = map[string]string{
	"openai": "/v1", "responses": "/v1", "anthropic": "/v1", "gemini": "/v1beta", "azure": "", "cohere": "/v2",
}

func (f *fakes) server(pc lens.ProviderConfig) (*fake.Server, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if s, ok := f.servers[pc.Name]; ok {
		return s, nil
	}
	cfg, err := fakeConfig(pc)
	if err != nil {
		return nil, err
	}
	s := fake.NewServer(cfg)
	f.servers[pc.Name] = s
	return s, nil
}

// Close stops every fake server.
func (f *fakes) Close() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, s := range f.servers {
		s.Close()
	}
}

// fakeConfig reads a fake provider's settings.
func fakeConfig(pc lens.ProviderConfig) (fake.Config, error) {
	var cfg fake.Config
	var errs []string
	var err error
	latency := func(key string) fake.Latency {
		d, err := pc.SettingDist(key)
		if err != nil {
			errs = append(errs, fmt.Sprintf("settings.%s: %v", key, err))
		}
		if d == nil {
			return nil
		}
		dist := d.Dist()
		return fake.LatencyFunc(func(r *rand.Rand) time.Duration {
			return time.Duration(dist.Sample(r) * float64(time.Millisecond))
		})
	}
	integer := func(key string) int {
		v, _, err := pc.SettingInt(key)
		if err != nil {
			errs = append(errs, fmt.Sprintf("settings.%s: %v", key, err))
		}
		return int(v)
	}
	cfg.TTFT, cfg.ITL = latency("ttft_ms"), latency("itl_ms")
	cfg.OutputTokens = integer("output_tokens")
	cfg.TokensPerChunk = integer("tokens_per_chunk")
	cfg.Capacity = integer("capacity")
	cfg.Seed = uint64(integer("seed"))
	if v, ok, err := pc.SettingNumber("prefill_per_token_ms"); err != nil {
		errs = append(errs, fmt.Sprintf("settings.prefill_per_token_ms: %v", err))
	} else if ok {
		cfg.PrefillPerToken = time.Duration(v * float64(time.Millisecond))
	}
	if v, ok := pc.Setting("faults"); ok {
		m, isMap := v.(map[string]any)
		if !isMap {
			errs = append(errs, "settings.faults: want a mapping of fault names to rates")
		} else if cfg.Faults, err = parseFaults(m); err != nil {
			errs = append(errs, "settings.faults: "+err.Error())
		}
	}
	if len(errs) > 0 {
		return cfg, fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return cfg, nil
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

func faultNames() []string {
	names := slices.Collect(maps.Keys(faultFields(&fake.Faults{})))
	slices.Sort(names)
	return names
}

// parseFaults reads fault rates (each in 0..1, summing to at most 1) and
// retry_after_ms and stall_for_ms.
func parseFaults(m map[string]any) (fake.Faults, error) {
	var f fake.Faults
	fields := faultFields(&f)
	var sum float64
	for _, k := range slices.Sorted(maps.Keys(m)) {
		v, ok := toFloat(m[k])
		if !ok {
			return f, fmt.Errorf("%s: want a number", k)
		}
		switch k {
		case "retry_after_ms":
			f.RetryAfter = time.Duration(v * float64(time.Millisecond))
			continue
		case "stall_for_ms":
			f.StallFor = time.Duration(v * float64(time.Millisecond))
			continue
		}
		p, ok := fields[k]
		if !ok {
			return f, fmt.Errorf("unknown fault %q (want %s, retry_after_ms or stall_for_ms)", k, strings.Join(faultNames(), ", "))
		}
		if v < 0 || v > 1 {
			return f, fmt.Errorf("%s: %v is not a rate in 0..1", k, v)
		}
		*p = v
		sum += v
	}
	if sum > 1 {
		return f, fmt.Errorf("the rates sum to %v, more than 1", sum)
	}
	if f.RetryAfter < 0 || f.StallFor < 0 {
		return f, errors.New("retry_after_ms and stall_for_ms must be >= 0")
	}
	return f, nil
}

func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case int64:
		return float64(x), true
	case int:
		return float64(x), true
	}
	return 0, false
}

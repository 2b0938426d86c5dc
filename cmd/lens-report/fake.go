package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/llm-latency-lens/lens/config"
	"github.com/llm-latency-lens/lens/fake"
)

var fakeCmd = &command{
	name:    "fake",
	args:    "",
	summary: "serve the fake LLM server on an address",
	detail: `Fake serves every wire format the fake speaks (OpenAI chat completions and
responses, Anthropic messages, Gemini and Vertex AI, Azure OpenAI, Cohere) on
one address until interrupted, with the latency profile the flags give.

A latency is a duration ("80ms"), or a distribution of durations, written
as in a configuration: "uniform(40ms, 120ms)", "normal(80ms, 10ms)" (mean,
standard deviation), "lognormal(40ms, 0.3)" (median, shape).`,
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
		faults := fs.String("faults", "", "fault `rates`, e.g. \"rate_limit=0.05,disconnect=0.01\"; faults: "+strings.Join(config.FaultNames(), ", ")+
			"; also retry_after_ms and stall_for_ms")
		return func(args []string) error {
			if len(args) > 0 {
				return errUsage
			}
			// The numbers are checked as a configuration's fake settings
			// are, under the flags' names.
			cfg, err := config.FakeConfig(config.FakeSettings{OutputTokens: *tokens, TokensPerChunk: *perChunk,
				Capacity: *capacity, PrefillPerTokenMs: float64(*prefill) / float64(time.Millisecond)})
			if err != nil {
				return &exitError{code: 2, msg: flagNames(err.Error(), map[string]string{"output_tokens": "-tokens", "tokens_per_chunk": "-tokens-per-chunk",
					"capacity": "-capacity", "prefill_per_token_ms": "-prefill-per-token"})}
			}
			cfg.Seed, cfg.Model = *seed, *model
			if cfg.Faults, err = config.ParseFaults(*faults); err != nil {
				return &exitError{code: 2, msg: "-faults: " + err.Error()}
			}
			if cfg.TTFT, err = config.ParseLatency(*ttft); err != nil {
				return &exitError{code: 2, msg: "-ttft: " + err.Error()}
			}
			if cfg.ITL, err = config.ParseLatency(*itl); err != nil {
				return &exitError{code: 2, msg: "-itl: " + err.Error()}
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

// flagNames rewrites the setting keys that open the lines of msg as the
// flags that set them.
func flagNames(msg string, flags map[string]string) string {
	lines := strings.Split(msg, "\n")
	for i, l := range lines {
		if key, rest, ok := strings.Cut(l, ": "); ok && flags[key] != "" {
			lines[i] = flags[key] + ": " + rest
		}
	}
	return strings.Join(lines, "; ")
}

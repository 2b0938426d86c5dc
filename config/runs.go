package config

import (
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/llm-latency-lens/lens"
	"github.com/llm-latency-lens/lens/verdict"

	"github.com/llm-latency-lens/lens/providers"
)

// Run is one cell of a configuration's matrix: a scenario against
// one provider and model, ready for Run.
type Run struct {
	// Scenario is complete: Run(ctx, r.Scenario) runs it.
	Scenario lens.Scenario

	// Provider is the provider's configuration (for reports: Provider.Name,
	// Provider.Type); Model the model.
	Provider Provider
	Model    string

	// Price is the model's price: from the provider's pricing, else from
	// DefaultPricing; nil when neither knows it. Scenario.Price is the
	// same.
	Price *lens.Price

	// Gates are the scenario's SLO gates, judged with the budget
	// Scenario.MaxRequests (verdict.Run).
	Gates []verdict.Gate

	// Sweep is the scenario's capacity search (key "sweep"); nil when it
	// sets none, and lens-report sweep then searches with the defaults.
	Sweep *Sweep
}

// verdict returns the gate as the verdict engine takes it.
func (g Gate) verdict() verdict.Gate {
	if g.Metric == string(verdict.ErrorRate) {
		var max float64
		if g.Max != nil {
			max = *g.Max
		}
		return verdict.Gate{Metric: verdict.ErrorRate, MaxErrorRate: max}
	}
	return verdict.Gate{Metric: lens.Metric(g.Metric), Percentile: g.Percentile, Limit: toDuration(g.LimitMs, time.Millisecond)}
}

// Runs returns the configuration's matrix: one Run per scenario,
// provider and model, scenarios outermost, each in the file's order (a
// scenario with a providers list runs only against those).
//
// build makes each provider and model's Provider; it is called once per
// provider and model, and the Provider it returns is shared by every
// scenario (Providers are safe for concurrent use). Nil means
// NewProvider. Each call of Runs makes one Limiter per provider that
// has a rate_limit and one Gate (execution.max_concurrency), shared by the
// runs it returns, so that runs executed at the same time respect them
// together.
//
// Runs validates c first (an invalid File gives its *Error); a
// build error is returned wrapped with the provider and model.
func (c *File) Runs(build func(pc Provider, model string) (providers.Provider, error)) ([]Run, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if build == nil {
		build = NewProvider
	}
	gate := lens.NewGate(c.Execution.MaxConcurrency)
	limiters := make([]*lens.Limiter, len(c.Providers))
	for i, pc := range c.Providers {
		if rl := pc.RateLimit; rl.RequestsPerSecond > 0 || rl.TokensPerMinute > 0 {
			limiters[i] = lens.NewLimiter(rl.RequestsPerSecond, rl.TokensPerMinute)
		}
	}
	type cell struct{ provider, model int }
	built := map[cell]providers.Provider{}
	var runs []Run
	for i, sc := range c.Workload.Scenarios {
		base := c.scenario(i)
		for pi, pc := range c.Providers {
			if len(sc.Providers) > 0 && !slices.Contains(sc.Providers, pc.Name) {
				continue
			}
			for mi, model := range pc.Models {
				p, ok := built[cell{pi, mi}]
				if !ok {
					var err error
					p, err = build(pc, model)
					if err == nil && p == nil {
						err = errors.New("no provider built")
					}
					if err != nil {
						return nil, fmt.Errorf("config: %s: providers[%d] (%s), model %s: %w", c.fileName(), pi, pc.Name, model, err)
					}
					built[cell{pi, mi}] = p
				}
				s := base
				s.Provider, s.Model = p, model
				s.Limiter, s.Gate = limiters[pi], gate
				price := pc.price(model)
				s.Price = price
				run := Run{Scenario: s, Provider: pc, Model: model, Price: price, Sweep: sc.Sweep}
				for _, g := range sc.Gates {
					run.Gates = append(run.Gates, g.verdict())
				}
				runs = append(runs, run)
			}
		}
	}
	return runs, nil
}

// price returns the price of model at pc, or nil.
func (pc Provider) price(model string) *lens.Price {
	if p, ok := pc.Pricing[model]; ok {
		return &p
	}
	table := ""
	switch pc.Type {
	case "openai", "responses":
		table = "openai"
	case "anthropic", "gemini", "vertex", "azure", "cohere":
		table = pc.Type
	}
	if table == "" {
		return nil
	}
	if p, ok := lens.DefaultPricing.Lookup(table, model); ok {
		return &p
	}
	return nil
}

// scenario returns the Scenario of the i-th scenario, all but its
// provider, model, limiter, gate and price.
func (c *File) scenario(i int) lens.Scenario {
	w, e := &c.Workload, &c.Execution
	sc := w.Scenarios[i]
	rp := w.RequestParams
	s := lens.Scenario{
		Name:        sc.Name,
		System:      sc.Prompt.System,
		Requests:    sc.Requests,
		MaxRequests: sc.MaxRequests,
		Duration:    toDuration(sc.DurationSecs, time.Second),
		Rate:        sc.RateLimit,
		RampUp:      toDuration(sc.RampUpSecs, time.Second),
		Warmup:      e.WarmupRequests,
		Seed:        e.Seed,
		SLO: lens.SLO{
			TTFT: toDuration(sc.SLO.TTFTMs, time.Millisecond),
			TPOT: toDuration(sc.SLO.TPOTMs, time.Millisecond),
			E2E:  toDuration(sc.SLO.E2EMs, time.Millisecond),
		},
		Retry: lens.Retry{
			MaxAttempts:    e.Retry.MaxAttempts,
			InitialBackoff: toDuration(e.Retry.InitialBackoffMs, time.Millisecond),
			MaxBackoff:     toDuration(e.Retry.MaxBackoffMs, time.Millisecond),
			Multiplier:     e.Retry.Multiplier,
			Jitter:         e.Retry.Jitter,
			MaxRetryAfter:  toDuration(e.Retry.MaxRetryAfterMs, time.Millisecond),
		},
		HTTP: lens.HTTPOptions{
			PoolSize:          e.HTTP.PoolSize,
			ConnectTimeout:    toDuration(firstPositive(sc.Timeouts.ConnectMs, e.Timeouts.ConnectMs, e.HTTP.ConnectTimeoutMs), time.Millisecond),
			KeepAlive:         toDuration(e.HTTP.KeepAliveSecs, time.Second),
			DisableKeepAlives: e.HTTP.DisableKeepAlives,
			DisableHTTP2:      !e.HTTP.HTTP2,
		},
		Timeout:           toDuration(firstPositive(sc.Timeouts.RequestSecs, e.Timeouts.RequestSecs, rp.TimeoutSecs), time.Second),
		FirstTokenTimeout: toDuration(firstPositive(sc.Timeouts.FirstTokenMs, e.Timeouts.FirstTokenMs), time.Millisecond),
		IdleTimeout:       toDuration(firstPositive(sc.Timeouts.IdleMs, e.Timeouts.IdleMs), time.Millisecond),
	}
	if sc.Concurrency != nil {
		s.Concurrency = *sc.Concurrency
	}
	if strings.EqualFold(sc.Arrivals, "poisson") {
		s.Arrivals = lens.ArrivalsPoisson
	}
	if sc.Warmup != nil {
		s.Warmup = *sc.Warmup
	}
	stream := rp.Stream
	if sc.Stream != nil {
		stream = *sc.Stream
	}
	s.NoStream = !stream
	s.Temperature = copyFloat(rp.Temperature)
	if sc.Temperature != nil {
		s.Temperature = copyFloat(sc.Temperature)
	}
	s.TopP = copyFloat(rp.TopP)
	if sc.TopP != nil {
		s.TopP = copyFloat(sc.TopP)
	}
	maxTokens := rp.MaxTokens
	if sc.Trace.File != "" {
		// The trace sets every request's prompt and output lengths, over
		// the workload's request_params.
		maxTokens = nil
	}
	if sc.MaxTokens != nil {
		maxTokens = sc.MaxTokens
	}
	if maxTokens != nil {
		if maxTokens.Kind == "fixed" {
			s.MaxTokens = int(math.Round(maxTokens.A))
		} else {
			s.MaxTokensDist = maxTokens.Dist()
		}
	}
	p := sc.Prompt
	switch {
	case p.Template != "":
		for _, t := range w.Prompts {
			if t.Name == p.Template {
				s.Prompt, _, _ = fillTemplate(t.Template, p.Variables)
				break
			}
		}
	case p.Text != "":
		s.Prompt, _, _ = fillTemplate(p.Text, p.Variables)
	case p.Set != "":
		for _, set := range w.PromptSets {
			if set.Name == p.Set {
				s.Prompts = append([]string(nil), set.Prompts...)
				break
			}
		}
	case p.Tokens != nil:
		s.PromptTokens = p.Tokens.Dist()
	}
	s.Session.Turns = sc.Session.Turns
	if d := sc.Session.ThinkTimeSecs; d != nil {
		s.Session.ThinkTime = d.Dist()
	}
	s.Trace, s.TraceSpeed = sc.Trace.requests, sc.Trace.Speed
	s.Shard, _ = lens.ParseShard(e.Shard)
	if i == 0 && e.StartAt != "" {
		s.StartAt, _ = time.Parse(time.RFC3339Nano, e.StartAt)
	}
	return s
}

// relative resolves a path written in the file: from the file's
// directory when it is relative.
func (c *File) relative(path string) string {
	if filepath.IsAbs(path) || c.Path == "" || c.Path == "config" {
		return path
	}
	return filepath.Join(filepath.Dir(c.Path), path)
}

func firstPositive(vs ...float64) float64 {
	for _, v := range vs {
		if v > 0 {
			return v
		}
	}
	return 0
}

func copyFloat(p *float64) *float64 {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

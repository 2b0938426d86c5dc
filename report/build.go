package report

import (
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"sort"
	"time"

	"github.com/llm-latency-lens/lens"
	"github.com/llm-latency-lens/lens/stats"
)

// modulePath is the lens module, whose version Metadata.Version reports.
const modulePath = "github.com/llm-latency-lens/lens"

// LocalSystem describes the machine this program runs on.
func LocalSystem() SystemInfo {
	host, _ := os.Hostname()
	return SystemInfo{
		OS:        runtime.GOOS,
		Arch:      runtime.GOARCH,
		CPUCount:  runtime.NumCPU(),
		GoVersion: runtime.Version(),
		Hostname:  host,
	}
}

// ProgramVersion is the version of the lens module in this program's build
// information ("(devel)" when built from a work tree, "unknown" without
// build information).
func ProgramVersion() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	if bi.Main.Path == modulePath {
		return bi.Main.Version
	}
	for _, d := range bi.Deps {
		if d.Path == modulePath {
			return d.Version
		}
	}
	return "unknown"
}

// FromResults builds a File from what lens.Run returned. Results are grouped
// into scenarios by Result.Scenario, in the order each name first appears,
// with their results in the order given; nil results are skipped, so the
// partial results of an interrupted run can be passed as they are (set
// meta.Interrupted).
//
// meta is copied into the File, and its zero fields filled in: Version from
// the build information, Timestamp with the earliest Result.Started,
// DurationSecs with the span from there to the latest end, SystemInfo with
// LocalSystem. Each scenario's Config.Requests is the most requests any of
// its results measured; a caller that knows the number asked for sets it
// afterwards.
//
// Scenarios that share a name must share a workload shape: FromResults
// returns an error when their concurrency or rate differ.
func FromResults(results []*lens.Result, meta Metadata) (*File, error) {
	f := &File{Format: Format, SchemaVersion: SchemaVersion, Metadata: meta, Scenarios: []Scenario{}}
	if f.Metadata.Version == "" {
		f.Metadata.Version = ProgramVersion()
	}
	if f.Metadata.SystemInfo == (SystemInfo{}) {
		f.Metadata.SystemInfo = LocalSystem()
	}
	var first, last time.Time
	index := map[string]int{}
	for _, r := range results {
		if r == nil {
			continue
		}
		if !r.Started.IsZero() {
			if first.IsZero() || r.Started.Before(first) {
				first = r.Started
			}
			if end := r.Started.Add(r.Elapsed); end.After(last) {
				last = end
			}
		}
		cfg := ScenarioConfig{Requests: r.Total, Concurrency: r.Concurrency}
		if r.Rate > 0 {
			rate := r.Rate
			cfg.RateLimit = &rate
		}
		i, ok := index[r.Scenario]
		if !ok {
			i = len(f.Scenarios)
			index[r.Scenario] = i
			f.Scenarios = append(f.Scenarios, Scenario{Name: r.Scenario, Config: cfg})
		} else {
			sc := &f.Scenarios[i]
			if !sameShape(sc.Config, cfg) {
				return nil, fmt.Errorf("report: scenario %q: results of different workload shapes (%s and %s)",
					r.Scenario, shape(sc.Config), shape(cfg))
			}
			sc.Config.Requests = max(sc.Config.Requests, cfg.Requests)
		}
		res, err := resultOf(r)
		if err != nil {
			return nil, fmt.Errorf("report: scenario %q, %s/%s: %w", r.Scenario, r.Provider, r.Model, err)
		}
		f.Scenarios[i].Results = append(f.Scenarios[i].Results, res)
	}
	if f.Metadata.Timestamp.IsZero() {
		f.Metadata.Timestamp = first
	}
	if f.Metadata.DurationSecs == 0 && !first.IsZero() {
		f.Metadata.DurationSecs = last.Sub(first).Seconds()
	}
	return f, nil
}

func sameShape(a, b ScenarioConfig) bool {
	if a.Concurrency != b.Concurrency || (a.RateLimit == nil) != (b.RateLimit == nil) {
		return false
	}
	return a.RateLimit == nil || *a.RateLimit == *b.RateLimit
}

func shape(c ScenarioConfig) string {
	if c.RateLimit != nil {
		return fmt.Sprintf("rate %g/s, concurrency %d", *c.RateLimit, c.Concurrency)
	}
	return fmt.Sprintf("concurrency %d", c.Concurrency)
}

// resultOf converts one lens.Result.
func resultOf(r *lens.Result) (Result, error) {
	m := Metrics{
		TotalRequests:         r.Total,
		SuccessfulRequests:    r.Succeeded,
		FailedRequests:        r.Failed,
		Errors:                classCounts(r.Errors),
		ExecutionDurationSecs: r.Elapsed.Seconds(),
		ActualRPS:             r.RequestsPerSecond(),
		Started:               r.Started,
		AchievedSendRate:      r.AchievedRate(),
		GoodRequests:          r.Good,
		Goodput:               r.Goodput(),
		Attempts:              r.Attempts,
		RetriedRequests:       r.Retried,
		Retries:               classCounts(r.RetriedBy),
		Timeline:              append([]lens.Tick{}, r.Timeline...),
	}
	if len(r.ErrorSamples) > 0 {
		m.ErrorSamples = make(map[string]string, len(r.ErrorSamples))
		for c, s := range r.ErrorSamples {
			m.ErrorSamples[string(c)] = s
		}
	}
	if !r.FirstSend.IsZero() {
		t0, t1 := r.FirstSend, r.LastSend
		m.FirstSend, m.LastSend = &t0, &t1
	}
	var err error
	lat := func(l *stats.Latency) *Distribution {
		if err != nil {
			return nil
		}
		var d *Distribution
		d, err = LatencyDistribution(l)
		return d
	}
	val := func(v *stats.Values, unit string) *Distribution {
		if err != nil {
			return nil
		}
		var d *Distribution
		d, err = ValuesDistribution(v, unit)
		return d
	}
	m.Latency = LatencyStats{
		TTFT:              lat(r.TTFT),
		TotalDuration:     lat(r.E2E),
		Throughput:        val(r.TokensPerSecond, UnitTokensPerSec),
		InterTokenLatency: lat(r.ITL),
		TPOT:              lat(r.TPOT),
		TTFB:              lat(r.TTFB),
		DNS:               lat(r.DNS),
		Connect:           lat(r.Connect),
		TLS:               lat(r.TLS),
		QueueDelay:        lat(r.QueueDelay),
	}
	if r.TTFTFromIntended != nil {
		m.Latency.TTFTFromIntended = lat(r.TTFTFromIntended)
	}
	if r.E2EFromIntended != nil {
		m.Latency.E2EFromIntended = lat(r.E2EFromIntended)
	}
	if r.Journeys > 0 {
		m.Latency.Journey = lat(r.Journey)
		m.Journeys, m.JourneysFailed, m.JourneyError = r.Journeys, r.JourneysFailed, r.JourneyError
	}
	m.TokenStats = TokenStats{
		PromptTokensCounted:   r.InputTokensCounted,
		TotalCompletionTokens: r.OutputTokensTotal,
		MeanTokensPerSecond:   r.TokensPerSecond.Mean(),
		OutputTokensPerSecond: r.OutputTokensPerSecond(),
		OutputTokens:          val(r.OutputTokens, UnitTokens),
		CountedFromUsage:      r.TokensFromUsage,
		CountedFromEvents:     r.Succeeded - r.TokensFromUsage,
		UsageMismatches:       r.TokenMismatches,
	}
	if r.InputTokensCounted > 0 {
		in, all := r.InputTokensTotal, r.InputTokensTotal+r.OutputTokensTotal
		m.TokenStats.TotalPromptTokens, m.TokenStats.TotalTokens = &in, &all
	}
	if err != nil {
		return Result{}, err
	}
	if r.Priced {
		m.CostStats = &CostStats{
			TotalCost:          r.TotalCost(),
			MeanCostPerRequest: r.CostPerRequest(),
			CostPer1KTokens:    r.CostPer1KTokens(),
			InputCost:          r.InputCost,
			OutputCost:         r.OutputCost,
			Price:              r.Price,
		}
	}
	return Result{Provider: r.Provider, Model: r.Model, Metrics: m}, nil
}

func classCounts(m map[lens.ErrorClass]int64) map[string]int64 {
	out := make(map[string]int64, len(m))
	for c, n := range m {
		if n != 0 {
			out[string(c)] = n
		}
	}
	return out
}

// sortedKeys returns the keys of m, largest count first, then by name.
func sortedKeys(m map[string]int64) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Slice(ks, func(i, j int) bool {
		if m[ks[i]] != m[ks[j]] {
			return m[ks[i]] > m[ks[j]]
		}
		return ks[i] < ks[j]
	})
	return ks
}

// distFields lists the distributions of Metrics in display order: the
// name Distributions gives each, the request latency metric it is the
// distribution of (Distribution's argument; "" for the others, the
// journey included), and where it is.
var distFields = []struct {
	name   string
	metric lens.Metric
	field  func(*Metrics) **Distribution
}{
	{"ttft", lens.MetricTTFT, func(m *Metrics) **Distribution { return &m.Latency.TTFT }},
	{"e2e", lens.MetricE2E, func(m *Metrics) **Distribution { return &m.Latency.TotalDuration }},
	{"tokens_per_second", "", func(m *Metrics) **Distribution { return &m.Latency.Throughput }},
	{"itl", lens.MetricITL, func(m *Metrics) **Distribution { return &m.Latency.InterTokenLatency }},
	{"tpot", lens.MetricTPOT, func(m *Metrics) **Distribution { return &m.Latency.TPOT }},
	{"ttfb", lens.MetricTTFB, func(m *Metrics) **Distribution { return &m.Latency.TTFB }},
	{"dns", lens.MetricDNS, func(m *Metrics) **Distribution { return &m.Latency.DNS }},
	{"connect", lens.MetricConnect, func(m *Metrics) **Distribution { return &m.Latency.Connect }},
	{"tls", lens.MetricTLS, func(m *Metrics) **Distribution { return &m.Latency.TLS }},
	{"queue_delay", lens.MetricQueueDelay, func(m *Metrics) **Distribution { return &m.Latency.QueueDelay }},
	{"ttft_from_intended", "", func(m *Metrics) **Distribution { return &m.Latency.TTFTFromIntended }},
	{"e2e_from_intended", "", func(m *Metrics) **Distribution { return &m.Latency.E2EFromIntended }},
	{"journey", "", func(m *Metrics) **Distribution { return &m.Latency.Journey }},
	{"output_tokens", "", func(m *Metrics) **Distribution { return &m.TokenStats.OutputTokens }},
}

// Distributions returns the named distributions of r's metrics, in display
// order, skipping absent ones: ttft, e2e, tokens_per_second, itl, tpot, ttfb,
// dns, connect, tls, queue_delay, ttft_from_intended, e2e_from_intended,
// journey, output_tokens.
func (m *Metrics) Distributions() []NamedDistribution {
	out := make([]NamedDistribution, 0, len(distFields))
	for _, f := range distFields {
		if d := *f.field(m); d != nil {
			out = append(out, NamedDistribution{f.name, d})
		}
	}
	return out
}

// NamedDistribution is a distribution with the name Distributions gives it.
type NamedDistribution struct {
	Name string
	Dist *Distribution
}

// DistributionNames lists every name Distributions gives, in its order,
// whether or not a result has that distribution.
func DistributionNames() []string {
	names := make([]string, len(distFields))
	for i, f := range distFields {
		names[i] = f.name
	}
	return names
}

// DistributionNamed returns m's distribution of the given name, one of
// DistributionNames (nil when m has none, or for another name).
func (m *Metrics) DistributionNamed(name string) *Distribution {
	if slot := m.slotNamed(name); slot != nil {
		return *slot
	}
	return nil
}

// SetDistribution sets m's distribution of the given name, one of
// DistributionNames, to d (nil removes it). It reports false, and changes
// nothing, for another name.
func (m *Metrics) SetDistribution(name string, d *Distribution) bool {
	slot := m.slotNamed(name)
	if slot == nil {
		return false
	}
	*slot = d
	return true
}

func (m *Metrics) slotNamed(name string) **Distribution {
	for _, f := range distFields {
		if f.name == name {
			return f.field(m)
		}
	}
	return nil
}

// distSlots returns pointers to every distribution field of m, in the order
// of Distributions, absent ones included.
func (m *Metrics) distSlots() []**Distribution {
	slots := make([]**Distribution, len(distFields))
	for i, f := range distFields {
		slots[i] = f.field(m)
	}
	return slots
}

// Distribution returns the distribution of a latency metric (nil when m
// has none, or for a metric a result file does not hold).
func (m *Metrics) Distribution(metric lens.Metric) *Distribution {
	for _, f := range distFields {
		if f.metric == metric && metric != "" {
			return *f.field(m)
		}
	}
	return nil
}

// ErrorRate is FailedRequests / TotalRequests (0 when nothing ran).
func (m *Metrics) ErrorRate() float64 { return ratio(m.FailedRequests, m.TotalRequests) }

// SuccessRate is SuccessfulRequests / TotalRequests (0 when nothing ran).
func (m *Metrics) SuccessRate() float64 { return ratio(m.SuccessfulRequests, m.TotalRequests) }

// ratio is n / d, 0 when d is 0.
func ratio(n, d int64) float64 {
	if d == 0 {
		return 0
	}
	return float64(n) / float64(d)
}

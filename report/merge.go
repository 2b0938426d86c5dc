package report

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/llm-latency-lens/lens"
	"github.com/llm-latency-lens/lens/stats"
)

// Merge combines result files of shards, the same configuration run on
// many machines, into one result, as if one machine had run every request.
// The inputs are not modified.
//
// Scenarios are matched by name, results by provider and model; what only
// some files have is carried over as it is. For each matched result:
//
//   - counts (requests, errors and retries by class, attempts, good
//     requests, tokens, costs) are summed;
//   - each distribution is the merge of the shards' HDR histograms, and its
//     statistics (min, mean, percentiles, ...) are recomputed from the
//     merged histogram: a percentile of the merged file is the percentile
//     of all the requests together, not an average of percentiles;
//   - Started is the earliest start, and ExecutionDurationSecs the wall
//     span from there to the latest end (Started + duration) of any shard.
//     ActualRPS is the total requests over that span: the rate the fleet
//     achieved, which for shards run at the same time is about the sum of
//     their rates, and for shards run one after another is their combined
//     rate over the whole period, idle gaps included;
//   - FirstSend and LastSend span every shard, and AchievedSendRate is
//     (total − 1) / (LastSend − FirstSend), computed the same way;
//   - OutputTokensPerSecond is all output tokens over the merged span;
//   - rates (goodput, error rate, cost per request, cost per 1K tokens) are
//     recomputed from the summed counts;
//   - the timeline is realigned on the merged Started, each shard's buckets
//     moved by its start offset rounded to whole buckets.
//
// Every result's gates (the union of its files' gates, by name) are judged
// again on the merged distributions (see Result.Rejudge): the merged
// file's verdicts are those of one run of all the requests.
//
// Metadata takes the earliest timestamp and the span of all files, the
// first file's system information and version, Interrupted if any file was
// interrupted, Shards as the number of runs merged, and the union of the
// files' ShardIndexes (Metadata.MissingShards says which of the run's
// shards are still missing). A scenario's
// Config.Requests is summed and its Shards counted; its Concurrency and
// RateLimit stay those of one shard.
//
// Every file must be valid (see File.Validate). It is an error to merge
// files of different schema versions or config hashes (when both have one), scenarios of different concurrency or rate,
// results priced at different prices, or a priced result with an unpriced
// one. Merge refuses, with ErrDuplicateShard, files that would count the
// same requests twice: a shard index held by two files (a shard given
// twice, or a merged file and a shard it already holds); and shards of
// runs split in different counts. Files that record no shard (unsharded
// runs, files written before shards were recorded) are not checked. Raw requests are concatenated.
func Merge(files ...*File) (*File, error) { return MergeOptions{}.Merge(files...) }

// ErrDifferentConfigs is the error, wrapped, of Merge for files run from
// different configurations (their Metadata.ConfigHash differ).
var ErrDifferentConfigs = errors.New("the files were run from different configurations")

// MergeOptions change what Merge accepts.
type MergeOptions struct {
	// IgnoreConfigHash merges files whose configuration hashes differ;
	// the merged file's hash is then theirs joined by "+", which matches
	// no single configuration.
	IgnoreConfigHash bool

	// Pool merges runs that are not parts of one run, as a baseline of
	// several runs does: a shard index held by several files is taken as
	// it comes, and the merged file records no shards.
	Pool bool
}

// Merge is the package's Merge with o's options.
func (o MergeOptions) Merge(files ...*File) (*File, error) {
	if len(files) == 0 {
		return nil, errors.New("report: merge: no files")
	}
	for i, f := range files {
		if f == nil {
			return nil, fmt.Errorf("report: merge: file %d is nil", i+1)
		}
		if err := f.Validate(); err != nil {
			return nil, fmt.Errorf("report: merge: file %d: %w", i+1, err)
		}
		if f.SchemaVersion != files[0].SchemaVersion {
			return nil, fmt.Errorf("report: merge: file %d has schema version %d, file 1 has %d", i+1, f.SchemaVersion, files[0].SchemaVersion)
		}
		if a, b := files[0].Metadata.ConfigHash, f.Metadata.ConfigHash; a != "" && b != "" && a != b && !o.IgnoreConfigHash {
			return nil, fmt.Errorf("report: merge: %w: file %d was run with configuration %s, file 1 with %s", ErrDifferentConfigs, i+1, b, a)
		}
	}
	var shardCount int
	var shardIndexes []int
	if !o.Pool {
		var err error
		if shardCount, shardIndexes, err = mergeShards(files); err != nil {
			return nil, err
		}
	}
	out, err := clone(files[0])
	if err != nil {
		return nil, err
	}
	out.Metadata.ShardCount, out.Metadata.ShardIndexes = shardCount, shardIndexes
	out.Metadata.Shards = shardsOf(files[0].Metadata.Shards)
	var hashes []string
	for _, f := range files {
		if h := f.Metadata.ConfigHash; h != "" && !slices.Contains(hashes, h) {
			hashes = append(hashes, h)
		}
	}
	out.Metadata.ConfigHash = strings.Join(hashes, "+")
	for i := range out.Scenarios {
		out.Scenarios[i].Config.Shards = shardsOf(out.Scenarios[i].Config.Shards)
	}
	for i, f := range files[1:] {
		if err := mergeFile(out, f); err != nil {
			return nil, fmt.Errorf("report: merge: file %d: %w", i+2, err)
		}
	}
	// A gate's verdict is about one run's evidence: the merged file's
	// are judged again on the merged distributions. A capacity search's
	// curve is one machine's: the merged file keeps none.
	if len(files) > 1 {
		for i := range out.Scenarios {
			sc := &out.Scenarios[i]
			for j := range sc.Results {
				r := &sc.Results[j]
				r.Sweep = nil
				if err := r.Rejudge(); err != nil {
					return nil, fmt.Errorf("report: merge: scenario %q, %s/%s: %w", sc.Name, r.Provider, r.Model, err)
				}
			}
		}
	}
	return out, nil
}

func shardsOf(n int) int { return max(n, 1) }

// ErrDuplicateShard is the error, wrapped, of Merge for files that would
// count the same requests twice: a shard given twice, a merged file and a
// shard it already holds, or one file given twice.
var ErrDuplicateShard = errors.New("the same requests would be counted twice")

// mergeShards checks that no two files hold the same shard, and returns
// the shards the merged file holds.
func mergeShards(files []*File) (count int, indexes []int, err error) {
	first := map[int]int{} // shard index -> the file number that holds it
	countFrom := 0
	for fi, f := range files {
		m := f.Metadata
		if m.ShardCount == 0 {
			continue
		}
		if count != 0 && m.ShardCount != count {
			return 0, nil, fmt.Errorf("report: merge: file %d holds shards of %d, file %d of %d: they are not parts of one run",
				fi+1, m.ShardCount, countFrom, count)
		}
		count, countFrom = m.ShardCount, fi+1
		for _, i := range m.ShardIndexes {
			if fj, ok := first[i]; ok {
				return 0, nil, fmt.Errorf("report: merge: %w: shard %d/%d is in file %d and in file %d", ErrDuplicateShard, i, count, fj, fi+1)
			}
			first[i] = fi + 1
			indexes = append(indexes, i)
		}
	}
	slices.Sort(indexes)
	return count, indexes, nil
}

// clone returns a deep copy of f.
func clone(f *File) (*File, error) {
	b, err := json.Marshal(f)
	if err != nil {
		return nil, fmt.Errorf("report: merge: %w", err)
	}
	out := new(File)
	if err := json.Unmarshal(b, out); err != nil {
		return nil, fmt.Errorf("report: merge: %w", err)
	}
	return out, nil
}

func mergeFile(dst, src *File) error {
	md, ms := &dst.Metadata, &src.Metadata
	start, end := unionPeriod(md.Timestamp, md.DurationSecs, ms.Timestamp, ms.DurationSecs)
	md.Timestamp, md.DurationSecs = start, spanSecs(end.Sub(start), !start.IsZero())
	md.Interrupted = md.Interrupted || ms.Interrupted
	md.Shards += shardsOf(ms.Shards)
	if md.ConfigHash == "" {
		md.ConfigHash = ms.ConfigHash
	}
	for _, ssc := range src.Scenarios {
		i := scenarioIndex(dst, ssc.Name)
		if i < 0 {
			c, err := cloneScenario(ssc)
			if err != nil {
				return err
			}
			c.Config.Shards = shardsOf(c.Config.Shards)
			dst.Scenarios = append(dst.Scenarios, c)
			continue
		}
		dsc := &dst.Scenarios[i]
		if !sameShape(dsc.Config, ssc.Config) {
			return fmt.Errorf("scenario %q ran with %s here and %s before", ssc.Name, shape(ssc.Config), shape(dsc.Config))
		}
		dsc.Config.Requests += ssc.Config.Requests
		dsc.Config.Shards += shardsOf(ssc.Config.Shards)
		for _, sr := range ssc.Results {
			j := resultIndex(dsc, sr.Provider, sr.Model)
			if j < 0 {
				c, err := cloneResult(sr)
				if err != nil {
					return err
				}
				dsc.Results = append(dsc.Results, c)
				continue
			}
			if err := mergeMetrics(&dsc.Results[j].Metrics, &sr.Metrics); err != nil {
				return fmt.Errorf("scenario %q, %s/%s: %w", ssc.Name, sr.Provider, sr.Model, err)
			}
			dr := &dsc.Results[j]
			for _, g := range sr.Gates {
				if !slices.ContainsFunc(dr.Gates, func(h Gate) bool { return h.Name == g.Name }) {
					dr.Gates = append(dr.Gates, g)
				}
			}
		}
	}
	dst.RawRequests = append(dst.RawRequests, src.RawRequests...)
	return nil
}

func cloneScenario(sc Scenario) (Scenario, error) {
	f, err := clone(&File{Scenarios: []Scenario{sc}})
	if err != nil {
		return Scenario{}, err
	}
	return f.Scenarios[0], nil
}

func cloneResult(r Result) (Result, error) {
	sc, err := cloneScenario(Scenario{Results: []Result{r}})
	if err != nil {
		return Result{}, err
	}
	return sc.Results[0], nil
}

func scenarioIndex(f *File, name string) int {
	for i := range f.Scenarios {
		if f.Scenarios[i].Name == name {
			return i
		}
	}
	return -1
}

func resultIndex(sc *Scenario, provider, model string) int {
	for i := range sc.Results {
		if sc.Results[i].Provider == provider && sc.Results[i].Model == model {
			return i
		}
	}
	return -1
}

// unionPeriod returns the earliest start and latest end of two periods given as
// start and length in seconds; a zero start is no period.
func unionPeriod(t0 time.Time, s0 float64, t1 time.Time, s1 float64) (start, end time.Time) {
	e0, e1 := t0.Add(secsToDuration(s0)), t1.Add(secsToDuration(s1))
	switch {
	case t0.IsZero():
		return t1, e1
	case t1.IsZero():
		return t0, e0
	}
	start, end = t0, e0
	if t1.Before(start) {
		start = t1
	}
	if e1.After(end) {
		end = e1
	}
	return start, end
}

func secsToDuration(s float64) time.Duration { return time.Duration(math.Round(s * 1e9)) }

func spanSecs(d time.Duration, ok bool) float64 {
	if !ok {
		return 0
	}
	return d.Seconds()
}

// mergeMetrics adds src into dst.
func mergeMetrics(dst, src *Metrics) error {
	if (dst.CostStats == nil) != (src.CostStats == nil) {
		return errors.New("priced in one file and not in the other")
	}
	if dst.CostStats != nil && dst.CostStats.Price != src.CostStats.Price {
		return fmt.Errorf("priced at %v here and %v before", src.CostStats.Price, dst.CostStats.Price)
	}
	dslots, sslots := dst.distSlots(), src.distSlots()
	for i := range dslots {
		d, s := *dslots[i], *sslots[i]
		merged, err := mergeDist(d, s)
		if err != nil {
			return err
		}
		*dslots[i] = merged
	}

	oldStart := dst.Started
	start, end := unionPeriod(dst.Started, dst.ExecutionDurationSecs, src.Started, src.ExecutionDurationSecs)
	dst.Started = start
	dst.ExecutionDurationSecs = spanSecs(end.Sub(start), !start.IsZero())

	dst.TotalRequests += src.TotalRequests
	dst.SuccessfulRequests += src.SuccessfulRequests
	dst.FailedRequests += src.FailedRequests
	dst.Errors = addCounts(dst.Errors, src.Errors)
	for c, s := range src.ErrorSamples {
		if _, ok := dst.ErrorSamples[c]; !ok {
			if dst.ErrorSamples == nil {
				dst.ErrorSamples = map[string]string{}
			}
			dst.ErrorSamples[c] = s
		}
	}
	dst.GoodRequests += src.GoodRequests
	dst.Journeys += src.Journeys
	dst.JourneysFailed += src.JourneysFailed
	if dst.JourneyError == "" {
		dst.JourneyError = src.JourneyError
	}
	dst.Attempts += src.Attempts
	dst.RetriedRequests += src.RetriedRequests
	dst.Retries = addCounts(dst.Retries, src.Retries)

	if src.FirstSend != nil && (dst.FirstSend == nil || src.FirstSend.Before(*dst.FirstSend)) {
		t := *src.FirstSend
		dst.FirstSend = &t
	}
	if src.LastSend != nil && (dst.LastSend == nil || src.LastSend.After(*dst.LastSend)) {
		t := *src.LastSend
		dst.LastSend = &t
	}

	ts, tsrc := &dst.TokenStats, &src.TokenStats
	ts.TotalPromptTokens = addKnown(ts.TotalPromptTokens, tsrc.TotalPromptTokens)
	ts.PromptTokensCounted += tsrc.PromptTokensCounted
	ts.TotalCompletionTokens += tsrc.TotalCompletionTokens
	ts.TotalTokens = addKnown(ts.TotalTokens, tsrc.TotalTokens)
	ts.CountedFromUsage += tsrc.CountedFromUsage
	ts.CountedFromEvents += tsrc.CountedFromEvents
	ts.UsageMismatches += tsrc.UsageMismatches

	if c, s := dst.CostStats, src.CostStats; c != nil {
		c.InputCost += s.InputCost
		c.OutputCost += s.OutputCost
		c.TotalCost += s.TotalCost
	}

	tl, err := mergeTimeline(dst.Timeline, oldStart, src.Timeline, src.Started, start)
	if err != nil {
		return err
	}
	dst.Timeline = tl
	dst.recompute()
	return nil
}

// recompute sets the rates of m from its counts and distributions.
func (m *Metrics) recompute() {
	m.ActualRPS = perSecond(float64(m.TotalRequests), m.ExecutionDurationSecs)
	m.AchievedSendRate = 0
	if m.FirstSend != nil && m.LastSend != nil && m.TotalRequests >= 2 {
		if s := m.LastSend.Sub(*m.FirstSend).Seconds(); s > 0 {
			m.AchievedSendRate = float64(m.TotalRequests-1) / s
		}
	}
	m.Goodput = 0
	if m.TotalRequests > 0 {
		m.Goodput = float64(m.GoodRequests) / float64(m.TotalRequests)
	}
	m.TokenStats.MeanTokensPerSecond = 0
	if d := m.Latency.Throughput; d != nil {
		m.TokenStats.MeanTokensPerSecond = d.Mean
	}
	m.TokenStats.OutputTokensPerSecond = perSecond(float64(m.TokenStats.TotalCompletionTokens), m.ExecutionDurationSecs)
	if c := m.CostStats; c != nil {
		c.MeanCostPerRequest, c.CostPer1KTokens = 0, 0
		if m.TotalRequests > 0 {
			c.MeanCostPerRequest = c.TotalCost / float64(m.TotalRequests)
		}
		if t := m.TokenStats.TotalTokens; t != nil && *t > 0 {
			c.CostPer1KTokens = c.TotalCost / float64(*t) * 1000
		}
	}
}

// addKnown adds two counts that may be unknown (nil): the sum of the known
// ones, nil when neither is.
func addKnown(a, b *int64) *int64 {
	if a == nil && b == nil {
		return nil
	}
	var n int64
	if a != nil {
		n += *a
	}
	if b != nil {
		n += *b
	}
	return &n
}

func perSecond(n, s float64) float64 {
	if s <= 0 {
		return 0
	}
	return n / s
}

func addCounts(dst, src map[string]int64) map[string]int64 {
	if dst == nil {
		dst = map[string]int64{}
	}
	for k, v := range src {
		dst[k] += v
	}
	return dst
}

// mergeDist merges two distributions of the same unit through their
// histograms. A nil side is absent: the other is kept.
func mergeDist(a, b *Distribution) (*Distribution, error) {
	switch {
	case b == nil:
		return a, nil
	case a == nil:
		c := *b
		return &c, nil
	case a.Unit != b.Unit:
		return nil, fmt.Errorf("distributions in %q and %q", a.Unit, b.Unit)
	}
	if a.IsLatency() {
		return mergeHistograms(a, b, (*Distribution).Latency, LatencyDistribution)
	}
	return mergeHistograms(a, b, (*Distribution).Values, func(v *stats.Values) (*Distribution, error) {
		return ValuesDistribution(v, a.Unit)
	})
}

// mergeHistograms merges the histograms of a and b, of the same unit, read
// with decode, and returns their sum as encode writes it, with the values
// both clamped.
func mergeHistograms[H interface{ Merge(H) error }](a, b *Distribution, decode func(*Distribution) (H, error),
	encode func(H) (*Distribution, error)) (*Distribution, error) {
	ha, err := decode(a)
	if err != nil {
		return nil, err
	}
	hb, err := decode(b)
	if err != nil {
		return nil, err
	}
	if err := ha.Merge(hb); err != nil {
		return nil, fmt.Errorf("report: merge %s histograms: %w", a.Unit, err)
	}
	d, err := encode(ha)
	if err != nil {
		return nil, err
	}
	d.Clamped = a.Clamped + b.Clamped
	return d, nil
}

// mergeTimeline adds timelines a (from aStart) and b (from bStart) on a
// common origin start, each bucket moved by its timeline's offset from
// start rounded to whole buckets.
//
// A merged timeline longer than maxTimeline buckets is an error: shards
// that far apart are not one run.
func mergeTimeline(a []lens.Tick, aStart time.Time, b []lens.Tick, bStart, start time.Time) ([]lens.Tick, error) {
	if len(a) == 0 && len(b) == 0 {
		return a, nil
	}
	offset := func(t time.Time) int64 {
		if t.IsZero() || start.IsZero() {
			return 0
		}
		return int64(math.Round(float64(t.Sub(start)) / float64(lens.TimelineStep)))
	}
	oa, ob := offset(aStart), offset(bStart)
	if oa > maxTimeline || ob > maxTimeline || oa+int64(len(a)) > maxTimeline || ob+int64(len(b)) > maxTimeline {
		return nil, fmt.Errorf("results started %v apart: too far to be one run", bStart.Sub(aStart).Abs())
	}
	n := max(oa+int64(len(a)), ob+int64(len(b)))
	out := make([]lens.Tick, n)
	for i, t := range a {
		addTick(&out[oa+int64(i)], t)
	}
	for i, t := range b {
		addTick(&out[ob+int64(i)], t)
	}
	return out, nil
}

// maxTimeline is the longest merged timeline, in buckets: 30 days.
const maxTimeline = 30 * 24 * 3600

func addTick(dst *lens.Tick, t lens.Tick) {
	dst.Requests += t.Requests
	dst.Failed += t.Failed
	dst.OutputTokens += t.OutputTokens
}

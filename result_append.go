package lens

import (
	"fmt"
	"maps"
	"slices"

	"github.com/llm-latency-lens/lens/stats"
)

// Append adds o, a later run of the same scenario, into r, losslessly:
// counts, error classes, retries, tokens and costs add up, every
// distribution merges bucket by bucket, and r's Elapsed and Timeline extend
// to cover o (o's ticks land at their offset from r.Started). It is how a
// gate that needs more evidence grows a result: the merged percentiles are
// those of one run that had measured both.
//
// Append refuses a run of another scenario, provider or model, and an
// open-loop run into a closed-loop result (or the reverse).
func (r *Result) Append(o *Result) error {
	if o == nil {
		return nil
	}
	if o.Scenario != r.Scenario || o.Provider != r.Provider || o.Model != r.Model {
		return fmt.Errorf("lens: append results: %s/%s/%s is not %s/%s/%s",
			o.Scenario, o.Provider, o.Model, r.Scenario, r.Provider, r.Model)
	}
	if (o.Rate > 0) != (r.Rate > 0) {
		return fmt.Errorf("lens: append results: open-loop and closed-loop runs of scenario %s", r.Scenario)
	}
	timeline := o.Timeline
	o.Timeline = nil
	err := r.merge(o)
	o.Timeline = timeline
	if err != nil {
		return err
	}
	offset := 0
	if !r.Started.IsZero() && o.Started.After(r.Started) {
		offset = int(o.Started.Sub(r.Started) / TimelineStep)
	}
	if need := offset + len(timeline); need > len(r.Timeline) {
		r.Timeline = append(r.Timeline, make([]Tick, need-len(r.Timeline))...)
	}
	for i, t := range timeline {
		tk := &r.Timeline[offset+i]
		tk.Requests += t.Requests
		tk.Failed += t.Failed
		tk.OutputTokens += t.OutputTokens
	}
	if r.Started.IsZero() {
		r.Started = o.Started
	}
	if end := o.Started.Add(o.Elapsed).Sub(r.Started); end > r.Elapsed {
		r.Elapsed = end
	}
	return nil
}

// Clone returns a deep copy of r: the copy's distributions, maps and
// timeline are its own.
func (r *Result) Clone() *Result {
	c := *r
	c.Errors = maps.Clone(r.Errors)
	c.ErrorSamples = maps.Clone(r.ErrorSamples)
	c.RetriedBy = maps.Clone(r.RetriedBy)
	c.Timeline = slices.Clone(r.Timeline)
	for _, p := range []**stats.Latency{
		&c.TTFT, &c.ITL, &c.TPOT, &c.E2E, &c.TTFB, &c.DNS, &c.Connect, &c.TLS,
		&c.QueueDelay, &c.TTFTFromIntended, &c.E2EFromIntended,
	} {
		if *p != nil {
			*p = (*p).Clone()
		}
	}
	if c.TokensPerSecond != nil {
		c.TokensPerSecond = c.TokensPerSecond.Clone()
	}
	if c.OutputTokens != nil {
		c.OutputTokens = c.OutputTokens.Clone()
	}
	return &c
}

package dashboard

import (
	"fmt"

	"github.com/llm-latency-lens/lens/verdict"
)

// AlertFromGate returns the alert that watches a verdict gate live, named
// "gate " and the gate ("gate p95 TTFT < 500ms"): a latency gate (the
// percentile must stay below its limit) fires when the window's percentile
// is at or above the limit; an error-rate gate fires when the window's
// error rate is above its maximum. The alert judges the sliding window,
// not the whole run: it warns while the run goes, the gate decides at its
// end. A gate the dashboard cannot watch is an error: one on journeys (the
// dashboard follows requests), or an error-rate gate whose maximum is 1
// (it cannot be crossed).
func AlertFromGate(g verdict.Gate) (Alert, error) {
	if err := g.Validate(); err != nil {
		return Alert{}, err
	}
	a := Alert{Name: "gate " + g.String()}
	if g.Metric == verdict.ErrorRate {
		a.Metric, a.Max = MetricErrorRate, g.MaxErrorRate
	} else {
		a.Metric, a.Percentile, a.Limit = string(g.Metric), g.Percentile, g.Limit
	}
	if err := a.Check(); err != nil {
		return Alert{}, fmt.Errorf("dashboard: %s: %w", a.Name, err)
	}
	return a, nil
}

package dashboard

import (
	"fmt"

	"github.com/llm-latency-lens/lens/verdict"
)

// AlertFromGate returns the alert that watches a verdict gate live: a
// latency gate (the percentile must stay below its limit) fires when the
// window's percentile is at or above the limit; an error-rate gate fires
// when the window's error rate is above its maximum. The alert judges the
// sliding window, not the whole run: it warns while the run goes, the
// gate decides at its end. A gate on a metric the dashboard does not
// watch (dns, connect, tls, queue) is an error.
func AlertFromGate(g verdict.Gate) (Alert, error) {
	if err := g.Validate(); err != nil {
		return Alert{}, err
	}
	var a Alert
	if g.Metric == verdict.ErrorRate {
		a = Alert{Metric: MetricErrorRate, Max: g.MaxErrorRate}
	} else {
		a = Alert{Metric: string(g.Metric), Percentile: g.Percentile, Limit: g.Limit}
	}
	if err := a.Check(); err != nil {
		return Alert{}, fmt.Errorf("dashboard: gate on %s: %w", string(g.Metric), err)
	}
	return a, nil
}

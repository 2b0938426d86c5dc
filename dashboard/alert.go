package dashboard

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/llm-latency-lens/lens/stats"
)

// MetricErrorRate is the Alert metric of the share of failed requests.
const MetricErrorRate = "error_rate"

// DefaultMinSamples is Alert.MinSamples when unset.
const DefaultMinSamples = 20

// Alert is a threshold on a metric over the sliding window. A latency
// alert (Metric ttft, itl, tpot, e2e, ttfb, dns, connect, tls or queue)
// fires when the window's
// Percentile of the metric is at or above Limit; an error-rate alert
// (Metric error_rate) fires when the window's share of failed requests is
// above Max. It clears when the value is back under its threshold. Each
// firing and each clearing is an AlertEvent: a line on the Monitor's
// AlertLog and an entry on the page.
//
// A window with fewer than MinSamples values (requests, for error_rate)
// is not judged: the alert keeps its state until the window holds enough.
type Alert struct {
	// Name labels the alert (default: "p95 ttft >= 500ms" and the like).
	Name string

	// Metric is ttft, itl, tpot, e2e, ttfb, dns, connect, tls, queue or
	// error_rate.
	Metric string

	// Percentile is the percentile of a latency metric, in (0, 100].
	Percentile float64

	// Limit is a latency alert's threshold.
	Limit time.Duration

	// Max is an error-rate alert's threshold, in [0, 1).
	Max float64

	// MinSamples is the fewest values in the window for a judgement
	// (default DefaultMinSamples, 20).
	MinSamples int64
}

// Check reports every problem of a, each prefixed with the field it is
// about ("percentile: must be within (0, 100], got 120").
func (a Alert) Check() error {
	var errs []error
	switch metric(a.Metric) {
	case MetricTTFT, MetricITL, MetricTPOT, MetricE2E, MetricTTFB, MetricDNS, MetricConnect, MetricTLS, MetricQueue:
		if !(a.Percentile > 0 && a.Percentile <= 100) {
			errs = append(errs, fmt.Errorf("percentile: must be within (0, 100], got %v", a.Percentile))
		}
		if a.Limit <= 0 {
			errs = append(errs, fmt.Errorf("limit: must be > 0, got %v", a.Limit))
		}
		if a.Max != 0 {
			errs = append(errs, errors.New("max: only for metric error_rate (a latency alert takes a limit)"))
		}
	case MetricErrorRate:
		if !(a.Max >= 0 && a.Max < 1) {
			errs = append(errs, fmt.Errorf("max: must be within [0, 1), got %v", a.Max))
		}
		if a.Percentile != 0 || a.Limit != 0 {
			errs = append(errs, errors.New("percentile and limit: not for metric error_rate (it takes max)"))
		}
	default:
		errs = append(errs, fmt.Errorf("metric: %q is not one of %s", a.Metric, metricNames))
	}
	if a.MinSamples < 0 {
		errs = append(errs, fmt.Errorf("min_samples: must be >= 0, got %d", a.MinSamples))
	}
	return errors.Join(errs...)
}

// withDefaults fills a's unset Name and MinSamples.
func (a *Alert) withDefaults() {
	if a.MinSamples == 0 {
		a.MinSamples = DefaultMinSamples
	}
	if a.Name == "" {
		a.Name = a.describe()
	}
}

// describe names the alert by its condition.
func (a *Alert) describe() string {
	if a.Metric == MetricErrorRate {
		return "error_rate > " + strconv.FormatFloat(a.Max, 'g', -1, 64)
	}
	return "p" + strconv.FormatFloat(a.Percentile, 'g', -1, 64) + " " + a.Metric + " >= " + a.Limit.String()
}

// threshold formats the alert's threshold.
func (a *Alert) threshold() string {
	if a.Metric == MetricErrorRate {
		return fmtShare(a.Max)
	}
	return a.Limit.String()
}

// AlertEvent is an alert firing or clearing.
type AlertEvent struct {
	// At is when it happened; Elapsed is At from the scenario's start.
	At      time.Time     `json:"at"`
	Elapsed time.Duration `json:"elapsed"`

	// Scenario is the scenario's name; Alert the alert's name.
	Scenario string `json:"scenario"`
	Alert    string `json:"alert"`

	// Fired is true when the alert fired, false when it cleared.
	Fired bool `json:"fired"`

	// Value is the window's value then ("312ms", "4.5%"), Threshold the
	// alert's, Samples the number of values in the window, Window its
	// span.
	Value     string        `json:"value"`
	Threshold string        `json:"threshold"`
	Samples   int64         `json:"samples"`
	Window    time.Duration `json:"window"`
}

// String is the event's line for a log: "lens: ALERT fired at 12s
// (10:15:03 UTC) scenario chat: p95 ttft >= 250ms: window value 312ms
// (last 10s, 96 samples)".
func (e AlertEvent) String() string {
	what := "ALERT fired"
	if !e.Fired {
		what = "alert cleared"
	}
	return fmt.Sprintf("lens: %s at %s (%s) scenario %s: %s: window value %s, threshold %s (last %s, %d samples)",
		what, e.Elapsed.Round(time.Second), e.At.UTC().Format("15:04:05 MST"), e.Scenario, e.Alert,
		e.Value, e.Threshold, e.Window.Round(time.Second), e.Samples)
}

// alertState is an alert's state on one track.
type alertState struct {
	firing  bool
	judged  bool   // the window once held enough samples
	value   string // the last judged value
	samples int64
	since   time.Duration // when it last changed state, from the start
}

// checkAlerts judges every alert of the track on the window ending at
// now, whose latencies are lat, and returns the events of those that
// changed state. Called with t.mu held.
func (t *track) checkAlerts(lat map[metric]*stats.Latency, now time.Time) []AlertEvent {
	ok, failed, span := t.win.ok, t.win.failed, t.win.span
	var evs []AlertEvent
	for i := range t.alertDefs {
		a := &t.alertDefs[i]
		st := &t.alerts[i]
		var crossed bool
		var value string
		var n int64
		if a.Metric == MetricErrorRate {
			n = ok + failed
			if n > 0 {
				rate := float64(failed) / float64(n)
				crossed, value = rate > a.Max, fmtShare(rate)
			}
		} else {
			l := lat[metric(a.Metric)]
			n = l.Count()
			if n > 0 {
				v := l.Percentile(a.Percentile)
				crossed, value = v >= a.Limit, fmtDuration(v)
			}
		}
		st.samples = n
		if n < a.MinSamples {
			continue
		}
		st.judged, st.value = true, value
		if crossed == st.firing {
			continue
		}
		st.firing = crossed
		st.since = now.Sub(t.start)
		evs = append(evs, AlertEvent{
			At: now, Elapsed: st.since, Scenario: t.name, Alert: a.Name, Fired: crossed,
			Value: value, Threshold: a.threshold(), Samples: n, Window: time.Duration(span * float64(time.Second)),
		})
	}
	return evs
}

// metricNames lists the metrics an Alert can watch, for errors.
var metricNames = func() string {
	var s []string
	for _, mt := range watchable {
		s = append(s, string(mt))
	}
	return strings.Join(append(s, MetricErrorRate), ", ")
}()

// fmtShare formats a share as a percentage.
func fmtShare(v float64) string { return strconv.FormatFloat(100*v, 'f', 1, 64) + "%" }

// fmtDuration formats a duration with three significant figures.
func fmtDuration(d time.Duration) string {
	switch {
	case d < time.Microsecond:
		return d.String()
	case d < time.Millisecond:
		return d.Round(time.Microsecond / 100).String()
	case d < time.Second:
		return d.Round(10 * time.Microsecond).String()
	}
	return d.Round(10 * time.Millisecond).String()
}

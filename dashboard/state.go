package dashboard

import (
	"time"
)

// State is the dashboard's state at one time, as GET /state serves it.
type State struct {
	// Finished is set once Finish was called.
	Finished bool `json:"finished"`

	// Scenarios are the instrumented scenarios, in order.
	Scenarios []ScenarioState `json:"scenarios"`

	// Events are the alert events so far, oldest first.
	Events []AlertEvent `json:"events"`
}

// ScenarioState is one scenario's live numbers. Rates are per second; the
// window rates are over the sliding window ending at the state's time.
type ScenarioState struct {
	Name     string `json:"name"`
	Provider string `json:"provider"`
	Model    string `json:"model"`

	// Sent counts measured requests sent; Warmup the warmup ones;
	// InFlight both kinds sent and not ended.
	Sent      int64            `json:"sent"`
	Warmup    int64            `json:"warmup"`
	InFlight  int64            `json:"in_flight"`
	Succeeded int64            `json:"succeeded"`
	Failed    int64            `json:"failed"`
	FailedBy  map[string]int64 `json:"failed_by"`

	// AskedRate is the open loop's rate (0 in closed loop).
	AskedRate       float64 `json:"asked_rate"`
	WindowRate      float64 `json:"window_rate"`
	RunRate         float64 `json:"run_rate"`
	WindowTokenRate float64 `json:"window_tokens_per_second"`
	WindowSeconds   float64 `json:"window_seconds"`

	// Window and Run hold the p50, p95 and p99 of each latency metric
	// (ttft, itl, e2e, and any an alert watches) over the window and the
	// whole run; a metric without samples is absent.
	Window map[string][3]time.Duration `json:"window"`
	Run    map[string][3]time.Duration `json:"run"`

	// Alerts are the alerts' states: those of Options.Alerts in their
	// order, then the scenario's own (Monitor.InstrumentAlerts).
	Alerts []AlertState `json:"alerts"`
}

// AlertState is one alert's state on one scenario.
type AlertState struct {
	Name string `json:"name"`
	// Judged is set once the window held MinSamples values; Firing while
	// the threshold is crossed.
	Judged bool `json:"judged"`
	Firing bool `json:"firing"`
	// Value is the last judged window value.
	Value   string `json:"value"`
	Samples int64  `json:"samples"`
}

// State returns the state at now.
func (m *Monitor) State(now time.Time) State {
	m.mu.Lock()
	tracks := append([]*track(nil), m.tracks...)
	s := State{Finished: m.done, Events: append([]AlertEvent{}, m.events...)}
	m.mu.Unlock()
	for i, t := range tracks {
		s.Scenarios = append(s.Scenarios, t.state(m, now, s.Finished || i < len(tracks)-1))
	}
	return s
}

func (t *track) state(m *Monitor, now time.Time, over bool) ScenarioState {
	t.mu.Lock()
	defer t.mu.Unlock()
	over = over || t.finished
	end := now
	if over && !t.last.IsZero() {
		end = t.last
	}
	s := ScenarioState{
		Name: t.name, Provider: t.provider, Model: t.model,
		Sent: t.sent, Warmup: t.warmup, InFlight: t.inFlight, Succeeded: t.ok,
		FailedBy: map[string]int64{}, AskedRate: t.rate,
		Window: map[string][3]time.Duration{}, Run: map[string][3]time.Duration{},
	}
	for c, n := range t.failed {
		s.Failed += n
		s.FailedBy[string(c)] = n
	}
	win := t.current(end)
	if win.span > 0 {
		s.WindowRate, s.WindowTokenRate, s.WindowSeconds = float64(win.sent)/win.span, float64(win.tokens)/win.span, win.span
	}
	if !t.start.IsZero() {
		if el := end.Sub(t.start).Seconds(); el > 0 {
			s.RunRate = float64(t.sent) / el
		}
	}
	for _, mt := range t.metrics {
		if win.count[mt] > 0 {
			s.Window[string(mt)] = win.pct[mt]
		}
		if t.whole[mt].Count() > 0 {
			s.Run[string(mt)] = percentiles(t.whole[mt])
		}
	}
	for i := range t.alertDefs {
		st := &t.alerts[i]
		s.Alerts = append(s.Alerts, AlertState{Name: t.alertDefs[i].Name,
			Judged: st.judged, Firing: st.firing, Value: st.value, Samples: st.samples})
	}
	return s
}

package dashboard_test

import (
	"net/http"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/llm-latency-lens/lens"
	"github.com/llm-latency-lens/lens/dashboard"
	"github.com/llm-latency-lens/lens/fake"
	"github.com/llm-latency-lens/lens/providers"
	"github.com/llm-latency-lens/lens/verdict"
)

// TestScenarioAlerts, in virtual time: alerts given to InstrumentAlerts
// (here, from each scenario's gates) watch their scenario alone, after the
// Monitor's own alerts, which watch every scenario. Of two scenarios run
// one after the other, the slow one's gate fires and the fast one's does
// not, each on its own track of the state and the page, with one line on
// the alert log.
func TestScenarioAlerts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		log := &syncWriter{}
		m, err := dashboard.New(dashboard.Options{
			Window: 2 * time.Second, AlertLog: log,
			Alerts: []dashboard.Alert{{Metric: "error_rate", Max: 0.01}},
		})
		require.NoError(t, err)
		defer m.Close()
		gate := func(limit time.Duration) dashboard.Alert {
			a, err := dashboard.AlertFromGate(verdict.Gate{Metric: lens.MetricTTFT, Percentile: 95, Limit: limit})
			require.NoError(t, err)
			return a
		}
		run := func(name string, ttft time.Duration, alerts ...dashboard.Alert) {
			sc := lens.Scenario{
				Name: name, Provider: &providers.OpenAI{BaseURL: "http://fake/v1", APIKey: "k"}, Model: "m",
				Rate: 20, Duration: 5 * time.Second,
				Client: &http.Client{Transport: fake.NewResponder(fake.Config{TTFT: fake.Fixed(ttft), OutputTokens: 3})},
			}
			_, err := m.InstrumentAlerts(&sc, alerts...)
			require.NoError(t, err)
			_, err = lens.Run(t.Context(), sc)
			require.NoError(t, err)
		}
		run("slow", 300*time.Millisecond, gate(200*time.Millisecond))
		run("fast", 50*time.Millisecond, gate(100*time.Millisecond), gate(40*time.Millisecond))
		m.Finish()

		st := m.State(time.Now())
		require.Len(t, st.Scenarios, 2)
		names := func(as []dashboard.AlertState) (out []string) {
			for _, a := range as {
				out = append(out, a.Name)
			}
			return out
		}
		slow, fast := st.Scenarios[0], st.Scenarios[1]
		assert.Equal(t, []string{"error_rate > 0.01", "gate p95 TTFT < 200ms"}, names(slow.Alerts))
		assert.Equal(t, []string{"error_rate > 0.01", "gate p95 TTFT < 100ms", "gate p95 TTFT < 40ms"}, names(fast.Alerts))
		assert.True(t, slow.Alerts[0].Judged)
		assert.False(t, slow.Alerts[0].Firing)
		assert.True(t, slow.Alerts[1].Firing, "300ms crosses the slow scenario's 200ms gate")
		v, err := time.ParseDuration(slow.Alerts[1].Value)
		require.NoError(t, err)
		assert.InDelta(t, 300*time.Millisecond, v, float64(time.Millisecond), "the window's p95, within the histogram's 0.1%")
		assert.True(t, fast.Alerts[1].Judged)
		assert.False(t, fast.Alerts[1].Firing, "50ms stays under the fast scenario's 100ms gate")
		assert.True(t, fast.Alerts[2].Firing, "50ms crosses the fast scenario's 40ms gate")

		evs := m.Events()
		require.Len(t, evs, 2, "%v", evs)
		assert.Equal(t, "slow", evs[0].Scenario)
		assert.Equal(t, "gate p95 TTFT < 200ms", evs[0].Alert)
		assert.Equal(t, "fast", evs[1].Scenario)
		assert.Equal(t, "gate p95 TTFT < 40ms", evs[1].Alert)
		lines := strings.Split(strings.TrimSpace(log.String()), "\n")
		require.Len(t, lines, 2, log.String())
		assert.Regexp(t, `^lens: ALERT fired at \ds \(00:00:\d\d UTC\) scenario slow: gate p95 TTFT < 200ms: window value 300(\.\d+)?ms, threshold 200ms`, lines[0])
	})
}

// TestInstrumentAlertsRefusesBadAlerts: an invalid alert is refused with
// the scenario and its index, and the scenario is not instrumented.
func TestInstrumentAlertsRefusesBadAlerts(t *testing.T) {
	m, err := dashboard.New(dashboard.Options{})
	require.NoError(t, err)
	defer m.Close()
	sc := lens.Scenario{Name: "chat"}
	finished, err := m.InstrumentAlerts(&sc, dashboard.Alert{Metric: "ttft", Percentile: 95, Limit: time.Second}, dashboard.Alert{Metric: "ttft"})
	require.ErrorContains(t, err, "dashboard: scenario chat: alerts[1]: percentile: must be within (0, 100], got 0")
	assert.Nil(t, finished)
	assert.Nil(t, sc.OnRequest)
	assert.Nil(t, sc.OnSend)
	assert.Empty(t, m.State(time.Now()).Scenarios)
}

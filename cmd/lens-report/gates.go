package main

import (
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/llm-latency-lens/lens/report/junit"
	"github.com/llm-latency-lens/lens/verdict"
)

// writeGatesJUnit writes the verdicts as JUnit XML through the same writer
// as lens-report junit: a suite "lens-report run", one test case per gate
// and result ("<scenario>/<provider>/<model>/<gate>"), failed when the gate
// is broken, with the verdict's numbers as properties.
func writeGatesJUnit(w io.Writer, judged []judgedResult, started time.Time) error {
	const pkg = "lens-report run"
	var evs []junit.TestEvent
	for _, j := range judged {
		for _, v := range j.verdicts {
			name := fmt.Sprintf("%s/%s/%s/%s", j.res.Scenario, j.res.Provider, j.res.Model, v.Gate.Name())
			add := func(action string, f func(*junit.TestEvent)) {
				ev := junit.TestEvent{Time: started, Action: action, Package: pkg, Test: name}
				if f != nil {
					f(&ev)
				}
				evs = append(evs, ev)
			}
			add("run", nil)
			for _, p := range gateProperties(v) {
				add("attr", func(e *junit.TestEvent) { e.Key, e.Value = p[0], p[1] })
			}
			add("output", func(e *junit.TestEvent) { e.Output = v.Explain() + "\n" })
			action := "pass"
			if !v.Holds {
				action = "fail"
			}
			add(action, nil)
		}
	}
	return junit.Write(w, evs...)
}

// gateProperties are a verdict's JUnit properties.
func gateProperties(v verdict.Verdict) [][2]string {
	f := func(x float64) string { return strconv.FormatFloat(x, 'g', 6, 64) }
	ms := func(d time.Duration) string { return f(float64(d) / 1e6) }
	props := [][2]string{
		{"gate", v.Gate.String()},
		{"outcome", v.Outcome.String()},
		{"holds", strconv.FormatBool(v.Holds)},
		{"requests", strconv.FormatInt(v.N, 10)},
		{"samples", strconv.FormatInt(v.Samples, 10)},
		{"confidence", f(v.Confidence)},
		{"flake_risk", f(v.FlakeRisk)},
		{"looks", strconv.Itoa(len(v.Looks))},
	}
	if v.Budget > 0 {
		props = append(props, [2]string{"budget", strconv.FormatInt(v.Budget, 10)})
	}
	if v.Gate.Metric == verdict.ErrorRate {
		return append(props, [][2]string{{"rate", f(v.Rate)}, {"rate_lo", f(v.RateLo)}, {"rate_hi", f(v.RateHi)}}...)
	}
	props = append(props, [][2]string{{"estimate_ms", ms(v.Estimate)}, {"lo_ms", ms(v.Lo)}}...)
	if v.Hi != 1<<63-1 {
		props = append(props, [2]string{"hi_ms", ms(v.Hi)})
	}
	return props
}

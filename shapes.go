package lens

import (
	"fmt"
	"math"
)

// validateShapes checks the workload shapes a scenario can take beyond the
// plain closed and open loops: sessions, trace replay and shards.
func (sc *Scenario) validateShapes(p *problems) {
	if sc.Session.Turns < 0 {
		p.add("Session.Turns", "must be >= 0, got %d", sc.Session.Turns)
	}
	if sc.Session.ThinkTime != nil && !sc.Session.Enabled() {
		p.add("Session.ThinkTime", "set without Session.Turns")
	}
	if sc.Session.Enabled() && sc.Rate > 0 {
		p.add("Session", "sessions run in closed loop (one conversation per worker); Rate must be 0")
	}
	if sc.Session.Enabled() && len(sc.Trace) > 0 {
		p.add("Session", "not with Trace, whose requests stand alone")
	}
	if len(sc.Trace) > 0 {
		for _, f := range []struct {
			name string
			set  bool
		}{
			{"Rate", sc.Rate != 0}, {"Arrivals", sc.Arrivals != ArrivalsConstant}, {"RampUp", sc.RampUp != 0},
			{"Prompt", sc.Prompt != ""}, {"Prompts", len(sc.Prompts) > 0}, {"PromptTokens", sc.PromptTokens != nil},
			{"MaxTokens", sc.MaxTokens != 0}, {"MaxTokensDist", sc.MaxTokensDist != nil},
		} {
			if f.set {
				p.add(f.name, "not with Trace, which sets the timing and the lengths of every request")
			}
		}
		if sc.Requests > len(sc.Trace) {
			p.add("Requests", "replays the first Requests entries of the trace, which has only %d; got %d", len(sc.Trace), sc.Requests)
		}
		for i, r := range sc.Trace {
			if r.At < 0 || r.InputTokens < 0 || r.OutputTokens < 0 || (i > 0 && r.At < sc.Trace[i-1].At) {
				p.add(fmt.Sprintf("Trace[%d]", i), "times must be >= 0 and in order, token counts >= 0; got %+v", r)
				break
			}
		}
	}
	if !(sc.TraceSpeed >= 0) || math.IsInf(sc.TraceSpeed, 0) {
		p.add("TraceSpeed", "must be a finite number >= 0, got %v", sc.TraceSpeed)
	} else if sc.TraceSpeed != 0 && len(sc.Trace) == 0 {
		p.add("TraceSpeed", "set without Trace")
	}
	if err := sc.Shard.check(); err != nil {
		p.add("Shard", "%v", err)
	} else if sc.Shard.Sharded() && sc.Rate <= 0 && len(sc.Trace) == 0 && sc.concurrency() < sc.Shard.Count {
		p.add("Shard", "a closed loop of %d workers cannot be split %d ways: Concurrency must be at least the shard count", sc.concurrency(), sc.Shard.Count)
	}
}

// open reports whether the scenario runs in open loop: a Rate or a Trace.
func (sc *Scenario) open() bool { return sc.Rate > 0 || len(sc.Trace) > 0 }

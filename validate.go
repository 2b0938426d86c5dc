package lens

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// FieldError is one problem of a Scenario: the field it is about and what
// is wrong with the field's value.
type FieldError struct {
	// Field is the field as a Go selector from the Scenario: "Requests",
	// "Retry.Jitter", "Prompts[2]".
	Field string

	// Message says what is wrong ("must be >= 0, got -1"). Other fields
	// it names are written as Field is ("set Requests or Duration, not
	// both"), so that a program that builds scenarios from its own
	// settings can say them in its own words.
	Message string
}

// Error returns "Field: Message".
func (e FieldError) Error() string { return e.Field + ": " + e.Message }

// ScenarioError is a Scenario that Run refuses, with every problem found
// in it. Validate and Run return it.
type ScenarioError struct {
	// Scenario is the scenario's Name ("(unnamed)" when it has none).
	Scenario string

	// Problems are in the order of the Scenario's fields; there is at
	// least one.
	Problems []FieldError
}

// Error returns "lens: scenario NAME: " and the problems, one a line.
func (e *ScenarioError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.Error()
	}
	return fmt.Sprintf("lens: scenario %s: %s", e.Scenario, strings.Join(lines, "\n"))
}

// Validate checks sc as Run does before it sends anything, and returns a
// *ScenarioError that lists every problem, or nil.
func (sc *Scenario) Validate() error {
	var p problems
	if sc.Journey != nil {
		sc.validateJourney(&p)
	} else {
		if sc.Provider == nil {
			p.add("Provider", "required")
		}
		if sc.Model == "" {
			p.add("Model", "required")
		}
	}
	sc.validateLength(&p)
	nonNegative(&p, "Concurrency", sc.Concurrency)
	if !(sc.Rate >= 0) || math.IsInf(sc.Rate, 0) {
		p.add("Rate", "must be a finite number >= 0, got %v", sc.Rate)
	}
	if sc.Arrivals != ArrivalsConstant && sc.Rate == 0 && len(sc.Trace) == 0 {
		p.add("Arrivals", "needs a Rate: arrivals shape the open loop")
	}
	nonNegative(&p, "Warmup", sc.Warmup)
	nonNegative(&p, "Timeout", sc.Timeout)
	nonNegative(&p, "MaxInFlight", sc.MaxInFlight)
	nonNegative(&p, "RampUp", sc.RampUp)
	if t := sc.Temperature; t != nil && (!(*t >= 0) || math.IsInf(*t, 0)) {
		p.add("Temperature", "must be a finite number >= 0, got %v", *t)
	}
	if t := sc.TopP; t != nil && !(*t >= 0 && *t <= 1) {
		p.add("TopP", "must be within 0..1, got %v", *t)
	}
	nonNegative(&p, "SLO.TTFT", sc.SLO.TTFT)
	nonNegative(&p, "SLO.TPOT", sc.SLO.TPOT)
	nonNegative(&p, "SLO.E2E", sc.SLO.E2E)
	sc.Retry.validate(&p)
	nonNegative(&p, "FirstTokenTimeout", sc.FirstTokenTimeout)
	nonNegative(&p, "IdleTimeout", sc.IdleTimeout)
	nonNegative(&p, "HTTP.PoolSize", sc.HTTP.PoolSize)
	nonNegative(&p, "HTTP.ConnectTimeout", sc.HTTP.ConnectTimeout)
	nonNegative(&p, "HTTP.KeepAlive", sc.HTTP.KeepAlive)
	for i, s := range sc.Prompts {
		if s == "" {
			p.add(fmt.Sprintf("Prompts[%d]", i), "empty prompt")
		}
	}
	nonNegative(&p, "MaxTokens", sc.MaxTokens)
	if late := sc.startLate(time.Now()); late > 0 {
		p.add("StartAt", "%v is %v in the past (the tolerance is %v): a late start would send every arrival already due at once; give a time in the future", sc.StartAt.Format(time.RFC3339), late.Round(time.Millisecond), StartAtTolerance)
	}
	sc.validateShapes(&p)
	return sc.refuse(p)
}

// refuse returns a *ScenarioError with the problems p, or nil when there
// are none.
func (sc *Scenario) refuse(p problems) error {
	if len(p) == 0 {
		return nil
	}
	name := sc.Name
	if name == "" {
		name = "(unnamed)"
	}
	return &ScenarioError{Scenario: name, Problems: p}
}

// StartAtTolerance is how far in the past a Scenario's StartAt may be when
// Run begins, and how late the measured phase may start after it once the
// warmup is done: a little slack for the clocks of the machines that share
// a run. A start later than that would send every arrival already due at
// once, breaking the schedule that shards given the same StartAt share, so
// Run refuses it.
const StartAtTolerance = time.Second

// startLate returns how much later than StartAt (beyond StartAtTolerance)
// now is, or 0 when StartAt is unset or not that far behind.
func (sc *Scenario) startLate(now time.Time) time.Duration {
	if sc.StartAt.IsZero() {
		return 0
	}
	if late := now.Sub(sc.StartAt); late > StartAtTolerance {
		return late
	}
	return 0
}

// validateLength checks how long the scenario runs: Requests, Duration
// and the request budget MaxRequests.
func (sc *Scenario) validateLength(p *problems) {
	nonNegative(p, "Duration", sc.Duration)
	switch {
	case sc.Requests < 0:
		p.add("Requests", "must be > 0 (or 0 with Duration set), got %d", sc.Requests)
	case sc.Requests == 0 && sc.Duration == 0 && len(sc.Trace) == 0:
		p.add("Requests", "must be > 0, or Duration set")
	case sc.Requests > 0 && sc.Duration > 0 && len(sc.Trace) == 0:
		p.add("Duration", "set Requests or Duration, not both")
	}
	if sc.MaxRequests < 0 {
		p.add("MaxRequests", "must be >= 0, got %d", sc.MaxRequests)
	} else if sc.MaxRequests > 0 && sc.MaxRequests < sc.Requests {
		p.add("MaxRequests", "must be 0 (no budget) or at least Requests (%d), got %d", sc.Requests, sc.MaxRequests)
	}
}

// validate checks the retry policy, its fields named as Scenario.Retry's.
func (r Retry) validate(p *problems) {
	nonNegative(p, "Retry.MaxAttempts", r.MaxAttempts)
	nonNegative(p, "Retry.InitialBackoff", r.InitialBackoff)
	nonNegative(p, "Retry.MaxBackoff", r.MaxBackoff)
	nonNegative(p, "Retry.MaxRetryAfter", r.MaxRetryAfter)
	if r.MaxBackoff > 0 && r.InitialBackoff > r.MaxBackoff {
		p.add("Retry.MaxBackoff", "must be >= Retry.InitialBackoff (%v), got %v", r.InitialBackoff, r.MaxBackoff)
	}
	if m := r.Multiplier; math.IsNaN(m) || math.IsInf(m, 0) || m != 0 && m < 1 {
		p.add("Retry.Multiplier", "must be >= 1 (0: the default, 2), got %v", m)
	}
	if !(r.Jitter >= 0 && r.Jitter <= 1) {
		p.add("Retry.Jitter", "must be within 0..1, got %v", r.Jitter)
	}
}

// problems collects a Scenario's FieldErrors.
type problems []FieldError

func (p *problems) add(field, format string, args ...any) {
	*p = append(*p, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

// nonNegative adds a problem when a count or a time is negative.
func nonNegative[T int | time.Duration](p *problems, field string, v T) {
	if v < 0 {
		p.add(field, "must be >= 0, got %v", v)
	}
}

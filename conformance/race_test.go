//go:build race

package conformance

// raceEnabled reports whether the race detector is on: timings mean
// nothing then.
const raceEnabled = true

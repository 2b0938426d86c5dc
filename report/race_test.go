//go:build race

package report

// raceEnabled shortens the statistical tests under the race detector,
// which slows their single-goroutine arithmetic tenfold and checks nothing
// more in it.
const raceEnabled = true

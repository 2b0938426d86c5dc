//go:build race

package report

// raceEnabled skips the statistical tests of Compare under the race
// detector (see statisticalTest).
const raceEnabled = true

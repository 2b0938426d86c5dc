//go:build race

package lenstest_test

const raceEnabled = true

// Package junit turns the output of go test -json into JUnit XML for CI
// systems: a test suite per package and a test case per test, subtest,
// example and benchmark, each carrying its lens metrics (the lens.*
// attributes lenstest records with t.Attr) as properties, an SLO failure as
// a <failure> whose message is the assertion's, and benchmarks as passes
// with their metrics.
//
// gotestsum --junitfile already carries t.Attr attributes as properties;
// this package is for what it does not do: benchmark lines as test cases
// and SLO messages as failure messages. A TestEventReader reads the event
// stream in the manner of bufio.Scanner, attr events (Key, Value) included.
//
//	events, err := junit.ReadTestEvents(os.Stdin)
//	...
//	err = junit.Write(os.Stdout, events...)
package junit

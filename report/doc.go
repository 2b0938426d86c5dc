// Package report reads, writes, merges and compares lens result files, and
// turns them into tables, JSON, CSV, Markdown, benchstat text, HdrHistogram
// logs and JUnit XML.
//
// A result file (File) is the LLM-Latency-Lens JSON result schema plus every
// distribution's encoded HDR histogram, so that files from many machines
// merge losslessly (Merge) and two runs compare with a significance test
// (Compare). FromResults builds a File from what lens.Run returned;
// WriteFile and ReadFile store and load it. RawWriter streams one record per
// request to a JSON lines file through Scenario.OnRequest.
//
// A TestEventReader reads the event stream of go test -json, and WriteJUnit
// turns it into JUnit XML with the lens metrics of each test as properties.
package report

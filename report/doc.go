// Package report reads, writes, merges and compares lens result files, and
// turns them into tables, JSON, CSV, Markdown, HTML, benchstat text,
// HdrHistogram logs, MessagePack and the Prometheus text format.
//
// A result file (File) is the LLM-Latency-Lens JSON result schema plus every
// distribution's encoded HDR histogram, so that files from many machines
// merge losslessly (Merge) and two runs compare with a significance test
// (Compare). FromResults builds a File from what lens.Run returned;
// WriteFile and ReadFile store and load it. RawWriter streams one record per
// request to a JSON lines file through Scenario.OnRequest.
//
// Its sub-packages hold what is not about result files: junit turns go test
// -json into JUnit XML; history, influx and pushgateway send results to a
// run history or a time-series store.
package report

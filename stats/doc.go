// Package stats holds latency distributions on HDR histograms: record, merge,
// encode, percentiles and confidence intervals.
//
// A Latency records durations, a Values records other non-negative quantities
// (tokens per second, output tokens, cost). Both keep 3 significant figures,
// merge losslessly, encode to the standard HdrHistogram V2 compressed form,
// and give distribution-free confidence intervals for their percentiles
// (PercentileInterval, from RankInterval; MinSamples says how many samples a
// bounded interval needs).
package stats

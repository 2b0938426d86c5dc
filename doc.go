// Package lens measures the latency of LLM APIs: a Scenario drives a workload
// against a Provider, and Run times every phase of every request (DNS,
// connect, TLS, first byte, first token, every later token, end) into HDR
// histograms.
//
// The metrics are defined once, here, and mean the same for every provider:
//
//   - DNS, connect, TLS: from net/http/httptrace; absent (not zero) when a
//     pooled connection was reused.
//   - TTFB: t0 (just before the request is sent) to the first byte of the
//     response headers.
//   - TTFT: t0 to the arrival of the first event that carries output text
//     (content, reasoning or tool-call arguments). Role-only chunks, pings,
//     usage-only and filter chunks do not count.
//   - ITL: one sample per gap between consecutive text-bearing events of a
//     streamed response, pooled across all requests. Events that arrive in
//     one read share a time and give a gap of 0, which is recorded.
//   - TPOT: per request, (E2E − TTFT) / (output tokens − 1), for a streamed
//     response with at least two text events and two output tokens; absent
//     otherwise (a response that is not streamed, or a stream whose text
//     came in one event, says nothing about the time between tokens).
//   - E2E: t0 to the end of the stream (or of the body).
//   - Output tokens: the server's usage when it sends one (the last, never a
//     sum), else the number of text-bearing events; the source is recorded,
//     and for a streamed response a mismatch between the two is counted.
//   - Prompt tokens: the server's usage; UnknownTokens (not zero) when the
//     usage does not report them.
//   - Tokens/s: per request, output tokens / E2E.
//   - Queue delay (open loop only): actual send − intended send. In open
//     loop latencies are also reported from the intended send, so that a
//     slow server cannot hide behind fewer requests (no coordinated
//     omission).
//   - Error rate: failed / all measured requests; every failure has an
//     ErrorClass.
//   - Goodput: the share of measured requests that met every per-request
//     SLO; a failed request is not good.
//
// Percentiles come from HDR histograms (package stats).
//
// Package lenstest runs scenarios inside go test and asserts SLOs on them;
// package config turns a configuration file into scenarios; package fake
// is an LLM server to run them against offline.
package lens

package report

import (
	"bufio"
	"fmt"
	"io"
	"iter"
	"sort"
	"time"

	"github.com/llm-latency-lens/lens"
	"github.com/llm-latency-lens/lens/stats"
)

// HistogramLogOptions configure WriteHistogramLog.
type HistogramLogOptions struct {
	// Metric is the latency to log: lens.MetricTTFT (the default),
	// MetricE2E, MetricTTFB, MetricTPOT, MetricITL (every gap of every
	// request), MetricQueueDelay, MetricDNS, MetricConnect or MetricTLS.
	Metric lens.Metric

	// Interval is the length of each logged interval (default 1s).
	Interval time.Duration

	// Tag, when set, tags every interval line ("Tag=<tag>,"); it must not
	// contain commas, spaces or line breaks.
	Tag string
}

// WriteHistogramLog writes the requests reqs yields as an HdrHistogram
// interval log, the text .hlog format (log format version 1.3) that
// HdrHistogram's HistogramLogProcessor, HistogramLogReader and plotters
// read:
//
//	#[Histogram log format version 1.3]
//	#[StartTime: 1740830400.000 (seconds since epoch), 2025-03-01T12:00:00Z]
//	#[BaseTime: 1740830400.000 (seconds since epoch)]
//	"StartTimestamp","Interval_Length","Interval_Max","Interval_Compressed_Histogram"
//	0.000,1.000,120.193,HISTFAAAA...
//
// It logs one metric, opts.Metric (TTFT by default), of the successful,
// measured (non-warmup) requests, in nanoseconds: each interval's
// histogram is a stats.Latency (1 ns to 10 minutes, 3 significant figures)
// in the V2 compressed encoding, and Interval_Max is in milliseconds (the
// format's usual value unit ratio of 1e6). Its buckets are those of
// HdrHistogram's default 1 ns, 3-digit histograms, so the intervals of a
// run's raw records add up, bucket for bucket, to the histogram its result
// file holds for the metric, and give the same percentiles (by the nearest
// rank, as hdr-histogram-js reads them). A request falls in the interval
// in which it ended (timestamp + total duration); timestamps are seconds
// from the earliest send, which is the StartTime and BaseTime. Every
// interval from the first to the last is written, empty ones too, so that
// the time axis has no holes. Nothing but the header is written when no
// request has the metric.
//
// The requests need not be in order; their values are held (8 bytes each)
// until the log is written.
func WriteHistogramLog(w io.Writer, reqs iter.Seq[*RawRequest], opts HistogramLogOptions) error {
	metric := opts.Metric
	if metric == "" {
		metric = lens.MetricTTFT
	}
	pick, ok := rawMetric(metric)
	if !ok {
		return fmt.Errorf("report: histogram log: unknown metric %q", metric)
	}
	interval := opts.Interval
	if interval <= 0 {
		interval = time.Second
	}
	for _, c := range opts.Tag {
		if c == ',' || c == ' ' || c == '\n' || c == '\r' || c == '\t' {
			return fmt.Errorf("report: histogram log: tag %q contains a comma, space or line break", opts.Tag)
		}
	}

	type sample struct {
		end time.Time
		v   []int64
	}
	var (
		samples []sample
		base    time.Time
	)
	for r := range reqs {
		if r.Warmup || r.Error != nil || r.Timestamp.IsZero() {
			continue
		}
		if base.IsZero() || r.Timestamp.Before(base) {
			base = r.Timestamp
		}
		vs := pick(r)
		if len(vs) == 0 {
			continue
		}
		samples = append(samples, sample{end: r.Timestamp.Add(time.Duration(r.Timing.TotalDurationNs)), v: vs})
	}

	bw := bufio.NewWriter(w)
	fmt.Fprintln(bw, "#[Histogram log format version 1.3]")
	if !base.IsZero() {
		start := float64(base.UnixNano()) / 1e9
		fmt.Fprintf(bw, "#[StartTime: %.3f (seconds since epoch), %s]\n", start, base.UTC().Format(time.RFC3339Nano))
		fmt.Fprintf(bw, "#[BaseTime: %.3f (seconds since epoch)]\n", start)
	}
	fmt.Fprintf(bw, "#[Metric: %s, values in nanoseconds, Interval_Max in milliseconds]\n", metric)
	fmt.Fprintln(bw, `"StartTimestamp","Interval_Length","Interval_Max","Interval_Compressed_Histogram"`)
	if len(samples) == 0 {
		return bw.Flush()
	}
	sort.SliceStable(samples, func(i, j int) bool { return samples[i].end.Before(samples[j].end) })
	tag := ""
	if opts.Tag != "" {
		tag = "Tag=" + opts.Tag + ","
	}
	index := func(t time.Time) int64 { return max(int64(t.Sub(base)/interval), 0) }
	h := stats.NewLatency()
	first, last := index(samples[0].end), index(samples[len(samples)-1].end)
	k := 0
	for i := first; i <= last; i++ {
		h.Reset()
		for ; k < len(samples) && index(samples[k].end) == i; k++ {
			for _, v := range samples[k].v {
				h.Record(time.Duration(v))
			}
		}
		enc, err := h.Encode()
		if err != nil {
			return fmt.Errorf("report: histogram log: %w", err)
		}
		startSec := float64(time.Duration(i)*interval) / 1e9
		fmt.Fprintf(bw, "%s%.3f,%.3f,%.3f,%s\n", tag, startSec, interval.Seconds(), float64(h.Max())/1e6, enc)
	}
	return bw.Flush()
}

// rawMetric returns the function that gives a raw request's values of
// metric m, in nanoseconds (none when absent).
func rawMetric(m lens.Metric) (func(*RawRequest) []int64, bool) {
	switch m {
	case lens.MetricE2E:
		return func(r *RawRequest) []int64 { return []int64{r.Timing.TotalDurationNs} }, true
	case lens.MetricQueueDelay:
		return func(r *RawRequest) []int64 { return []int64{max(r.Timing.QueueDelayNs, 0)} }, true
	case lens.MetricITL:
		return func(r *RawRequest) []int64 { return r.Timing.TokenLatenciesNs }, true
	}
	get, ok := rawPhases[m]
	if !ok {
		return nil, false
	}
	return func(r *RawRequest) []int64 {
		if p := get(&r.Timing); p != nil && *p >= 0 {
			return []int64{*p}
		}
		return nil
	}, true
}

// rawPhases locates the metrics a raw request may lack (null) in its
// timings.
var rawPhases = map[lens.Metric]func(*RawTiming) *int64{
	lens.MetricTTFT:    func(t *RawTiming) *int64 { return t.TTFTNs },
	lens.MetricTTFB:    func(t *RawTiming) *int64 { return t.TTFBNs },
	lens.MetricTPOT:    func(t *RawTiming) *int64 { return t.TPOTNs },
	lens.MetricDNS:     func(t *RawTiming) *int64 { return t.DNSLookupNs },
	lens.MetricConnect: func(t *RawTiming) *int64 { return t.TCPConnectNs },
	lens.MetricTLS:     func(t *RawTiming) *int64 { return t.TLSHandshakeNs },
}

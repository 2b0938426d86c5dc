// Package dashboard watches lens runs live: a Monitor follows the requests
// of every scenario it instruments, checks alert thresholds over a sliding
// window, and serves one web page that shows the run as it goes, updated
// every second.
//
// The page shows, per scenario: requests sent, in flight, succeeded and
// failed by class; the achieved against the asked rate; TTFT, ITL and E2E
// percentiles over the sliding window and over the whole run, as charts
// over time; output tokens per second; and each alert, red while its
// threshold is crossed, with a log of when each fired and cleared. The
// charts are the HTML report's. The page is embedded in the binary and
// needs nothing from the network: it works offline.
//
// Updates reach the browser by Server-Sent Events (see Monitor.Handler). A
// Monitor renders an update once per interval whatever the number of
// viewers, and a viewer that reads slowly only misses intermediate
// updates: viewers never hold up the requests of the run.
package dashboard

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/llm-latency-lens/lens"
	"github.com/llm-latency-lens/lens/stats"
)

// Defaults of Options.
const (
	DefaultWindow   = 10 * time.Second
	DefaultInterval = time.Second
)

// Options configure a Monitor. The zero value is usable.
type Options struct {
	// Window is the span of the sliding window over which percentiles,
	// rates and alerts are computed (default DefaultWindow, 10s; at least
	// one second, in whole seconds). The window holds the requests that
	// ended in its last Window seconds plus the second in progress.
	Window time.Duration

	// Interval is how often the page is updated and alerts are checked
	// (default DefaultInterval, 1s).
	Interval time.Duration

	// Alerts are the thresholds to watch; see Alert.
	Alerts []Alert

	// AlertLog receives one line when an alert fires and one when it
	// clears (nil: no lines). The CLI passes os.Stderr.
	AlertLog io.Writer

	// Title is the page's heading (default "LLM Latency Lens: live").
	Title string
}

// Monitor follows runs and serves their dashboard. Create it with New,
// instrument each Scenario before passing it to lens.Run, serve Handler,
// and Close it when done. Its methods are safe for concurrent use.
type Monitor struct {
	opts   Options
	window int // in seconds
	start  time.Time

	mu     sync.Mutex
	tracks []*track
	events []AlertEvent
	done   bool

	servers []*http.Server

	hub    *hub
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// New returns a Monitor with opts, checking its alerts, and starts its
// ticker: every Interval it checks the alerts and renders an update for
// the viewers of the page.
func New(opts Options) (*Monitor, error) {
	if opts.Window <= 0 {
		opts.Window = DefaultWindow
	}
	if opts.Window < time.Second {
		return nil, fmt.Errorf("dashboard: window %v: must be at least 1s", opts.Window)
	}
	if opts.Interval <= 0 {
		opts.Interval = DefaultInterval
	}
	if opts.Title == "" {
		opts.Title = "LLM Latency Lens: live"
	}
	opts.Alerts = append([]Alert(nil), opts.Alerts...)
	for i := range opts.Alerts {
		if err := opts.Alerts[i].Check(); err != nil {
			return nil, fmt.Errorf("dashboard: alerts[%d]: %w", i, err)
		}
		opts.Alerts[i].withDefaults()
	}
	ctx, cancel := context.WithCancel(context.Background())
	m := &Monitor{
		opts:   opts,
		window: int((opts.Window + time.Second - 1) / time.Second),
		start:  time.Now(),
		hub:    newHub(),
		cancel: cancel,
	}
	m.wg.Go(func() { m.tick(ctx) })
	return m, nil
}

// Close stops the ticker and ends every viewer's stream. It is safe to
// call more than once.
func (m *Monitor) Close() {
	m.cancel()
	m.hub.close()
	m.shutdown()
	m.wg.Wait()
}

// Finish marks the runs as over: the page says so, and keeps showing the
// last state (for lens-report run -hold). It also takes a last look at
// the alerts and updates the viewers.
func (m *Monitor) Finish() {
	m.mu.Lock()
	m.done = true
	m.mu.Unlock()
	m.update(time.Now())
}

// Instrument adds to sc the hooks through which m follows its requests,
// as a new scenario on the page. Hooks already set on sc still run, first.
// Call it once for each Scenario value passed to lens.Run. The function it
// returns marks the scenario finished on the page, for a Monitor that
// outlives the run (a scenario is also finished once another one is
// instrumented, or when Finish is called); calling it is optional.
func (m *Monitor) Instrument(sc *lens.Scenario) (finished func()) {
	return m.instrument(sc, m.opts.Alerts)
}

// InstrumentAlerts is Instrument with alerts that watch this scenario
// alone, judged after the Monitor's Options.Alerts and shown after them:
// a scenario's gates (see AlertFromGate) are its own. It checks every
// alert first and instruments nothing when one is invalid; the error names
// each problem by the alert's index.
func (m *Monitor) InstrumentAlerts(sc *lens.Scenario, alerts ...Alert) (finished func(), err error) {
	all := append([]Alert(nil), m.opts.Alerts...)
	for i, a := range alerts {
		if err := a.Check(); err != nil {
			return nil, fmt.Errorf("dashboard: scenario %s: alerts[%d]: %w", sc.Name, i, err)
		}
		a.withDefaults()
		all = append(all, a)
	}
	return m.instrument(sc, all), nil
}

// instrument adds to sc the hooks of a new track judging alerts.
func (m *Monitor) instrument(sc *lens.Scenario, alerts []Alert) (finished func()) {
	t := newTrack(sc, m.window, alerts)
	m.mu.Lock()
	t.id = len(m.tracks)
	m.tracks = append(m.tracks, t)
	m.mu.Unlock()
	sc.OnSend = lens.ChainHooks(sc.OnSend, t.send)
	sc.OnRequest = lens.ChainHooks(sc.OnRequest, t.done)
	return func() {
		t.mu.Lock()
		t.finished = true
		t.mu.Unlock()
	}
}

// tick updates every Interval until ctx ends.
func (m *Monitor) tick(ctx context.Context) {
	tk := time.NewTicker(m.opts.Interval)
	defer tk.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-tk.C:
			m.update(now)
		}
	}
}

// update takes a snapshot of every track at now, checks the alerts, and
// renders the page for the viewers (only when there are any).
func (m *Monitor) update(now time.Time) {
	m.mu.Lock()
	tracks := append([]*track(nil), m.tracks...)
	m.mu.Unlock()
	for _, t := range tracks {
		for _, ev := range t.tick(now) {
			m.mu.Lock()
			m.events = append(m.events, ev)
			m.mu.Unlock()
			if m.opts.AlertLog != nil {
				fmt.Fprintln(m.opts.AlertLog, ev.String())
			}
		}
	}
	if m.hub.viewers() > 0 {
		m.hub.publish(m.render(now))
	}
}

// Events returns the alert events so far, oldest first.
func (m *Monitor) Events() []AlertEvent {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]AlertEvent(nil), m.events...)
}

// metric is a latency a track keeps a window of.
type metric string

// The latency metrics a Monitor charts and alerts can watch, with the
// definitions of the lens package's metrics of the same names.
const (
	MetricTTFT    metric = "ttft"
	MetricITL     metric = "itl"
	MetricTPOT    metric = "tpot"
	MetricE2E     metric = "e2e"
	MetricTTFB    metric = "ttfb"
	MetricDNS     metric = "dns"     // requests that opened a connection only
	MetricConnect metric = "connect" // requests that opened a connection only
	MetricTLS     metric = "tls"     // requests that opened a connection only
	MetricQueue   metric = "queue"   // the queue delay
)

// watchable lists the latency metrics an Alert can watch.
var watchable = [...]metric{MetricTTFT, MetricITL, MetricTPOT, MetricE2E, MetricTTFB, MetricDNS, MetricConnect, MetricTLS, MetricQueue}

var charted = [...]metric{MetricTTFT, MetricITL, MetricE2E}

// metricsOf returns the latency metrics a track keeps: the charted ones
// and those an alert watches.
func metricsOf(alerts []Alert) []metric {
	ms := append([]metric(nil), charted[:]...)
	for _, a := range alerts {
		mt := metric(a.Metric)
		if a.Metric == MetricErrorRate {
			continue
		}
		found := false
		for _, x := range ms {
			found = found || x == mt
		}
		if !found {
			ms = append(ms, mt)
		}
	}
	return ms
}

// bucket is one second of a track: the requests that ended in it.
type bucket struct {
	sec          int64 // seconds since the track's start; -1 when unused
	sent         int64
	ok, failed   int64
	outputTokens int64
	lat          map[metric]*stats.Latency
}

func (b *bucket) reset(sec int64) {
	b.sec, b.sent, b.ok, b.failed, b.outputTokens = sec, 0, 0, 0, 0
	for _, l := range b.lat {
		l.Reset()
	}
}

// track is the live state of one scenario's run.
type track struct {
	id                    int
	name, provider, model string
	rate                  float64
	concurrency           int
	metrics               []metric
	window                int
	alertDefs             []Alert // the alerts judged on this track

	mu       sync.Mutex
	finished bool      // marked finished by its Instrument's function
	start    time.Time // first measured send
	last     time.Time // last measured end
	sent     int64     // measured requests sent
	warmup   int64     // warmup requests sent
	inFlight int64     // requests sent and not ended, warmup included
	ok       int64
	failed   map[lens.ErrorClass]int64
	tokens   int64
	whole    map[metric]*stats.Latency
	ring     []bucket
	ticks    []lens.Tick
	series   []point                   // one per sample
	alerts   []alertState              // by alertDefs' index
	scratch  map[metric]*stats.Latency // windowAt's result, reused
	win      window                    // the window at the last tick
}

// point is one sample of a track's percentiles: over the window (win) and
// the whole run (all), by metric, at p50, p95 and p99.
type point struct {
	at       time.Duration
	win, all [len(charted)][3]time.Duration // by charted metric, then percentile
}

// chartPercentiles are the percentiles a point holds.
var chartPercentiles = [3]float64{50, 95, 99}

func newTrack(sc *lens.Scenario, window int, alerts []Alert) *track {
	metrics := metricsOf(alerts)
	t := &track{
		name:        sc.Name,
		model:       sc.Model,
		rate:        sc.Rate,
		concurrency: sc.Concurrency,
		metrics:     metrics,
		window:      window,
		failed:      map[lens.ErrorClass]int64{},
		whole:       map[metric]*stats.Latency{},
		ring:        make([]bucket, window+1),
		alertDefs:   alerts,
		alerts:      make([]alertState, len(alerts)),
	}
	if sc.Provider != nil {
		t.provider = sc.Provider.Name()
	}
	if t.name == "" {
		t.name = "(unnamed)"
	}
	if sc.Rate <= 0 && t.concurrency <= 0 {
		t.concurrency = lens.DefaultConcurrency
	}
	for _, mt := range metrics {
		t.whole[mt] = stats.NewLatency()
	}
	for i := range t.ring {
		t.ring[i].sec = -1
		t.ring[i].lat = map[metric]*stats.Latency{}
		for _, mt := range metrics {
			t.ring[i].lat[mt] = stats.NewLatency()
		}
	}
	return t
}

// bucketAt returns the ring's bucket of second sec, recycling the one it
// takes over. Called with t.mu held.
func (t *track) bucketAt(sec int64) *bucket {
	b := &t.ring[sec%int64(len(t.ring))]
	if b.sec != sec {
		b.reset(sec)
	}
	return b
}

// secOf returns the second of the track's clock that at falls in, starting
// the clock at the first measured request. Called with t.mu held.
func (t *track) secOf(at time.Time) int64 {
	if t.start.IsZero() {
		t.start = at
	}
	return max(int64(at.Sub(t.start)/time.Second), 0)
}

func (t *track) send(r *lens.RequestMetrics) {
	now := time.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	t.inFlight++
	if r.Warmup {
		t.warmup++
		return
	}
	t.sent++
	t.bucketAt(t.secOf(now)).sent++
}

func (t *track) done(r *lens.RequestMetrics) { t.doneAt(r, time.Now()) }

// doneAt records the end of r at now.
func (t *track) doneAt(r *lens.RequestMetrics, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.inFlight--
	if r.Warmup {
		return
	}
	sec := t.secOf(now)
	t.last = now
	b := t.bucketAt(sec)
	for int64(len(t.ticks)) <= sec {
		t.ticks = append(t.ticks, lens.Tick{})
	}
	tk := &t.ticks[sec]
	tk.Requests++
	if !r.OK() {
		t.failed[r.Class]++
		b.failed++
		tk.Failed++
		return
	}
	t.ok++
	b.ok++
	t.tokens += int64(r.OutputTokens)
	b.outputTokens += int64(r.OutputTokens)
	tk.OutputTokens += int64(r.OutputTokens)
	for _, mt := range t.metrics {
		if mt == MetricITL {
			for _, g := range r.ITLs {
				b.lat[mt].Record(g)
				t.whole[mt].Record(g)
			}
			continue
		}
		if d, ok := r.Latency(lens.Metric(mt)); ok {
			b.lat[mt].Record(d)
			t.whole[mt].Record(d)
		}
	}
}

// windowAt merges the buckets of the window that ends at now: the second
// in progress and the window's full seconds before it, so that the window
// spans from Window to Window plus one second. It returns the merged
// latencies (valid until the next call), the counts and the span in
// seconds they cover. Called with t.mu held.
func (t *track) windowAt(now time.Time) (lat map[metric]*stats.Latency, sent, ok, failed, tokens int64, span float64) {
	if t.scratch == nil {
		t.scratch = map[metric]*stats.Latency{}
		for _, mt := range t.metrics {
			t.scratch[mt] = stats.NewLatency()
		}
	}
	lat = t.scratch
	for _, l := range lat {
		l.Reset()
	}
	if t.start.IsZero() {
		return lat, 0, 0, 0, 0, 0
	}
	cur := max(int64(now.Sub(t.start)/time.Second), 0)
	lo := cur - int64(t.window)
	for i := range t.ring {
		b := &t.ring[i]
		if b.sec < 0 || b.sec < lo || b.sec > cur {
			continue
		}
		sent += b.sent
		ok += b.ok
		failed += b.failed
		tokens += b.outputTokens
		for _, mt := range t.metrics {
			_ = lat[mt].Merge(b.lat[mt])
		}
	}
	// The window covers from max(start, start + lo seconds) to now.
	from := t.start.Add(time.Duration(max(lo, 0)) * time.Second)
	span = now.Sub(from).Seconds()
	return lat, sent, ok, failed, tokens, span
}

// tick recomputes the window at now, appends a point of the
// percentiles to the charts' series, judges the alerts, and returns the
// events of those that changed state. The page and the state read the
// window it computed: one merge of the window's buckets per interval,
// whatever the number of viewers.
func (t *track) tick(now time.Time) []AlertEvent {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.start.IsZero() {
		return nil
	}
	lat := t.refresh(now)
	p := point{at: now.Sub(t.start)}
	for i, mt := range charted {
		p.win[i] = t.win.pct[mt]
		p.all[i] = percentiles(t.whole[mt])
	}
	if n := len(t.series); n == 0 || t.series[n-1].at < p.at {
		t.series = append(t.series, p)
	}
	return t.checkAlerts(lat, now)
}

// window is the state of the sliding window at one time.
type window struct {
	valid                    bool
	sent, ok, failed, tokens int64
	span                     float64 // seconds
	pct                      map[metric][3]time.Duration
	count                    map[metric]int64
}

// refresh recomputes t.win at now and returns the window's latencies
// (valid until the next call). Called with t.mu held.
func (t *track) refresh(now time.Time) map[metric]*stats.Latency {
	lat, sent, ok, failed, tokens, span := t.windowAt(now)
	w := window{valid: true, sent: sent, ok: ok, failed: failed, tokens: tokens, span: span,
		pct: map[metric][3]time.Duration{}, count: map[metric]int64{}}
	for _, mt := range t.metrics {
		w.pct[mt] = percentiles(lat[mt])
		w.count[mt] = lat[mt].Count()
	}
	t.win = w
	return lat
}

// current returns the last window computed, computing one at now if
// there is none yet. Called with t.mu held.
func (t *track) current(now time.Time) window {
	if !t.win.valid {
		t.refresh(now)
	}
	return t.win
}

// percentiles returns l's p50, p95 and p99, or -1 each when l is empty.
func percentiles(l *stats.Latency) [3]time.Duration {
	var out [3]time.Duration
	for i, p := range chartPercentiles {
		if l.Count() == 0 {
			out[i] = -1
		} else {
			out[i] = l.Percentile(p)
		}
	}
	return out
}

// failedClasses returns the failure counts sorted by class.
func failedClasses(m map[lens.ErrorClass]int64) []classCount {
	out := make([]classCount, 0, len(m))
	for c, n := range m {
		out = append(out, classCount{string(c), n})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Class < out[j].Class })
	return out
}

type classCount struct {
	Class string
	N     int64
}

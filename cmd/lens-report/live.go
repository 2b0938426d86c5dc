package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/llm-latency-lens/lens"
	"github.com/llm-latency-lens/lens/config"
	"github.com/llm-latency-lens/lens/dashboard"
	"github.com/llm-latency-lens/lens/tracing"
	"github.com/llm-latency-lens/lens/verdict"
)

// liveRun is what watches a run as it goes: the dashboard and its alerts,
// and the OpenTelemetry export. Its zero value watches nothing.
type liveRun struct {
	monitor *dashboard.Monitor
	url     string
	hold    bool
	tp      *sdktrace.TracerProvider
}

// holdUntilInterrupted waits, after the run, for Ctrl-C (or SIGTERM) while
// the dashboard at url is held. Tests replace it.
var holdUntilInterrupted = func(url string) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
}

// startLive starts what the configuration and flags ask for: a monitor
// when there is an address to serve or an alert to judge (alerts, the
// dashboard's and the scenarios' gates, are reported on stderr either
// way), and a tracer provider when
// output.tracing is enabled or the OTEL_EXPORTER_OTLP_* environment names
// an endpoint.
func startLive(ctx context.Context, cfg *config.File, o runOptions) (*liveRun, error) {
	l := &liveRun{}
	d := cfg.Dashboard
	addr := o.serve
	if addr == "" {
		addr = d.Listen
	}
	l.hold = o.hold || d.Hold
	if l.hold && addr == "" {
		return nil, &exitError{code: 2, msg: "-hold needs a dashboard to hold: add -serve ADDR (or dashboard.listen)"}
	}
	if addr != "" || len(d.Alerts) > 0 {
		opts := dashboard.Options{AlertLog: current.err, Window: time.Duration(d.WindowSecs) * time.Second}
		for _, a := range d.Alerts {
			opts.Alerts = append(opts.Alerts, a.DashboardAlert())
		}
		m, err := dashboard.New(opts)
		if err != nil {
			return nil, &exitError{code: 2, msg: err.Error()}
		}
		l.monitor = m
		if addr != "" {
			if l.url, err = m.Serve(addr); err != nil {
				// A bad address, or one taken: refused before the run.
				m.Close()
				return nil, &exitError{code: 2, msg: fmt.Sprintf("dashboard address %s: %v", addr, err)}
			}
			fmt.Fprintf(current.err, "dashboard: %s\n", l.url)
		}
	}
	t := cfg.Output.Tracing
	if t.Enabled || tracing.EnvConfigured() {
		opts := tracing.Options{Endpoint: t.Endpoint, ServiceName: t.ServiceName}
		if len(t.Headers) > 0 {
			opts.Headers = map[string]string{}
			for k, v := range t.Headers {
				opts.Headers[k] = v.Value()
			}
		}
		tp, err := tracing.NewProvider(ctx, opts)
		if err != nil {
			l.close()
			return nil, &exitError{code: 2, msg: err.Error()}
		}
		l.tp = tp
		fmt.Fprintln(current.err, "tracing: a span per request, exported over OTLP/HTTP")
	}
	return l, nil
}

// instrument adds the monitor's and the tracer's hooks to sc. On the
// dashboard, each of the scenario's gates is an alert of the scenario; a
// gate the dashboard cannot watch is said on stderr, and is still judged
// at the end of the run.
func (l *liveRun) instrument(sc *lens.Scenario, gates []verdict.Gate) error {
	if l.monitor != nil {
		var alerts []dashboard.Alert
		for _, g := range gates {
			a, err := dashboard.AlertFromGate(g)
			if err != nil {
				fmt.Fprintf(current.err, "%v (scenario %s): not watched live, judged at the end of the run\n", err, sc.Name)
				continue
			}
			alerts = append(alerts, a)
		}
		if _, err := l.monitor.InstrumentAlerts(sc, alerts...); err != nil {
			return err
		}
	}
	if l.tp != nil {
		tracing.Instrument(sc, l.tp)
	}
	return nil
}

// finish marks the run over on the dashboard, exports the spans still
// buffered, and with -hold keeps serving until Ctrl-C.
func (l *liveRun) finish() {
	if l.tp != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if err := l.tp.ForceFlush(ctx); err != nil {
			fmt.Fprintf(current.err, "tracing: %v\n", err)
		}
		cancel()
	}
	if l.monitor == nil {
		return
	}
	l.monitor.Finish()
	if l.hold && l.url != "" {
		fmt.Fprintf(current.err, "dashboard: the run is over; still serving %s until Ctrl-C\n", l.url)
		holdUntilInterrupted(l.url)
	}
}

// close stops the dashboard and the tracer provider.
func (l *liveRun) close() {
	if l.monitor != nil {
		l.monitor.Close()
	}
	if l.tp != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if err := l.tp.Shutdown(ctx); err != nil {
			fmt.Fprintf(current.err, "tracing: %v\n", err)
		}
		cancel()
	}
}

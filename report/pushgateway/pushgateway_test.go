package pushgateway_test

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/llm-latency-lens/lens/report"
	"github.com/llm-latency-lens/lens/report/pushgateway"
)

// results reads a file of two results: a priced streaming chat with
// rate-limited failures (scenario chat, model gpt-4o-mini), and a
// non-streaming batch (scenario batch, model local-llama, 30 requests).
func results(t *testing.T) *report.File {
	t.Helper()
	f, err := report.ReadFile("testdata/results.json")
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestPushGroupingConflict(t *testing.T) {
	// The conflict is found before anything is sent: nothing listens here.
	err := pushgateway.Push(t.Context(), "http://127.0.0.1:1", "lens", results(t), map[string]string{"model": "x"})
	if err == nil || !strings.Contains(err.Error(), "grouping label model") {
		t.Errorf("grouping on a series label: err = %v", err)
	}
}

// TestPush pushes to a real Pushgateway and reads the series back, with
// the job and grouping labels; a second push replaces the group.
func TestPush(t *testing.T) {
	url := startPushgateway(t)
	f := results(t)
	grouping := map[string]string{"instance": "ci-runner-7", "branch": "main"}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := pushgateway.Push(ctx, url, "lens-ci", f, grouping); err != nil {
		t.Fatal(err)
	}

	mfs := scrape(t, url)
	labels := func(scenario, modelName string, extra ...string) map[string]string {
		l := map[string]string{"scenario": scenario, "provider": "openai", "model": modelName,
			"job": "lens-ci", "instance": "ci-runner-7", "branch": "main"}
		for i := 0; i+1 < len(extra); i += 2 {
			l[extra[i]] = extra[i+1]
		}
		return l
	}
	chat := &f.Scenarios[0].Results[0]
	m := series(mfs["llm_ttft_seconds"], labels("chat", "gpt-4o-mini"))
	if m == nil {
		t.Fatalf("the Pushgateway has no llm_ttft_seconds for the chat result with the job and grouping labels; it has %v", mfs["llm_ttft_seconds"])
	}
	var p99 *float64
	for _, q := range m.GetSummary().GetQuantile() {
		if q.GetQuantile() == 0.99 {
			p99 = q.Value
		}
	}
	if p99 == nil || *p99 != chat.Metrics.Latency.TTFT.P99/1000 {
		t.Errorf("llm_ttft_seconds{quantile=0.99} = %v, want %v", p99, chat.Metrics.Latency.TTFT.P99/1000)
	}
	for _, c := range []struct {
		family string
		labels map[string]string
		want   float64
	}{
		{"llm_requests_total", labels("chat", "gpt-4o-mini", "outcome", "failure"), float64(chat.Metrics.FailedRequests)},
		{"llm_request_errors_total", labels("chat", "gpt-4o-mini", "error_class", "rate_limited"), float64(chat.Metrics.FailedRequests)},
		{"llm_requests_total", labels("batch", "local-llama", "outcome", "success"), 30},
	} {
		m := series(mfs[c.family], c.labels)
		if m == nil {
			t.Errorf("%s%v is missing from the Pushgateway", c.family, c.labels)
		} else if v := m.GetCounter().GetValue(); v != c.want {
			t.Errorf("%s%v = %v, want %v", c.family, c.labels, v, c.want)
		}
	}

	// A push replaces the group: a result no longer in the file is gone.
	f.Scenarios = f.Scenarios[:1]
	if err := pushgateway.Push(ctx, url, "lens-ci", f, grouping); err != nil {
		t.Fatal(err)
	}
	mfs = scrape(t, url)
	if series(mfs["llm_ttft_seconds"], labels("chat", "gpt-4o-mini")) == nil {
		t.Error("after the second push, the chat result is missing")
	}
	if m := series(mfs["llm_requests_total"], labels("batch", "local-llama")); m != nil {
		t.Errorf("after a push without it, the batch result is still there: %v", m)
	}
}

func TestPushRefused(t *testing.T) {
	url := startPushgateway(t)
	// A path the Pushgateway does not serve answers 404.
	err := pushgateway.Push(t.Context(), url+"/nonexistent-prefix", "lens", results(t), nil)
	if err == nil {
		t.Fatal("push to a path the Pushgateway does not serve: no error")
	}
	if !strings.Contains(err.Error(), "404") {
		t.Errorf("the error does not carry the Pushgateway's answer: %v", err)
	}
}

// series returns the metric of mf whose labels include every label of
// want, or nil.
func series(mf *dto.MetricFamily, want map[string]string) *dto.Metric {
	for _, m := range mf.GetMetric() {
		have := map[string]string{}
		for _, l := range m.GetLabel() {
			have[l.GetName()] = l.GetValue()
		}
		ok := true
		for k, v := range want {
			ok = ok && have[k] == v
		}
		if ok {
			return m
		}
	}
	return nil
}

// scrape reads every metric family the Pushgateway at url exposes.
func scrape(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	client := &http.Client{Timeout: 5 * time.Second}
	defer client.CloseIdleConnections()
	resp, err := client.Get(url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s/metrics: %s", url, resp.Status)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse the text exposition: %v", err)
	}
	return mfs
}

// pushgateway is where Debian's prometheus-pushgateway package installs the
// Pushgateway.
const pushgatewayBin = "/usr/bin/prometheus-pushgateway"

// lockedBuffer is a bytes.Buffer safe for a process's output and a test's
// reads at once.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// startPushgateway starts a Pushgateway without persistence on a free
// loopback port, waits until it is ready, and returns its URL. It is killed
// when the test ends.
func startPushgateway(t *testing.T) string {
	t.Helper()
	if _, err := os.Stat(pushgatewayBin); err != nil {
		t.Skipf("Pushgateway test skipped: %s not found (Debian: apt-get install -y prometheus-pushgateway)", pushgatewayBin)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()

	var log lockedBuffer
	cmd := exec.Command(pushgatewayBin, "--web.listen-address="+addr)
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatalf("start the Pushgateway: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("Pushgateway log:\n%s", log.String())
		}
	})

	url := "http://" + addr
	client := &http.Client{Timeout: time.Second}
	defer client.CloseIdleConnections()
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := client.Get(url + "/-/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return url
			}
		}
		select {
		case err := <-exited:
			exited <- err // for the cleanup
			t.Fatalf("the Pushgateway exited: %v\n%s", err, log.String())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("the Pushgateway at %s is not ready after 20s: %v\n%s", addr, err, log.String())
		}
	}
}

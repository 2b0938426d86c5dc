package pushgateway_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
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

// TestPush pushes to a real Pushgateway and reads back every series of the
// file's metrics (report.NewPrometheusCollector), with its value and the
// job and grouping labels; a second push replaces the group.
func TestPush(t *testing.T) {
	url := startPushgateway(t)
	f := results(t)
	grouping := map[string]string{"job": "lens-ci", "instance": "ci-runner-7", "branch": "main"}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	for _, scenarios := range []int{2, 1} {
		// The second push, of the first scenario only, replaces the group.
		f.Scenarios = f.Scenarios[:scenarios]
		if err := pushgateway.Push(ctx, url, "lens-ci", f, map[string]string{"instance": "ci-runner-7", "branch": "main"}); err != nil {
			t.Fatal(err)
		}
		reg := prometheus.NewPedanticRegistry()
		reg.MustRegister(report.NewPrometheusCollector(f))
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		byName := map[string]*dto.MetricFamily{}
		for _, mf := range mfs {
			byName[mf.GetName()] = mf
		}
		want := seriesOf(t, byName, nil)
		got := seriesOf(t, scrape(t, url), grouping)
		batch := 0
		for key := range want {
			if strings.Contains(key, "scenario=batch") {
				batch++
			}
		}
		if len(want) == 0 || (batch > 0) != (scenarios == 2) {
			t.Fatalf("push %d: the file's metrics have %d series, %d of the batch result", 3-scenarios, len(want), batch)
		}
		for key, w := range want {
			if g, ok := got[key]; !ok {
				t.Errorf("push %d: %s is missing from the Pushgateway (with job and grouping labels)", 3-scenarios, key)
			} else if g != w {
				t.Errorf("push %d: %s = %s, want %s", 3-scenarios, key, g, w)
			}
		}
		for key := range got {
			if _, ok := want[key]; !ok && strings.HasPrefix(key, "llm_") {
				t.Errorf("push %d: the Pushgateway has %s, which the file does not", 3-scenarios, key)
			}
		}
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

// A push refused by a Pushgateway whose URL carries a password says so
// without the password: the client library's own error names the URL as
// given.
func TestPushRefusedHidesPassword(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no", http.StatusInternalServerError)
	}))
	defer srv.Close()
	const pass = "s3cret-p%ss"
	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword("ci", pass)
	err = pushgateway.Push(t.Context(), u.String(), "lens", results(t), nil)
	if err == nil {
		t.Fatal("a refused push gave no error")
	}
	for _, secret := range []string{pass, url.PathEscape(pass), url.QueryEscape(pass), u.String()} {
		if strings.Contains(err.Error(), secret) {
			t.Errorf("the error shows the password (%q): %v", secret, err)
		}
	}
	if !strings.Contains(err.Error(), "500") || !strings.Contains(err.Error(), "ci:xxxxx@") {
		t.Errorf("the error does not say what was refused, and where: %v", err)
	}
}

// seriesOf returns each series of mfs that carries the labels of group,
// as "name{label=value,...}" without those labels, and its value as text.
func seriesOf(t *testing.T, mfs map[string]*dto.MetricFamily, group map[string]string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for name, mf := range mfs {
	metrics:
		for _, m := range mf.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				if want, grouped := group[l.GetName()]; !grouped {
					labels = append(labels, l.GetName()+"="+l.GetValue())
				} else if l.GetValue() != want {
					continue metrics
				}
			}
			m.Label, m.TimestampMs = nil, nil
			out[name+"{"+strings.Join(labels, ",")+"}"] = m.String()
		}
	}
	return out
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
		t.Fatalf("parse the Pushgateway's exposition: %v", err)
	}
	return mfs
}

// pushgatewayBin is where Debian's prometheus-pushgateway package installs the
// Pushgateway.
const pushgatewayBin = "/usr/bin/prometheus-pushgateway"

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

	logFile, err := os.Create(filepath.Join(t.TempDir(), "pushgateway.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close() // the process has its own descriptor
	log := func() string { b, _ := os.ReadFile(logFile.Name()); return string(b) }
	cmd := exec.Command(pushgatewayBin, "--web.listen-address="+addr)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatalf("start the Pushgateway: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("Pushgateway log:\n%s", log())
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
			t.Fatalf("the Pushgateway exited: %v\n%s", err, log())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("the Pushgateway at %s is not ready after 20s: %v\n%s", addr, err, log())
		}
	}
}

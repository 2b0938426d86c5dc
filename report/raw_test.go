package report

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/llm-latency-lens/lens"
	"github.com/llm-latency-lens/lens/internal/faketest"
	"github.com/llm-latency-lens/lens/providers"
	"github.com/llm-latency-lens/lens/stats"
)

func TestRawWriterRun(t *testing.T) {
	for _, warmup := range []bool{false, true} {
		path := filepath.Join(t.TempDir(), "raw.jsonl")
		rw, err := CreateRawFile(path)
		if err != nil {
			t.Fatal(err)
		}
		rw.Warmup = warmup
		sc := lens.Scenario{Name: "chat", Model: "gpt-4o-mini", Requests: 80, Concurrency: 8, Warmup: 4}
		sc.OnRequest = rw.OnRequest(&lens.Scenario{Name: "chat", Model: "gpt-4o-mini", Provider: &providers.OpenAI{}})
		res := faketest.Run(t, fakeConfig(7), sc)
		if err := rw.Close(); err != nil {
			t.Fatal(err)
		}
		fh, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		recs, err := ReadRaw(fh)
		fh.Close()
		if err != nil {
			t.Fatal(err)
		}
		want := 80
		if warmup {
			want += 4
		}
		if len(recs) != want || rw.Count() != int64(want) {
			t.Fatalf("warmup=%v: %d records (Count %d), want %d", warmup, len(recs), rw.Count(), want)
		}
		ttft, e2e, itl := stats.NewLatency(), stats.NewLatency(), stats.NewLatency()
		var ok, warm int64
		var cost float64
		seqs := map[int64]bool{}
		for _, r := range recs {
			if seqs[r.Seq] {
				t.Errorf("seq %d twice", r.Seq)
			}
			seqs[r.Seq] = true
			if r.Warmup {
				warm++
				continue
			}
			if r.Scenario != "chat" || r.Provider != "openai" || r.Model != "gpt-4o-mini" || !strings.HasPrefix(r.RequestID, "chat/openai/gpt-4o-mini/") {
				t.Fatalf("record names: %+v", r)
			}
			if r.Status != "success" || r.Error != nil || r.Cost == nil {
				t.Fatalf("record %s: status %s error %v cost %v", r.RequestID, r.Status, r.Error, r.Cost)
			}
			ok++
			cost += r.Cost.TotalCost
			ttft.Record(time.Duration(*r.Timing.TTFTNs))
			e2e.Record(time.Duration(r.Timing.TotalDurationNs))
			for _, d := range r.Timing.TokenLatenciesNs {
				itl.Record(time.Duration(d))
			}
			if r.Tokens.CompletionTokens != 8 || r.Tokens.PromptTokens == nil || r.Tokens.TotalTokens == nil ||
				*r.Tokens.TotalTokens != *r.Tokens.PromptTokens+8 {
				t.Errorf("record %s tokens %+v", r.RequestID, r.Tokens)
			}
		}
		if ok != res.Succeeded || (warmup && warm != 4) {
			t.Errorf("%d successful records (%d warmup), result has %d", ok, warm, res.Succeeded)
		}
		// The records hold exactly what the result's histograms hold.
		for _, c := range []struct {
			name      string
			got, want *stats.Latency
		}{{"ttft", ttft, res.TTFT}, {"e2e", e2e, res.E2E}, {"itl", itl, res.ITL}} {
			if c.got.Count() != c.want.Count() {
				t.Fatalf("%s: %d samples in the records, %d in the result", c.name, c.got.Count(), c.want.Count())
			}
			for p := 0.0; p <= 100; p += 0.5 {
				if g, w := c.got.Percentile(p), c.want.Percentile(p); g != w {
					t.Fatalf("%s p%g: records %v, result %v", c.name, p, g, w)
				}
			}
		}
		if math.Abs(cost-res.TotalCost()) > 1e-12 {
			t.Errorf("records cost %g, result %g", cost, res.TotalCost())
		}

		// Embedded in the result file, the records survive a round trip.
		f, err := FromResults([]*lens.Result{res}, Metadata{})
		if err != nil {
			t.Fatal(err)
		}
		fh, _ = os.Open(path)
		err = EmbedRaw(f, fh)
		fh.Close()
		if err != nil {
			t.Fatal(err)
		}
		g, _ := roundTrip(t, f)
		if len(g.RawRequests) != want || g.RawRequests[3].RequestID != recs[3].RequestID || len(g.RawRequests[3].Timing.TokenLatenciesNs) != len(recs[3].Timing.TokenLatenciesNs) {
			t.Errorf("embedded raw requests: %d, want %d", len(g.RawRequests), want)
		}
	}
}

func TestRawNewRequestAbsentAndErrors(t *testing.T) {
	m := &lens.RequestMetrics{
		Seq: 3, Start: time.Unix(100, 0), Intended: time.Unix(99, 0), QueueDelay: time.Second,
		DNS: lens.Absent, Connect: lens.Absent, TLS: lens.Absent, Wrote: 10, TTFB: lens.Absent,
		TTFT: lens.Absent, TPOT: lens.Absent, E2E: 2 * time.Second, Attempts: 2,
		Class: lens.ClassRateLimited, Err: errString("429 slow down"), StatusCode: 429,
	}
	r := NewRawRequest(m, "s", "p", "m", nil)
	if r.Timing.DNSLookupNs != nil || r.Timing.TTFTNs != nil || r.Timing.TPOTNs != nil || r.Timing.RequestSendNs == nil {
		t.Errorf("absent timings: %+v", r.Timing)
	}
	if r.Cost != nil {
		t.Errorf("unpriced cost %+v", r.Cost)
	}
	if r.Status != "rate_limited" || r.Error == nil || r.Error.Code != "rate_limited" || r.Error.Message != "429 slow down" || r.Error.RetryAttempt != 2 || r.Error.StatusCode != 429 {
		t.Errorf("error record: %s %+v", r.Status, r.Error)
	}
}

type errString string

func (e errString) Error() string { return string(e) }

func TestRawWriterConcurrent(t *testing.T) {
	var buf bytes.Buffer
	rw := NewRawWriter(&buf)
	on := rw.OnRequest(&lens.Scenario{Name: "c", Model: "gpt-4o"})
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				m := &lens.RequestMetrics{Seq: int64(g*1000 + i), Start: time.Unix(1, 0), E2E: time.Millisecond,
					ITLs: make([]time.Duration, i%50), OutputTokens: 3, Attempts: 1}
				on(m)
			}
		}()
	}
	wg.Wait()
	if err := rw.Flush(); err != nil {
		t.Fatal(err)
	}
	recs, err := ReadRaw(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 3200 {
		t.Fatalf("%d records, want 3200", len(recs))
	}
	if err := rw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := rw.Write(&recs[0]); err == nil {
		t.Error("write after Close: no error")
	}
}

func TestRawReaderErrors(t *testing.T) {
	in := `{"request_id":"a","seq":1}` + "\n\n" + `{"request_id":"b","seq":2}` + "\n" + `{"request_id":` + "\n"
	rr := NewRawReader(strings.NewReader(in))
	n := 0
	for rr.Scan() {
		n++
	}
	if n != 2 || rr.Err() == nil || !strings.Contains(rr.Err().Error(), "line 4") {
		t.Errorf("%d records, error %v; want 2 and an error on line 4", n, rr.Err())
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, os.ErrClosed }

func TestRawWriterKeepsFirstError(t *testing.T) {
	rw := NewRawWriter(failingWriter{})
	rec := RawRequest{RequestID: "x", Timing: RawTiming{TokenLatenciesNs: make([]int64, 100000)}}
	for range 3 {
		rw.Write(&rec)
	}
	if err := rw.Flush(); err == nil {
		t.Fatal("Flush: no error from a failing writer")
	}
	if rw.Err() == nil {
		t.Error("Err is nil after a failed write")
	}
}

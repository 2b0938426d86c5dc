package conformance

import (
	"context"
	"io"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/anthropics/anthropic-sdk-go"
	anthropicoption "github.com/anthropics/anthropic-sdk-go/option"
	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/llm-latency-lens/lens"
)

// This file measures what lens.Transport costs an application: the
// official SDK's streaming call through the transport against the bare
// SDK, over the same bytes, served from memory one SSE event per Read (as
// a network delivers a paced stream), so that nothing but the SDK and the
// transport takes time.
//
//	go test -run '^$' -bench TransportOverhead -benchtime 200x -count 5 .
//
// One op is one call streaming benchChunks content events through each;
// the calls alternate, bare and measured, so that each measured call has
// a bare one beside it. bare-ns/chunk is the bare call's median time per
// content event, overhead-ns/chunk the median over pairs of the measured
// call's extra time per event, and overhead-% that as a share of the bare
// time;
// overhead-cpu-% is the same in the process's CPU time, which the load of
// other processes on a shared machine moves far less than wall time.

// memStream answers every request with body, a 200 event stream, whose
// Reads return one SSE event at a time.
type memStream struct{ body string }

func (m memStream) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		req.Body.Close()
	}
	return &http.Response{
		StatusCode: http.StatusOK, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header:        http.Header{"Content-Type": {"text/event-stream"}, "X-Request-Id": {"req_bench"}},
		Body:          io.NopCloser(&eventReader{rest: m.body}), // one event per Read
		ContentLength: -1,
		Request:       req,
	}, nil
}

// overheadSDK is one SDK's streaming call over a memStream.
type overheadSDK struct {
	name string
	body string
	call func(c *http.Client) (chunks int)
}

var overheadSDKs = []overheadSDK{
	{"openai-go", string(streamBody(openAIRole, openAIContent, openAIEnd, benchChunks)), func(c *http.Client) int {
		client := openai.NewClient(option.WithBaseURL("http://mem.test/v1"), option.WithAPIKey(testKey), option.WithHTTPClient(c), option.WithMaxRetries(0))
		params := chatParams("gpt-4o-mini", 0)
		params.StreamOptions.IncludeUsage = openai.Bool(true)
		s := client.Chat.Completions.NewStreaming(context.Background(), params)
		n := 0
		for s.Next() {
			if c := s.Current(); len(c.Choices) > 0 && c.Choices[0].Delta.Content != "" {
				n++
			}
		}
		if s.Err() != nil {
			panic(s.Err())
		}
		s.Close()
		return n
	}},
	{"anthropic-sdk-go", string(streamBody(anthropicStart, anthropicContent, anthropicEnd, benchChunks)), func(c *http.Client) int {
		client := anthropic.NewClient(anthropicoption.WithoutEnvironmentDefaults(), anthropicoption.WithBaseURL("http://mem.test"),
			anthropicoption.WithAPIKey(testKey), anthropicoption.WithHTTPClient(c), anthropicoption.WithMaxRetries(0))
		s := client.Messages.NewStreaming(context.Background(), messageParams(0))
		n := 0
		for s.Next() {
			if ev := s.Current(); ev.Type == "content_block_delta" {
				n++
			}
		}
		if s.Err() != nil {
			panic(s.Err())
		}
		s.Close()
		return n
	}},
}

// BenchmarkTransportOverhead runs each SDK's streaming call bare and
// through lens.Transport, alternating call by call so that both see the
// same machine, and reports each one's time per content event and the
// transport's overhead as a share of the bare SDK's time.
func BenchmarkTransportOverhead(b *testing.B) {
	for _, sdk := range overheadSDKs {
		b.Run(sdk.name, func(b *testing.B) {
			base := memStream{body: sdk.body}
			bare := &http.Client{Transport: base}
			tr := &lens.Transport{Base: base}
			measured := tr.Client()
			if n := sdk.call(measured); n != benchChunks {
				b.Fatalf("%d content events through the transport, want %d", n, benchChunks)
			}
			// The i-th call of each side is a pair: they ran back to back,
			// and the median over pairs, not the sum, takes no account of
			// the calls that another process's burst of load slowed.
			tBare, tLens := make([]time.Duration, b.N), make([]time.Duration, b.N)
			cBare, cLens := make([]time.Duration, b.N), make([]time.Duration, b.N)
			var aBare, aLens uint64
			var ms runtime.MemStats
			// call makes one call through c and sets its wall time and CPU
			// time in *t and *cpu, and adds its allocations to *allocs.
			call := func(c *http.Client, t, cpu *time.Duration, allocs *uint64) {
				runtime.ReadMemStats(&ms)
				a0 := ms.Mallocs
				start, c0 := time.Now(), processCPU()
				sdk.call(c)
				*t = time.Since(start)
				*cpu = processCPU() - c0
				runtime.ReadMemStats(&ms)
				*allocs += ms.Mallocs - a0
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				// Bare and measured alternate which goes first, so that
				// neither always follows the other's garbage.
				if i%2 == 0 {
					call(bare, &tBare[i], &cBare[i], &aBare)
					call(measured, &tLens[i], &cLens[i], &aLens)
				} else {
					call(measured, &tLens[i], &cLens[i], &aLens)
					call(bare, &tBare[i], &cBare[i], &aBare)
				}
			}
			b.StopTimer()
			res := tr.Result()
			if res.Succeeded != int64(b.N)+1 || res.OutputTokensTotal == 0 {
				b.Fatalf("the transport measured %d calls (%v), want %d", res.Succeeded, res.ErrorSamples, b.N+1)
			}
			perChunk := func(d time.Duration) float64 { return float64(d) / benchChunks }
			report := func(bare, lens []time.Duration, unit string) {
				mBare, added := median(bare), medianDiff(lens, bare)
				b.ReportMetric(perChunk(mBare), "bare-"+unit)
				b.ReportMetric(perChunk(added), "overhead-"+unit)
				b.ReportMetric(100*float64(added)/float64(mBare), strings.TrimSuffix("overhead-"+unit, "ns/chunk")+"%")
			}
			report(tBare, tLens, "ns/chunk")
			b.ReportMetric(float64(aLens-aBare)/float64(b.N), "lens-allocs/call")
			// CPU time, the process's: on a shared machine, other
			// processes' load moves wall time far more than CPU time.
			if median(cBare) > 0 {
				report(cBare, cLens, "cpu-ns/chunk")
			}
		})
	}
}

// median returns the median of d.
func median(d []time.Duration) time.Duration {
	d = slices.Clone(d)
	slices.Sort(d)
	return d[len(d)/2]
}

// medianDiff returns the median of a[i]-b[i].
func medianDiff(a, b []time.Duration) time.Duration {
	diff := make([]time.Duration, len(a))
	for i := range a {
		diff[i] = a[i] - b[i]
	}
	return median(diff)
}

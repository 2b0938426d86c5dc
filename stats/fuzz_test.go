package stats_test

import (
	"encoding/base64"
	"encoding/binary"
	"math"
	"strings"
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/llm-latency-lens/lens/stats"
)

// fuzzSeeds are encodings to start from: valid ones of every kind, and the
// usual broken ones.
func fuzzSeeds(f *testing.F) {
	l := stats.NewLatency()
	for i := 1; i <= 300; i++ {
		l.Record(time.Duration(i*i) * time.Millisecond)
	}
	l.Record(0)
	l.Record(time.Hour)
	latency, err := l.Encode()
	if err != nil {
		f.Fatal(err)
	}
	empty, err := stats.NewLatency().Encode()
	if err != nil {
		f.Fatal(err)
	}
	v := stats.NewValues()
	v.Record(3.5)
	v.Record(1e6)
	values, err := v.Encode()
	if err != nil {
		f.Fatal(err)
	}
	foreign, err := hdrhistogram.New(1, 1000, 2).Encode(hdrhistogram.V2CompressedEncodingCookieBase)
	if err != nil {
		f.Fatal(err)
	}
	raw, err := base64.StdEncoding.DecodeString(string(latency))
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range [][]byte{
		latency, empty, values, foreign,
		latency[:len(latency)/2],
		[]byte(base64.StdEncoding.EncodeToString(raw[:12])),
		[]byte(base64.StdEncoding.EncodeToString(raw[:len(raw)-3])),
		{}, []byte("HISTFAAAA"), []byte("not base64"),
	} {
		f.Add(seed)
	}
}

// Decoding any input returns an error or a distribution that reads
// consistently and re-encodes to itself; it never panics.
func FuzzDecodeLatency(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		l, err := stats.DecodeLatency(b)
		if err != nil {
			if l != nil {
				t.Fatal("a distribution with an error")
			}
			if !strings.HasPrefix(err.Error(), "stats: decode latency: ") {
				t.Fatalf("error without the package prefix: %v", err)
			}
			return
		}
		n := l.Count()
		lo, p50, hi := l.Min(), l.Percentile(50), l.Max()
		if n < 0 || lo > p50 || p50 > hi || hi > stats.MaxLatency || lo < 0 {
			t.Fatalf("inconsistent reads: n=%d min=%v p50=%v max=%v", n, lo, p50, hi)
		}
		if n > 0 && l.ValueAtRank(n) != hi {
			t.Fatalf("ValueAtRank(%d)=%v, Max=%v", n, l.ValueAtRank(n), hi)
		}
		iv := l.PercentileInterval(99, 0.95)
		if iv.Lo > iv.Estimate || iv.Estimate > iv.Hi {
			t.Fatalf("interval %v does not hold the estimate %v", iv, iv.Estimate)
		}
		_ = l.Summary()
		again, err := l.Encode()
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		back, err := stats.DecodeLatency(again)
		if err != nil {
			t.Fatalf("decode of a re-encoding: %v", err)
		}
		if back.Count() != n || back.Percentile(99.9) != l.Percentile(99.9) {
			t.Fatal("the re-encoding is a different distribution")
		}
	})
}

// The same for Values.
func FuzzDecodeValues(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := stats.DecodeValues(b)
		if err != nil {
			if v != nil || !strings.HasPrefix(err.Error(), "stats: decode values: ") {
				t.Fatalf("bad error: %v", err)
			}
			return
		}
		lo, p50, hi := v.Min(), v.Percentile(50), v.Max()
		if lo > p50 || p50 > hi || hi > stats.MaxValue || lo < 0 {
			t.Fatalf("inconsistent reads: min=%v p50=%v max=%v", lo, p50, hi)
		}
		again, err := v.Encode()
		if err != nil {
			t.Fatal(err)
		}
		back, err := stats.DecodeValues(again)
		if err != nil || back.Count() != v.Count() {
			t.Fatalf("re-encoding: %v", err)
		}
	})
}

// RankInterval keeps its rules for any arguments.
func FuzzRankInterval(f *testing.F) {
	f.Add(int64(20), 99.0, 0.95)
	f.Add(int64(400), 95.0, 0.95)
	f.Add(int64(10_000_000), 50.0, 0.99)
	f.Add(int64(1), 0.0, 0.5)
	f.Add(int64(math.MaxInt64), 99.9999, 0.999999)
	f.Add(int64(-3), math.NaN(), 2.0)
	f.Fuzz(func(t *testing.T, n int64, p, conf float64) {
		lo, hi, achieved, ok := stats.RankInterval(n, p, conf)
		if n <= 0 || math.IsNaN(p) || math.IsNaN(conf) {
			if lo != 0 || hi != max(n, 0)+1 || achieved != 1 || ok {
				t.Fatalf("n=%d p=%v conf=%v: want the open interval, got %d..%d %v %v", n, p, conf, lo, hi, achieved, ok)
			}
			return
		}
		n = min(n, math.MaxInt64-1) // documented: so that n+1 is representable
		if err := checkRanks(n, min(max(p, 0), 100), lo, hi, ok); err != nil {
			t.Fatalf("n=%d p=%v conf=%v: %v", n, p, conf, err)
		}
		if achieved > 1 || achieved < min(max(conf, 0), 1)-1e-9 {
			t.Fatalf("n=%d p=%v conf=%v: achieved %v", n, p, conf, achieved)
		}
		if ok != (n >= stats.MinSamples(p, conf)) {
			t.Fatalf("n=%d p=%v conf=%v: ok=%v but MinSamples=%d", n, p, conf, ok, stats.MinSamples(p, conf))
		}
	})
}

// Any durations: merging two halves gives the whole, the encoding round
// trips, and reads stay in order and in range.
func FuzzLatencyRecord(f *testing.F) {
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0, 1}, uint8(0))
	f.Add(binary.LittleEndian.AppendUint64(binary.LittleEndian.AppendUint64(nil, uint64(time.Hour)), 1<<63), uint8(1))
	f.Add([]byte("some arbitrary bytes, read as int64 durations"), uint8(3))
	f.Fuzz(func(t *testing.T, data []byte, split uint8) {
		var ds []time.Duration
		for len(data) >= 8 {
			ds = append(ds, time.Duration(binary.LittleEndian.Uint64(data)))
			data = data[8:]
		}
		cut := int(split) % (len(ds) + 1)
		a, b, all := stats.NewLatency(), stats.NewLatency(), stats.NewLatency()
		var negative, clamped int64
		for i, d := range ds {
			if i < cut {
				a.Record(d)
			} else {
				b.Record(d)
			}
			all.Record(d)
			if d < 0 {
				negative++
			} else if d > stats.MaxLatency {
				clamped++
			}
		}
		if err := a.Merge(b); err != nil {
			t.Fatal(err)
		}
		if a.Count() != int64(len(ds)) || a.Negative() != negative || a.Clamped() != clamped {
			t.Fatalf("counts %d/%d/%d, want %d/%d/%d", a.Count(), a.Negative(), a.Clamped(), len(ds), negative, clamped)
		}
		ea, err := a.Encode()
		if err != nil {
			t.Fatal(err)
		}
		eall, err := all.Encode()
		if err != nil {
			t.Fatal(err)
		}
		if string(ea) != string(eall) {
			t.Fatal("merged halves encode differently from the whole")
		}
		back, err := stats.DecodeLatency(ea)
		if err != nil || back.Summary() != all.Summary() {
			t.Fatalf("round trip: %v", err)
		}
		s := all.Summary()
		if s.Min > s.Median || s.Median > s.P90 || s.P90 > s.P95 || s.P95 > s.P99 || s.P99 > s.P999 || s.P999 > s.Max || s.Max > stats.MaxLatency {
			t.Fatalf("summary out of order: %+v", s)
		}
	})
}

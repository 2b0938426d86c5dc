package stats_test

import (
	"bytes"
	"compress/zlib"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/llm-latency-lens/lens/stats"
)

// v2Histogram is an HdrHistogram V2 encoding as the format specification
// describes it, read here without the library so that the test checks what
// other implementations (Java, C, Rust) will read.
type v2Histogram struct {
	cookie, innerCookie int32
	digits              int32
	lowest, highest     int64
	ratio               float64
	counts              map[int64]int64 // bucket's lowest value -> count
	widths              map[int64]int64 // bucket's lowest value -> width
}

// readV2 reads a base64 V2 compressed encoding:
//
//	int32 cookie 0x1c849314 | int32 length | zlib(
//	  int32 cookie 0x1c849313 | int32 payload length | int32 normalizing offset |
//	  int32 significant digits | int64 lowest | int64 highest | float64 ratio |
//	  counts, ZigZag LEB128 (9 bytes at most), a negative count being a run of zeros)
func readV2(t *testing.T, encoded []byte) v2Histogram {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(string(encoded))
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(raw), 8)
	var h v2Histogram
	h.cookie = int32(binary.BigEndian.Uint32(raw[0:4]))
	n := int(binary.BigEndian.Uint32(raw[4:8]))
	require.Equal(t, len(raw)-8, n, "compressed length")
	zr, err := zlib.NewReader(bytes.NewReader(raw[8:]))
	require.NoError(t, err)
	inner, err := io.ReadAll(zr)
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(inner), 40)
	h.innerCookie = int32(binary.BigEndian.Uint32(inner[0:4]))
	payloadLen := int(binary.BigEndian.Uint32(inner[4:8]))
	h.digits = int32(binary.BigEndian.Uint32(inner[12:16]))
	h.lowest = int64(binary.BigEndian.Uint64(inner[16:24]))
	h.highest = int64(binary.BigEndian.Uint64(inner[24:32]))
	h.ratio = math.Float64frombits(binary.BigEndian.Uint64(inner[32:40]))
	payload := inner[40:]
	require.Equal(t, payloadLen, len(payload), "payload length")

	// Geometry from the header, as every implementation derives it.
	unitMagnitude := int64(math.Floor(math.Log2(float64(h.lowest))))
	subBucketHalfCountMagnitude := int64(math.Ceil(math.Log2(2*math.Pow10(int(h.digits))))) - 1
	subBucketHalfCount := int64(1) << subBucketHalfCountMagnitude
	h.counts, h.widths = map[int64]int64{}, map[int64]int64{}
	var index int64
	for len(payload) > 0 {
		var u uint64
		var i int
		for i = 0; i < 9; i++ {
			b := payload[i]
			if i == 8 {
				u |= uint64(b) << 56
				break
			}
			u |= uint64(b&0x7f) << (7 * i)
			if b&0x80 == 0 {
				break
			}
		}
		payload = payload[i+1:]
		count := int64(u>>1) ^ -int64(u&1)
		if count < 0 {
			index += -count
			continue
		}
		if count > 0 {
			bucket := (index >> subBucketHalfCountMagnitude) - 1
			sub := (index & (subBucketHalfCount - 1)) + subBucketHalfCount
			if bucket < 0 {
				sub -= subBucketHalfCount
				bucket = 0
			}
			value := sub << (bucket + unitMagnitude)
			h.counts[value] = count
			h.widths[value] = int64(1) << (bucket + unitMagnitude)
		}
		index++
	}
	return h
}

func TestLatencyEncodingIsStandardV2(t *testing.T) {
	l := stats.NewLatency()
	recorded := map[time.Duration]int64{
		0:                           4,
		700:                         1,
		3 * time.Millisecond:        10,
		250 * time.Millisecond:      1000,
		7 * time.Second:             2,
		stats.MaxLatency:            1,
		123456789 * time.Nanosecond: 5,
	}
	for d, n := range recorded {
		l.RecordN(d, n)
	}
	b, err := l.Encode()
	require.NoError(t, err)
	h := readV2(t, b)
	assert.Equal(t, int32(0x1c849314), h.cookie, "compressed V2 cookie")
	assert.Equal(t, int32(0x1c849313), h.innerCookie, "V2 cookie")
	assert.Equal(t, int32(3), h.digits)
	assert.Equal(t, int64(1), h.lowest, "lowest discernible value: 1 ns")
	assert.Equal(t, int64(600_000_000_000), h.highest, "highest trackable value: 10 min in ns")
	assert.Equal(t, 1.0, h.ratio)
	require.Len(t, h.counts, len(recorded))
	for d, n := range recorded {
		found := false
		for low, c := range h.counts {
			if low <= int64(d) && int64(d) < low+h.widths[low] {
				assert.Equalf(t, n, c, "count of %v", d)
				found = true
			}
		}
		assert.Truef(t, found, "no bucket holds %v", d)
	}
}

func TestValuesEncodingIsStandardV2(t *testing.T) {
	v := stats.NewValues()
	recorded := map[float64]int64{0: 1, 0.25: 3, 42.5: 7, 1e6: 2}
	for x, n := range recorded {
		v.RecordN(x, n)
	}
	b, err := v.Encode()
	require.NoError(t, err)
	h := readV2(t, b)
	assert.Equal(t, int32(0x1c849314), h.cookie)
	assert.Equal(t, int64(1000), h.lowest, "lowest discernible value: 0.001 in millionths")
	assert.Equal(t, int64(1e15), h.highest, "highest trackable value: 1e9 in millionths")
	assert.Equal(t, 1e-6, h.ratio, "the conversion ratio says the unit")
	require.Len(t, h.counts, len(recorded))
	for x, n := range recorded {
		found := false
		for low, c := range h.counts {
			lo, hi := float64(low)*h.ratio, float64(low+h.widths[low])*h.ratio
			if lo <= x && x < hi {
				assert.Equalf(t, n, c, "count of %v", x)
				found = true
			}
		}
		assert.Truef(t, found, "no bucket holds %v", x)
	}
}

func TestLatencyEncodeRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	full := stats.NewLatency()
	for _, d := range latencySamples("bimodal", 100_000, rng) {
		full.Record(d)
	}
	full.Record(0)
	full.Record(stats.MaxLatency)
	tests := map[string]*stats.Latency{
		"empty":  stats.NewLatency(),
		"single": func() *stats.Latency { l := stats.NewLatency(); l.Record(time.Second); return l }(),
		"full":   full,
	}
	for name, l := range tests {
		t.Run(name, func(t *testing.T) {
			b, err := l.Encode()
			require.NoError(t, err)
			got, err := stats.DecodeLatency(b)
			require.NoError(t, err)
			assertSameLatency(t, l, got)

			// The library's own decoder reads the same distribution.
			h, err := hdrhistogram.Decode(b)
			require.NoError(t, err)
			assert.Equal(t, l.Count(), h.TotalCount())
			if l.Count() > 0 {
				assert.Equal(t, int64(l.Percentile(99)), h.ValueAtQuantile(99))
				assert.Equal(t, int64(l.Min()), h.Min())
				assert.Equal(t, min(h.Max(), int64(stats.MaxLatency)), int64(l.Max()), "Max is the library's, capped at MaxLatency")
			}
		})
	}
}

func TestValuesEncodeRoundTrip(t *testing.T) {
	v := stats.NewValues()
	for _, x := range valueSamples("output tokens lognormal", 50_000, rand.New(rand.NewPCG(1, 9))) {
		v.Record(x)
	}
	b, err := v.Encode()
	require.NoError(t, err)
	got, err := stats.DecodeValues(b)
	require.NoError(t, err)
	assert.Equal(t, v.Summary(), got.Summary())
	again, err := got.Encode()
	require.NoError(t, err)
	assert.Equal(t, string(b), string(again))
}

func TestDecodeErrors(t *testing.T) {
	valid := func() []byte {
		l := stats.NewLatency()
		for i := 1; i <= 1000; i++ {
			l.Record(time.Duration(i) * time.Millisecond)
		}
		b, err := l.Encode()
		require.NoError(t, err)
		return b
	}()
	values, err := stats.NewValues().Encode()
	require.NoError(t, err)
	foreign, err := hdrhistogram.New(1, 3_600_000_000, 3).Encode(hdrhistogram.V2CompressedEncodingCookieBase)
	require.NoError(t, err)
	raw, err := base64.StdEncoding.DecodeString(string(valid))
	require.NoError(t, err)
	reencode := func(b []byte) []byte { return []byte(base64.StdEncoding.EncodeToString(b)) }
	flipped := bytes.Clone(raw)
	flipped[len(flipped)/2] ^= 0xff
	wrongCookie := bytes.Clone(raw)
	wrongCookie[0] ^= 0x01

	tests := map[string][]byte{
		"nil":                     nil,
		"empty":                   {},
		"not base64":              []byte("this is not base64 at all!"),
		"JSON":                    []byte(`{"ttft":"1s"}`),
		"random bytes":            reencode([]byte("0123456789abcdef0123456789abcdef")),
		"short header":            reencode(raw[:5]),
		"header only":             reencode(raw[:8]),
		"truncated compressed":    reencode(raw[:len(raw)/2]),
		"truncated base64":        valid[:len(valid)-7],
		"corrupt compressed body": reencode(flipped),
		"wrong cookie":            reencode(wrongCookie),
		"other geometry":          foreign,
		"values, not latency":     values,
	}
	for name, b := range tests {
		t.Run(name, func(t *testing.T) {
			l, err := stats.DecodeLatency(b)
			require.Error(t, err)
			assert.Nil(t, l)
			assert.True(t, strings.HasPrefix(err.Error(), "stats: decode latency: "), err.Error())
		})
	}
	// And the other way round.
	_, err = stats.DecodeValues(valid)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "stats: decode values: histogram tracks 1..600000000000")
	_, err = stats.DecodeValues(nil)
	require.Error(t, err)
}

func TestLatencyJSON(t *testing.T) {
	type result struct {
		TTFT *stats.Latency `json:"ttft"`
		E2E  *stats.Latency `json:"e2e"`
		ITL  *stats.Latency `json:"itl,omitempty"`
	}
	ttft := stats.NewLatency()
	for i := 1; i <= 500; i++ {
		ttft.Record(time.Duration(i) * time.Millisecond)
	}
	in := result{TTFT: ttft, E2E: stats.NewLatency()}
	data, err := json.Marshal(in)
	require.NoError(t, err)
	enc, err := ttft.Encode()
	require.NoError(t, err)
	assert.Contains(t, string(data), fmt.Sprintf(`"ttft":%q`, enc), "the JSON value is the encoded string")
	assert.NotContains(t, string(data), "itl")

	var out result
	require.NoError(t, json.Unmarshal(data, &out))
	assertSameLatency(t, ttft, out.TTFT)
	require.NotNil(t, out.E2E)
	assert.Zero(t, out.E2E.Count())
	assert.Nil(t, out.ITL)

	// null leaves the value as it was.
	keep := ttft.Clone()
	require.NoError(t, json.Unmarshal([]byte("null"), keep))
	assert.Equal(t, ttft.Count(), keep.Count())

	// Bad input is an error and leaves the value as it was.
	for _, bad := range []string{`42`, `"not an encoding"`, `{"a":1}`, `""`} {
		err := json.Unmarshal([]byte(bad), keep)
		require.Errorf(t, err, "input %s", bad)
		assert.Containsf(t, err.Error(), "stats: decode latency", "input %s", bad)
		assert.Equal(t, ttft.Count(), keep.Count())
	}
}

func TestValuesJSON(t *testing.T) {
	v := stats.NewValues()
	v.Record(12.5)
	v.Record(80)
	data, err := json.Marshal(map[string]*stats.Values{"tokens_per_second": v})
	require.NoError(t, err)
	var out map[string]*stats.Values
	require.NoError(t, json.Unmarshal(data, &out))
	assert.Equal(t, v.Summary(), out["tokens_per_second"].Summary())
	require.Error(t, json.Unmarshal([]byte(`{"x":"Zm9v"}`), &out))
}

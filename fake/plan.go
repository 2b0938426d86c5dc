package fake

import (
	"math/rand/v2"
	"strings"
	"time"
	"unicode/utf8"
)

// A plan is one response decided when its request arrives: the text, how it
// is cut into content events, and when each event is due. Every wire format
// renders the same plan; the players (the real server's pacer, the
// Responder's virtual-time body) decide nothing about timing themselves.
type plan struct {
	seq          uint64
	start        time.Time
	id           string // random part of the response id, 24 characters of [0-9A-Za-z]
	created      int64  // start in Unix seconds
	model        string
	promptTokens int
	tokens       []string        // the output, one token per element
	ends         []int           // ends[j] is the end (exclusive) in tokens of content event j
	offsets      []time.Duration // offsets[j] is when content event j is due, from start
	length       bool            // the request's token limit cut the output short
}

// finish is the wire format's word for why the output ended: done when
// it ran its course, cut when the request's token limit cut it short.
func (p *plan) finish(done, cut string) string {
	if p.length {
		return cut
	}
	return done
}

// Independent random streams of one request, so that changing one (say, the
// latency distribution) leaves the others (the text) as they were.
const (
	streamText = iota
	streamTime
	streamID
	streamFault
)

// idLength is the length of the random part of response and request ids.
const idLength = 24

// newRand returns the generator of one stream of request seq. There is room
// for four streams (seq*4+stream); a fifth would need a new packing, which
// would change every existing seed's output.
func newRand(seed, seq uint64, stream uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed, mix64(seq*4+stream)))
}

// mix64 is the splitmix64 finaliser: it spreads nearby inputs far apart.
func mix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// newPlan plans the response to request seq, which arrived at start. limit
// is the request's token limit (0 for none). The first content event is due
// after a sample of TTFT plus the prefill of promptTokens; a TokensPerChunk
// of 0 means 1.
func newPlan(cfg *Config, seq uint64, start time.Time, model string, promptTokens, limit int) *plan {
	n := cfg.OutputTokens
	p := &plan{
		seq:          seq,
		start:        start,
		created:      start.Unix(),
		model:        model,
		promptTokens: promptTokens,
	}
	if limit > 0 && limit < n {
		n, p.length = limit, true
	}
	p.tokens = words(newRand(cfg.Seed, seq, streamText), n)
	p.id = randomID(newRand(cfg.Seed, seq, streamID), idLength)

	k := max(cfg.TokensPerChunk, 1)
	events := (n + k - 1) / k
	p.ends = make([]int, events)
	p.offsets = make([]time.Duration, events)
	r := newRand(cfg.Seed, seq, streamTime)
	at := max(cfg.TTFT.Sample(r), 0) + time.Duration(promptTokens)*cfg.PrefillPerToken
	for j := range events {
		if j > 0 {
			at += max(cfg.ITL.Sample(r), 0)
		}
		p.ends[j] = min((j+1)*k, n)
		p.offsets[j] = at
	}
	return p
}

// chunk returns the tokens of content event j.
func (p *plan) chunk(j int) []string {
	lo := 0
	if j > 0 {
		lo = p.ends[j-1]
	}
	return p.tokens[lo:p.ends[j]]
}

// text returns the whole output.
func (p *plan) text() string { return strings.Join(p.tokens, "") }

// last returns when the last content event is due, from start.
func (p *plan) last() time.Duration { return p.offsets[len(p.offsets)-1] }

// EstimateTokens is the fake's token count for a prompt: one token per 4
// characters (Unicode code points), rounded up, and at least 1. The prompt
// is the text of every message (and of the system prompt or instructions)
// joined with no separator; prompt_tokens in the usage is this count.
func EstimateTokens(text string) int {
	return max((utf8.RuneCountInString(text)+3)/4, 1)
}

// Tokens returns the first n tokens of the output the fake generates for
// request seq (counting from 0) under the given seed; joined, they are the
// response's text. The text does not depend on the latencies or on
// TokensPerChunk, and a response cut short by a token limit is a prefix of
// the full one.
func Tokens(seed, seq uint64, n int) []string {
	return words(newRand(seed, seq, streamText), n)
}

// words returns n tokens of lorem-ipsum text. Each token is one word, with a
// leading space except at the start; sentences end with a period and the
// next one starts with a capital letter.
func words(r *rand.Rand, n int) []string {
	out := make([]string, n)
	capital, inSentence := true, 0
	for i := range out {
		w := vocabulary[r.IntN(len(vocabulary))]
		if capital {
			w = strings.ToUpper(w[:1]) + w[1:]
			capital = false
		}
		inSentence++
		if inSentence >= 4 && r.IntN(8) == 0 {
			w += "."
			capital, inSentence = true, 0
		}
		if i > 0 {
			w = " " + w
		}
		out[i] = w
	}
	return out
}

var vocabulary = strings.Fields(`
lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor
incididunt ut labore et dolore magna aliqua enim ad minim veniam quis nostrud
exercitation ullamco laboris nisi aliquip ex ea commodo consequat duis aute
irure in reprehenderit voluptate velit esse cillum eu fugiat nulla pariatur
excepteur sint occaecat cupidatat non proident sunt culpa qui officia deserunt
mollit anim id est laborum curabitur pretium tincidunt lacus nunc pulvinar
sapien ligula vestibulum ante primis faucibus orci luctus ultrices posuere
cubilia curae donec varius justo vitae blandit sollicitudin mauris felis
tristique nibh porta odio morbi maximus quam eget finibus tortor fermentum
`)

const idAlphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// randomID returns n characters of [0-9A-Za-z].
func randomID(r *rand.Rand, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = idAlphabet[r.IntN(len(idAlphabet))]
	}
	return string(b)
}

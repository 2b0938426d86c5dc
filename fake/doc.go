// Package fake provides a fake LLM API server for tests, in the manner of
// net/http/httptest, so that latency tests run offline, in CI, with no API
// key, against a server whose timing is known exactly.
//
// A Server listens on a loopback port and serves each wire format at its
// usual path:
//
//	POST /v1/chat/completions   OpenAI Chat Completions, stream and not
//	POST /v1/responses          OpenAI Responses, stream and not
//	GET  /v1/models             OpenAI model list
//
// Any other path gets a 404 in OpenAI's error envelope, and a bad request
// the 400 OpenAI would send.
//
// Every response is planned when its request arrives, from Config and the
// request's number: the output text (seeded lorem-ipsum words, one token
// each), how it is cut into content events (Config.TokensPerChunk), and when
// each event is due, an offset from the handler's start: the first at a
// sample of Config.TTFT, each next one a sample of Config.ITL later. A
// request's token limit (max_tokens, max_completion_tokens,
// max_output_tokens) shortens the output, which then ends for length. The
// usage reports the output tokens sent and prompt tokens estimated by
// EstimateTokens. The same Config.Seed gives the same plans: request n of
// one run gets the text, id and schedule of request n of another.
//
// A stream sends its headers and opening events (the role chunk, or the
// Responses lifecycle events) at once, each content event when it is due,
// and its closing events (finish, usage, [DONE] or response.completed) right
// after the last one; each event is one Write and one Flush. A non-streaming
// response is sent whole when the stream's last content event would be.
// Because the offsets are absolute, write times never drift: a late event
// makes the next one no later.
//
// The Server's responses share one pacer, a single goroutine with one alarm
// over a heap of due streams (see BenchmarkPacing1000 for its error and CPU
// cost). With Config.Record set, Records returns the ground truth of each
// request, including when each content event was due and when it was
// actually written, to check a client's measurements against.
//
// A Responder serves the same responses in-process, for http.Client and
// httpmock, in whatever time the clock says. Under testing/synctest time is
// virtual, so every event arrives exactly when it is due:
//
//	synctest.Test(t, func(t *testing.T) {
//		r := fake.NewResponder(fake.Config{TTFT: fake.Fixed(200 * time.Millisecond)})
//		client := &http.Client{Transport: r}
//		// ... the first content event is read exactly 200ms after the request.
//	})
package fake

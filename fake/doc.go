// Package fake provides a fake LLM API server for tests, in the manner of
// net/http/httptest, so that latency tests run offline, in CI, with no API
// key, against a server whose timing is known exactly.
//
// A Server listens on a loopback port and serves each wire format at its
// usual path, with that API's framing, headers, usage and error envelope
// (as each API documents it):
//
//	POST /v1/chat/completions                    OpenAI Chat Completions, stream and not
//	POST /v1/responses                           OpenAI Responses, stream and not
//	GET  /v1/models                              OpenAI's model list; Anthropic's with an anthropic-version header
//	POST /v1/messages                            Anthropic Messages, stream and not
//	POST /v1beta/models/{model}:streamGenerateContent
//	                                             Gemini: SSE with ?alt=sse (CRLF framing), else a streamed JSON array
//	POST /v1beta/models/{model}:generateContent  Gemini, not streaming (also under /v1/models/)
//	GET  /v1beta/models                          Gemini's model list
//	POST /v1/projects/{project}/locations/{location}/publishers/google/models/{model}:streamGenerateContent
//	                                             Vertex AI, as Gemini (also :generateContent, and under /v1beta1)
//	POST /openai/deployments/{deployment}/chat/completions?api-version=…
//	POST /openai/v1/chat/completions             Azure OpenAI, stream and not
//	POST /v2/chat                                Cohere v2 Chat, stream and not
//
// Any other path gets a 404, and a wrong method a 405, in the envelope of
// the API the path belongs to (OpenAI's by default); a bad request gets the
// 400 that API would send. Only Anthropic checks for a key: a request with
// neither x-api-key nor Authorization gets its 401; no API checks a key's
// value.
//
// Every answer, errors included, carries a request id header (request-id
// for Anthropic, x-request-id for the others) of the form "req_" and the 24
// characters that end the response's id; Record.RequestID holds it, so that
// a client can pair its requests with their Records.
//
// Every response is planned when its request arrives, from Config and the
// request's number: the output text (seeded lorem-ipsum words, one token
// each), how it is cut into content events (Config.TokensPerChunk), and when
// each event is due, an offset from the handler's start: the first at a
// sample of Config.TTFT plus the prefill of the prompt
// (Config.PrefillPerToken), each next one a sample of Config.ITL later. A
// request's token limit (max_tokens, max_completion_tokens,
// max_output_tokens, maxOutputTokens) shortens the output, which then ends
// for length. The usage reports the output tokens sent and prompt tokens
// estimated by EstimateTokens. The same Config.Seed gives the same plans:
// request n of one run gets the text, id, schedule and fault of request n of
// another.
//
// A stream sends its headers and opening events (the role chunk, the
// Responses lifecycle events, Anthropic's message_start, ...) at once, each
// content event when it is due, and its closing events (finish, usage,
// [DONE], response.completed, message_stop, ...) right after the last one;
// each event is one Write and one Flush. A non-streaming response is sent
// whole when the stream's last content event would be. Because the offsets
// are absolute, write times never drift: a late event makes the next one no
// later.
//
// Config.Capacity makes the fake a server under load: beyond that many
// responses at once, requests wait in a FIFO queue, and a response's whole
// schedule starts when its wait ends (Record.Queued). Config.Faults makes
// some requests fail, each drawing at most one Fault from its own seeded
// stream: status faults (429, 500, 503, 529) in the API's envelope, and
// stream faults (a cut connection, a stall, a malformed event, the API's
// mid-stream error event). Config.FaultFunc chooses them exactly.
//
// The Server's responses share one pacer, a single goroutine with one alarm
// over a heap of due streams (see BenchmarkPacing1000 for its error and CPU
// cost). With Config.Record set, Records returns the ground truth of each
// request, including when each content event was due and when it was
// actually written, to check a client's measurements against.
//
// A Responder serves the same responses in-process, for http.Client and
// httpmock, in whatever time the clock says. Under testing/synctest time is
// virtual, so every event arrives exactly when it is due, and a queue
// delays each response by exactly what a FIFO queue would:
//
//	synctest.Test(t, func(t *testing.T) {
//		r := fake.NewResponder(fake.Config{TTFT: fake.Fixed(200 * time.Millisecond)})
//		client := &http.Client{Transport: r}
//		// ... the first content event is read exactly 200ms after the request.
//	})
package fake

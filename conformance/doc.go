// Package conformance checks lens and its fake LLM server against the
// official SDKs of every API they speak, and measures lens against them.
//
// It is a module of its own (github.com/llm-latency-lens/lens/conformance),
// so that the SDKs and vegeta stay out of lens's go.mod. Everything is in
// its tests:
//
//   - sdk conformance (openai_test.go, azure_test.go, anthropic_test.go,
//     gemini_test.go, cohere_test.go, unauthorized_test.go): each official
//     SDK is pointed at fake.NewServer and must get exactly the text, usage
//     and finish reason that the fake's Records say it sent, streamed and
//     not, and the typed errors, Retry-After and retry counts of the fake's
//     faults;
//   - run conformance (run_test.go): lens.Run against every wire format of
//     the fake reports TTFT, ITL, TPOT and output tokens equal to the fake's
//     schedule, exactly in virtual time (testing/synctest with
//     fake.Responder) and within tolerances on a loopback fake.Server;
//   - decoder speed (decode_bench_test.go): providers' decoders against the
//     SDKs' stream decoders over the same bytes, per chunk;
//   - engine throughput (throughput_bench_test.go): lens.Run against
//     vegeta's attacker at the same concurrency against the same fake.
//
// Run the tests with
//
//	go test -race ./...
//
// and the comparisons with
//
//	go test -run '^$' -bench Throughput -benchtime 1x -count 5 ./...  # lens vs vegeta, one run of each per count
//	go test -run '^$' -bench Decode -count 10 ./... | tee new.txt
//	benchstat -col /decoder new.txt                                   # decoder ratio, with confidence intervals
//
// or, for the decoder ratio printed from one run,
//
//	go test -run TestDecoderSpeedup -v ./...
package conformance

package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// mutated returns the JSON of f after edit changed the first result's
// metrics, decoded as plain JSON (so that edits can remove fields or set
// values the types would not hold).
func mutated(t *testing.T, f *File, edit func(m map[string]any)) string {
	t.Helper()
	return mutatedResult(t, f, func(r map[string]any) { edit(r["metrics"].(map[string]any)) })
}

// mutatedResult is mutated for edits of the first result itself.
func mutatedResult(t *testing.T, f *File, edit func(r map[string]any)) string {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal([]byte(mustJSON(t, f)), &doc); err != nil {
		t.Fatal(err)
	}
	edit(doc["scenarios"].([]any)[0].(map[string]any)["results"].([]any)[0].(map[string]any))
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestValidateInvariants: a reader refuses a result file whose numbers do
// not hold together, naming what is wrong; a valid file, a file with
// retries and an interrupted run's file load.
func TestValidateInvariants(t *testing.T) {
	good := synthFile(1, 8, 1)
	if _, err := Decode(strings.NewReader(mustJSON(t, good))); err != nil {
		t.Fatalf("valid file: %v", err)
	}
	set := func(path string, v any) func(m map[string]any) {
		return func(m map[string]any) {
			keys := strings.Split(path, ".")
			for _, k := range keys[:len(keys)-1] {
				m = m[k].(map[string]any)
			}
			if v == nil {
				delete(m, keys[len(keys)-1])
				return
			}
			m[keys[len(keys)-1]] = v
		}
	}
	for _, tc := range []struct {
		name string
		edit func(m map[string]any)
		want string
	}{
		{"no latency section", set("latency", nil), "8 successful requests and no latency.total_duration"},
		{"goodput 1e308", set("goodput", 1e308), "goodput 1e+308 is not good_requests / total_requests"},
		{"goodput off its counts", set("goodput", 0.5), "goodput 0.5"},
		{"good above successful", set("good_requests", 9), "good_requests 9"},
		{"negative error count", func(m map[string]any) {
			m["errors"] = map[string]any{"timeout": -1, "http_5xx": 1}
		}, `errors["timeout"] is -1`},
		{"retries without attempts", set("retries", map[string]any{"rate_limited": 1}), "attempts 8 − total_requests 8 != 1 retries"},
		{"retried without retries", func(m map[string]any) { m["retried_requests"] = 1 }, "retried_requests 1 does not fit 0 retries"},
		{"fewer attempts than requests", set("attempts", 7), "attempts 7 < total_requests 8"},
		{"negative duration", set("execution_duration_secs", -1), "execution_duration_secs -1"},
		{"infinite-ish rate", set("actual_rps", -5), "actual_rps -5"},
		{"negative cost", set("cost_stats.total_cost", -0.5), "cost_stats holds -0.5"},
		{"e2e count off", func(m map[string]any) {
			// A valid histogram of 4 values where 8 successes need 8.
			half := synthFile(1, 4, 1).Scenarios[0].Results[0].Metrics.Latency.TotalDuration
			m["latency"].(map[string]any)["total_duration"] = half
		}, "total_duration holds 4 values, for 8 successful requests"},
		{"ttft above successes", func(m map[string]any) {
			m["latency"].(map[string]any)["ttft"] = synthFile(1, 9, 1).Scenarios[0].Results[0].Metrics.Latency.TTFT
		}, "ttft holds 9 values, more than the 8"},
		{"token sources", set("token_stats.counted_from_usage", 3), "counted_from_usage 3 + counted_from_events 0 != 8"},
		{"mismatches above usage", set("token_stats.usage_mismatches", 9), "usage_mismatches 9"},
		{"prompt counted, total null", set("token_stats.total_prompt_tokens", nil), "total_prompt_tokens null"},
		{"total tokens off", set("token_stats.total_tokens", 1), "total_tokens 1 != prompt"},
		{"percentiles out of order", set("latency.ttft.p95", 1e6), "summary out of order"},
		{"NaN-like summary", set("latency.ttft.mean", -3), "summary holds -3"},
		{"unknown field", set("latency_gone", 1), `unknown field "latency_gone"`},
		{"timeline above total", set("timeline", []any{map[string]any{"requests": 9, "failed": 0, "output_tokens": 0}}), "the timeline counts 9 requests"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := mutated(t, good, tc.edit)
			_, err := Decode(strings.NewReader(in))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
			if err != nil && tc.name != "unknown field" && !strings.Contains(err.Error(), `scenario "chat", openai/gpt-4o-mini`) {
				t.Errorf("error %v does not name the result", err)
			}
		})
	}
}

// TestMergeRefusesAnInvalidShard: a shard that claims 8 successes without
// their latencies cannot be read, so it cannot be merged into 16
// successes over 8 samples.
func TestMergeRefusesAnInvalidShard(t *testing.T) {
	bad := mutated(t, synthFile(1, 8, 1), func(m map[string]any) { delete(m, "latency") })
	if _, err := Decode(strings.NewReader(bad)); err == nil {
		t.Fatal("the shard without latencies loads")
	}
	var f File
	if err := json.NewDecoder(bytes.NewReader([]byte(bad))).Decode(&f); err != nil {
		t.Fatal(err)
	}
	if _, err := Merge(synthFile(2, 8, 1), &f); err == nil || !strings.Contains(err.Error(), "no latency.total_duration") {
		t.Errorf("Merge of a shard decoded without checks: %v, want the invariant's error", err)
	}
}

// A scenario or result that is there twice is refused when the file is
// read: every writer would show it differently.
func TestDecodeRefusesDuplicates(t *testing.T) {
	f := synthFile(1, 20, 1)
	var b bytes.Buffer
	if err := WriteJSON(&b, f, false); err != nil {
		t.Fatal(err)
	}
	good := b.String()
	if _, err := Decode(strings.NewReader(good)); err != nil {
		t.Fatal(err)
	}
	dup := synthFile(1, 20, 1)
	dup.Scenarios[0].Results = append(dup.Scenarios[0].Results, dup.Scenarios[0].Results[0])
	if err := dup.Validate(); err == nil || !strings.Contains(err.Error(), "twice") {
		t.Errorf("duplicated result: %v", err)
	}
	dup = synthFile(1, 20, 1)
	dup.Scenarios = append(dup.Scenarios, dup.Scenarios[0])
	if err := dup.Validate(); err == nil || !strings.Contains(err.Error(), `scenario "chat" is there twice`) {
		t.Errorf("duplicated scenario: %v", err)
	}
}

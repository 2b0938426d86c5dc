package providers

import (
	"bytes"
	"testing"
)

// genericFuzzConfigs are the configurations FuzzGenericDecoder picks from.
var genericFuzzConfigs = []func() *Generic{
	genericOllama,
	genericTGI,
	genericSingle,
	genericOpenAI,
	func() *Generic {
		return &Generic{URL: "http://h", Format: "ndjson", TextPath: "a.*.t|b", ReasoningPath: "r", ToolArgsPath: "x.0",
			SpecialPath: "s", InputTokensPath: "u.i", OutputTokensPath: "u.o", ReasoningTokensPath: "u.r", CachedTokensPath: "u.c",
			UsageIncrements: true, FinishPath: "f", DoneData: "END", DonePath: "type", DoneValue: "done", ErrorPath: "e|a.*.e",
			MaxLineBytes: 96}
	},
	func() *Generic {
		return &Generic{URL: "http://h", TextPath: "*", OutputTokensPath: "*.n", DonePath: "0", ErrorPath: "err", MaxLineBytes: 64}
	},
}

func FuzzGenericDecoder(f *testing.F) {
	for i := range genericFuzzConfigs {
		addSeeds(f, func(b []byte) { f.Add(b, uint8(i), uint8(0), []byte{5, 1, 31}, true) }, "ollama*.ndjson", "tgi*.sse")
		addSeeds(f, func(b []byte) { f.Add(b, uint8(i), uint8(1), []byte{}, false) }, "generic*.json")
	}
	f.Add([]byte("{\"a\":[{\"t\":\"x\"},{\"e\":{\"message\":\"m\"}}]}\nEND\n"), uint8(4), uint8(4), []byte{3}, true)
	f.Add([]byte("data: [\"a\",{\"n\":2}]\n\ndata: {\"0\":true}\n\n"), uint8(5), uint8(0), []byte{7}, true)
	f.Fuzz(func(t *testing.T, body []byte, config, pick uint8, sizes []byte, stream bool) {
		p := genericFuzzConfigs[int(config)%len(genericFuzzConfigs)]()
		p.APIKey = "generic-fuzz-0123456789"
		genericFuzz.decode(t, p.NewDecoder(), body, pick, sizes, stream)
	})
}

// FuzzGenericTemplate renders arbitrary body templates: no panic, and a
// body that renders is valid JSON and renders the same again.
func FuzzGenericTemplate(f *testing.F) {
	f.Add(genericOllama().Body, true)
	f.Add(genericTGI().Body, false)
	f.Add(`{ "a" : {{temperature}} , "b":"x{{prompt}}\"", "c": {{top_p}},"d":[{{top_k}}] }`, false)
	f.Add(`[{{messages}},"{{messages}}",{{stream}}]`, true)
	f.Fuzz(func(t *testing.T, tmpl string, set bool) {
		pt, err := parseGenericTemplate(tmpl)
		if err != nil {
			return
		}
		temp, topK := 0.25, 3
		r := &Request{Model: "m", Prompt: "p\"<", System: "s"}
		if set {
			r.Temperature, r.TopP, r.TopK, r.MaxTokens, r.Stream = &temp, &temp, &topK, 9, true
		}
		vals, err := genericValues(r, "k")
		if err != nil {
			t.Fatal(err)
		}
		body, err := pt.renderJSON(vals, nil)
		if err != nil {
			return
		}
		if !jsonValid(body) {
			t.Fatalf("renderJSON returned invalid JSON %q", body)
		}
		if again, _ := pt.renderJSON(vals, nil); !bytes.Equal(again, body) {
			t.Fatalf("rendered %q, then %q", body, again)
		}
	})
}

// jsonValid reports whether b is one valid JSON value, by the cursor.
func jsonValid(b []byte) bool {
	var c jsonCursor
	c.reset(b)
	c.skip()
	return c.done() == nil
}

// Package faketest runs scenarios against the in-process fake server, for
// the tests of the packages that report on results.
package faketest

import (
	"context"
	"io"
	"net/http"
	"testing"

	"github.com/llm-latency-lens/lens"
	"github.com/llm-latency-lens/lens/fake"
	"github.com/llm-latency-lens/lens/providers"
)

// Scenario returns sc set to run against a fake of cfg that answers
// in-process: its Client's transport is a fake.Responder (no sockets, so
// no connection phases) and its Provider speaks the OpenAI wire format to
// it. Name, Model and Prompt, when unset, become "chat", "gpt-4o-mini"
// and "Say hello".
func Scenario(cfg fake.Config, sc lens.Scenario) lens.Scenario {
	sc.Client = &http.Client{Transport: fake.NewResponder(cfg)}
	sc.Provider = &providers.OpenAI{BaseURL: "http://fake.invalid/v1", APIKey: "sk-fake"}
	if sc.Name == "" {
		sc.Name = "chat"
	}
	if sc.Model == "" {
		sc.Model = "gpt-4o-mini"
	}
	if sc.Prompt == "" {
		sc.Prompt = "Say hello"
	}
	return sc
}

// Run runs sc against a fake of cfg, set up as Scenario does, and returns
// its result; a run that fails fails t. Inside a testing/synctest bubble
// it runs in virtual time.
func Run(t testing.TB, cfg fake.Config, sc lens.Scenario) *lens.Result {
	t.Helper()
	res, err := lens.Run(context.Background(), Scenario(cfg, sc))
	if err != nil {
		t.Fatalf("lens.Run: %v", err)
	}
	return res
}

// StreamCall makes one streamed OpenAI Chat Completions call for model
// through c, as a journey's step does, and reads the answer to its end. c
// must reach a fake: its transport a fake.Responder, say, or a Scenario's
// Client.
func StreamCall(ctx context.Context, c *http.Client, model string) error {
	p := &providers.OpenAI{BaseURL: "http://fake.invalid/v1", APIKey: "sk-fake"}
	req, err := p.NewRequest(ctx, &providers.Request{Model: model, Prompt: "step", Stream: true})
	if err != nil {
		return err
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return err
}

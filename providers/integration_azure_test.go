package providers

import (
	"errors"
	"os"
	"testing"
)

// Integration tests against a real Azure OpenAI resource. They run only
// when AZURE_OPENAI_API_KEY, AZURE_OPENAI_ENDPOINT (the resource endpoint,
// https://{resource}.openai.azure.com) and AZURE_OPENAI_DEPLOYMENT (a chat
// model deployment) are set; AZURE_OPENAI_API_VERSION overrides the
// api-version of the deployments surface.

func TestIntegrationAzure(t *testing.T) {
	key, endpoint, deployment := os.Getenv("AZURE_OPENAI_API_KEY"), os.Getenv("AZURE_OPENAI_ENDPOINT"), os.Getenv("AZURE_OPENAI_DEPLOYMENT")
	if key == "" || endpoint == "" || deployment == "" {
		t.Skip("set AZURE_OPENAI_API_KEY, AZURE_OPENAI_ENDPOINT and AZURE_OPENAI_DEPLOYMENT to run the Azure OpenAI integration tests")
	}
	version := os.Getenv("AZURE_OPENAI_API_VERSION")
	prompt := "Count from 1 to 5, separated by spaces."
	for _, v1 := range []bool{false, true} {
		name := "deployments"
		if v1 {
			name = "v1"
		}
		p := &Azure{BaseURL: endpoint, APIVersion: version, V1: v1}
		t.Run(name+" stream", func(t *testing.T) {
			got := famSend(t, p, &Request{Model: deployment, Prompt: prompt, MaxTokens: 64, Stream: true})
			famCheckAnswer(t, got, true, "stop", "length")
		})
		t.Run(name, func(t *testing.T) {
			got := famSend(t, p, &Request{Model: deployment, Prompt: prompt, MaxTokens: 64})
			famCheckAnswer(t, got, false, "stop", "length")
		})
		t.Run(name+" list models", func(t *testing.T) {
			ids, err := famListModels(t, p)
			if err != nil || len(ids) == 0 {
				t.Fatalf("%d models, %v", len(ids), err)
			}
		})
	}
	t.Run("unknown deployment", func(t *testing.T) {
		got := famSend(t, &Azure{BaseURL: endpoint, APIVersion: version},
			&Request{Model: "lens-no-such-deployment", Prompt: "hi", MaxTokens: 8, Stream: true})
		var ae *APIError
		if !errors.As(got.Err, &ae) || ae.StatusCode != 404 || ae.Code != "DeploymentNotFound" {
			t.Errorf("unknown deployment: %v", got.Err)
		}
	})
	t.Run("wrong key", func(t *testing.T) {
		const bad = "lens-integration-wrong-azure-key-0000"
		famBadKey(t, &Azure{BaseURL: endpoint, APIKey: bad, APIVersion: version},
			&Request{Model: deployment, Prompt: "hi", MaxTokens: 8, Stream: true}, bad)
	})
}

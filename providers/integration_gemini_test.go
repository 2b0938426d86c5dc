package providers

import (
	"cmp"
	"os"
	"testing"
)

// TestIntegrationGemini sends real requests to the Gemini API (Google AI
// Studio). It runs only when GEMINI_API_KEY is set (it spends a few
// tokens); the model is $LENS_TEST_GEMINI_MODEL, or gemini-2.5-flash.
func TestIntegrationGemini(t *testing.T) {
	if os.Getenv("GEMINI_API_KEY") == "" {
		t.Skip("set GEMINI_API_KEY to run the Gemini integration test")
	}
	runLiveChecks(t, liveCase{
		p:      &Gemini{},
		bad:    &Gemini{APIKey: "AIzaSy-not-a-real-key-0123456789abcdef"},
		model:  cmp.Or(os.Getenv("LENS_TEST_GEMINI_MODEL"), "gemini-2.5-flash"),
		finish: "STOP|MAX_TOKENS",
	})
}

// TestIntegrationVertex sends real requests to Vertex AI. It runs only
// when GOOGLE_CLOUD_PROJECT and GOOGLE_ACCESS_TOKEN are set (as from
// "gcloud auth print-access-token"); the location is
// $GOOGLE_CLOUD_LOCATION, or us-central1, and the model
// $LENS_TEST_GEMINI_MODEL, or gemini-2.5-flash.
func TestIntegrationVertex(t *testing.T) {
	project := os.Getenv("GOOGLE_CLOUD_PROJECT")
	if project == "" || os.Getenv("GOOGLE_ACCESS_TOKEN") == "" {
		t.Skip("set GOOGLE_CLOUD_PROJECT and GOOGLE_ACCESS_TOKEN to run the Vertex AI integration test")
	}
	location := os.Getenv("GOOGLE_CLOUD_LOCATION")
	runLiveChecks(t, liveCase{
		p:      &Gemini{Project: project, Location: location},
		bad:    &Gemini{Project: project, Location: location, AccessToken: "ya29.not-a-real-token-0123456789"},
		model:  cmp.Or(os.Getenv("LENS_TEST_GEMINI_MODEL"), "gemini-2.5-flash"),
		finish: "STOP|MAX_TOKENS",
	})
}

package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/llm-latency-lens/lens/report"
)

// TestRunFollowsNoRedirect: lens-report run, with a provider of every type
// whose endpoint redirects to another server, sends that server nothing:
// no auth header of any type and no configured header; every request ends
// as "redirect" in the result file.
func TestRunFollowsNoRedirect(t *testing.T) {
	const key, custom = "tok-must-stay-home-0123456789", "hdr-must-stay-home"
	var mu sync.Mutex
	var leaked []string
	to := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		leaked = append(leaked, r.Method+" "+r.URL.Path)
		w.WriteHeader(http.StatusOK)
	}))
	defer to.Close()
	for _, status := range []int{http.StatusFound, http.StatusTemporaryRedirect} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			from := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Location", to.URL+r.URL.Path)
				w.WriteHeader(status)
			}))
			defer from.Close()
			// One provider per type, each with the token in its API's own
			// way, and a custom header.
			provider := func(name, typ, endpoint, auth, settings string) string {
				return fmt.Sprintf(`  - name: %s
    type: %s
    endpoint: %s
    auth: {%stoken: %s}
    models: [m]
    headers: {X-Custom-Secret: %s}
    settings: {%s}
`, name, typ, endpoint, auth, key, custom, settings)
			}
			u := from.URL
			cfg := "version: \"1.0\"\nproviders:\n" +
				provider("openai", "openai", u+"/v1", "", "") +
				provider("responses", "responses", u+"/v1", "", "") +
				provider("anthropic", "anthropic", u+"/v1", "", "") +
				provider("gemini", "gemini", u+"/v1beta", "", "") +
				provider("vertex", "vertex", u+"/v1", "", "project: p") +
				provider("azure", "azure", u, "", "") +
				provider("azure-entra", "azure", u, "type: bearer, ", "") +
				provider("cohere", "cohere", u, "", "") +
				provider("generic", "generic", u+"/v1/chat/completions", "type: api_key, header: X-Generic-Auth, ",
					`body: {model: "{{model}}", prompt: "{{prompt}}"}, text_path: text`) +
				`workload:
  scenarios:
    - name: chat
      prompt: "Say hello"
      requests: 2
output:
  console: {format: minimal}
`
			dir := t.TempDir()
			path := filepath.Join(dir, "config.yaml")
			require.NoError(t, os.WriteFile(path, []byte(cfg), 0o644))
			out := filepath.Join(dir, "result.json")
			code, stdout, stderr := cli(t, "", "run", "-config", path, "-o", out, "-progress", "off")
			require.NotEqual(t, 2, code, "the configuration loads: %s", stderr)
			assert.NotContains(t, stdout+stderr, key)
			mu.Lock()
			assert.Empty(t, leaked, "requests reached the redirect's target")
			leaked = nil
			mu.Unlock()
			f, err := report.ReadFile(out)
			require.NoError(t, err, stderr)
			seen := 0
			for _, s := range f.Scenarios {
				for _, r := range s.Results {
					seen++
					assert.EqualValues(t, 0, r.Metrics.SuccessfulRequests, r.Provider)
					assert.EqualValues(t, map[string]int64{"redirect": 2}, r.Metrics.Errors, r.Provider)
					assert.Contains(t, r.Metrics.ErrorSamples["redirect"], "redirect not followed: "+fmt.Sprint(status)+" ", r.Provider)
					assert.Contains(t, r.Metrics.ErrorSamples["redirect"], to.URL, r.Provider)
				}
			}
			assert.Equal(t, 9, seen, "one result per provider")
		})
	}
}

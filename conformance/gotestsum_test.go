package conformance

import (
	"encoding/xml"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestGotestsumJUnitCarriesLensAttrs: gotestsum, the JUnit tool Go teams
// already run, puts the lens.* attributes that lenstest records with t.Attr
// on the test case as properties, so that its JUnit file alone carries the
// numbers.
func TestGotestsumJUnitCarriesLensAttrs(t *testing.T) {
	if testing.Short() {
		t.Skip("builds gotestsum and runs a go test of its own")
	}
	dir := t.TempDir()
	run := exec.Command("go", "test", "-json", "-count=1", "-run", "^TestSLOHolds$", "./report/junit/testdata/junitpkg")
	run.Dir = ".."
	events, err := run.Output()
	require.NoError(t, err, "go test -json of the SLO package")
	eventsPath := filepath.Join(dir, "events.json")
	require.NoError(t, os.WriteFile(eventsPath, events, 0o644))

	junitPath := filepath.Join(dir, "junit.xml")
	out, err := exec.Command("go", "tool", "gotestsum", "--junitfile", junitPath, "--raw-command", "--", "cat", eventsPath).CombinedOutput()
	require.NoError(t, err, "gotestsum: %s", out)
	data, err := os.ReadFile(junitPath)
	require.NoError(t, err)

	var doc struct {
		Suites []struct {
			Cases []struct {
				Name  string `xml:"name,attr"`
				Props []struct {
					Name  string `xml:"name,attr"`
					Value string `xml:"value,attr"`
				} `xml:"properties>property"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	require.NoError(t, xml.Unmarshal(data, &doc))
	props := map[string]string{}
	for _, s := range doc.Suites {
		for _, c := range s.Cases {
			if c.Name == "TestSLOHolds" {
				for _, p := range c.Props {
					props[p.Name] = p.Value
				}
			}
		}
	}
	for _, k := range []string{"lens.scenario", "lens.requests", "lens.ttft.p95_ms", "lens.e2e.p95_ms", "lens.error_rate"} {
		assert.NotEmpty(t, props[k], "property %s on TestSLOHolds in gotestsum's JUnit:\n%s", k, data)
	}
	assert.Equal(t, "80", props["lens.requests"])
}

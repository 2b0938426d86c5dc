package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCompareAndMergeRefuseWhatTheyCannotUse: compare exits 1, saying
// what, when a scenario is missing from a file or a result's metrics are
// null (-partial lets a missing result go when another is compared), and
// merge refuses a shard whose counts do not hold together.
func TestCompareAndMergeRefuseWhatTheyCannotUse(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.json")
	code, _, errOut := cli(t, "", "run", "-config", writeConfig(t, dir, "ttft_ms: 5, output_tokens: 4", 40), "-o", good, "-format", "minimal", "-progress", "off")
	require.Equal(t, 0, code, errOut)
	data, err := os.ReadFile(good)
	require.NoError(t, err)
	variant := func(name, old, new string) string {
		t.Helper()
		s := strings.Replace(string(data), old, new, 1)
		require.NotEqual(t, string(data), s, "%q not in the file", old)
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(s), 0o644))
		return p
	}
	renamed := variant("renamed.json", `"name": "chat"`, `"name": "other"`)
	nullMetrics := nulled(t, dir, data, "metrics")
	code, out, errOut := cli(t, "", "compare", "-color", "off", good, good)
	assert.Equal(t, 0, code, out+errOut)
	code, out, errOut = cli(t, "", "compare", "-color", "off", good, renamed)
	assert.Equal(t, 1, code, out+errOut)
	assert.Contains(t, errOut, "cannot compare")
	assert.Contains(t, errOut, "chat fake/fake-model: only in the old file")
	assert.NotContains(t, out, "no regression (")
	code, _, errOut = cli(t, "", "compare", "-partial", good, renamed)
	assert.Equal(t, 1, code, "-partial still needs something in common")
	assert.Contains(t, errOut, "no scenario, provider and model in common")
	code, _, errOut = cli(t, "", "compare", good, nullMetrics)
	assert.NotZero(t, code)
	assert.Contains(t, errOut, "no metrics (missing or null)")

	// A shard that claims successes without their latencies does not load,
	// so it cannot be merged.
	noLatency := nulled(t, dir, data, "latency")
	code, _, errOut = cli(t, "", "merge", "-o", filepath.Join(dir, "m.json"), good, noLatency)
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "null-latency.json")
	assert.Contains(t, errOut, "no latency.total_duration", errOut)
	goodput := variant("goodput.json", `"goodput": 1`, `"goodput": 1e308`)
	code, _, errOut = cli(t, "", "show", goodput)
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "goodput 1e+308")
}

// nulled writes data with the first object under key replaced by null, to
// dir/null-KEY.json, and returns the path.
func nulled(t *testing.T, dir string, data []byte, key string) string {
	t.Helper()
	s := string(data)
	i := strings.Index(s, `"`+key+`": {`)
	require.Positive(t, i, key)
	j, depth := i+len(`"`+key+`": `), 0
	for k := j; k < len(s); k++ {
		switch s[k] {
		case '{':
			depth++
		case '}':
			depth--
		}
		if depth == 0 {
			s = s[:j] + "null" + s[k+1:]
			break
		}
	}
	p := filepath.Join(dir, "null-"+key+".json")
	require.NoError(t, os.WriteFile(p, []byte(s), 0o644))
	return p
}

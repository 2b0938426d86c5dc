package conformance

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/rhysd/actionlint"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/llm-latency-lens/lens/config"
)

// manifests are the example Kubernetes manifests.
var manifests = []string{"../examples/kubernetes/job.yaml", "../examples/kubernetes/merge-job.yaml"}

// documents splits a YAML stream into its documents.
func documents(t *testing.T, path string) [][]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	var docs [][]byte
	for _, d := range regexp.MustCompile(`(?m)^---\s*$`).Split(string(b), -1) {
		if strings.TrimSpace(regexp.MustCompile(`(?m)^\s*#.*$`).ReplaceAllString(d, "")) != "" {
			docs = append(docs, []byte(d))
		}
	}
	return docs
}

// TestKubernetesManifests checks the Indexed Job example two ways: every
// field of every object decodes strictly into the Kubernetes API types (an
// unknown or misspelt field, or a value of the wrong type, fails), with
// the sharding wired as documented; and kubectl apply --dry-run=client
// --validate=false accepts the files. kubectl needs an API server's
// discovery to map kinds to resources even in a client dry run, so it is
// pointed at a stub that serves the discovery documents of the core and
// batch groups (and answers 404 to every object, which a dry-run apply reads
// as "to be created"); the stub checks that kubectl sent nothing but reads.
func TestKubernetesManifests(t *testing.T) {
	var jobs []batchv1.Job
	var shardConfig string
	for _, path := range manifests {
		for i, doc := range documents(t, path) {
			var tm metav1.TypeMeta
			require.NoError(t, yaml.Unmarshal(doc, &tm), "%s document %d", path, i)
			var obj any
			switch tm.APIVersion + " " + tm.Kind {
			case "v1 ConfigMap":
				obj = &corev1.ConfigMap{}
			case "v1 PersistentVolumeClaim":
				obj = &corev1.PersistentVolumeClaim{}
			case "batch/v1 Job":
				obj = &batchv1.Job{}
			default:
				t.Fatalf("%s document %d: unexpected %s %s", path, i, tm.APIVersion, tm.Kind)
			}
			require.NoError(t, yaml.UnmarshalStrict(doc, obj), "%s document %d (%s)", path, i, tm.Kind)
			switch o := obj.(type) {
			case *batchv1.Job:
				jobs = append(jobs, *o)
			case *corev1.ConfigMap:
				shardConfig = o.Data["bench.yaml"]
			}
		}
	}
	require.Len(t, jobs, 2)
	require.NotEmpty(t, shardConfig, "the ConfigMap holds bench.yaml")
	_, err := config.Parse([]byte(shardConfig), "bench.yaml")
	require.NoError(t, err, "the ConfigMap's configuration loads")

	shards, merge := jobs[0], jobs[1]
	require.NotNil(t, shards.Spec.CompletionMode)
	assert.Equal(t, batchv1.IndexedCompletion, *shards.Spec.CompletionMode)
	n := *shards.Spec.Completions
	assert.Equal(t, n, *shards.Spec.Parallelism, "every shard runs at once")
	c := shards.Spec.Template.Spec.Containers[0]
	assert.Contains(t, c.Args, fmt.Sprintf("-shard=$(JOB_COMPLETION_INDEX)/%d", n), "the shard count is the completions")
	assert.Contains(t, c.Args, "-start-at=$(START_AT)")
	assert.Contains(t, c.Args, "-o=/results/shard-$(JOB_COMPLETION_INDEX).json")
	var env []string
	for _, e := range c.Env {
		env = append(env, e.Name)
		if e.Name == "JOB_COMPLETION_INDEX" {
			assert.Equal(t, "metadata.annotations['batch.kubernetes.io/job-completion-index']", e.ValueFrom.FieldRef.FieldPath)
		}
	}
	assert.Equal(t, []string{"JOB_COMPLETION_INDEX", "START_AT"}, env, "$(VAR) in args expands only from declared env")
	m := merge.Spec.Template.Spec.Containers[0]
	require.Equal(t, "merge", m.Args[0])
	var merged []string
	for i := range n {
		merged = append(merged, fmt.Sprintf("/results/shard-%d.json", i))
	}
	assert.Equal(t, merged, m.Args[2:], "the merge job reads every shard's file")

	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		t.Skip("kubectl is not installed (.ci/run installs Debian's kubernetes-client): the manifests were checked against the API types only")
	}
	api := discoveryStub(t)
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	require.NoError(t, os.WriteFile(kubeconfig, []byte(fmt.Sprintf(`apiVersion: v1
kind: Config
clusters: [{name: stub, cluster: {server: %q}}]
contexts: [{name: stub, context: {cluster: stub, user: stub, namespace: default}}]
users: [{name: stub, user: {}}]
current-context: stub
`, api.URL)), 0o600))
	args := []string{"--kubeconfig", kubeconfig, "--cache-dir", t.TempDir(), "apply", "--dry-run=client", "--validate=false"}
	for _, p := range manifests {
		args = append(args, "-f", p)
	}
	cmd := exec.Command(kubectl, args...)
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "kubectl: %s", out)
	for _, want := range []string{"configmap/lens-bench created (dry run)", "persistentvolumeclaim/lens-results created (dry run)",
		"job.batch/lens-shards created (dry run)", "job.batch/lens-merge created (dry run)"} {
		assert.Contains(t, string(out), want)
	}
}

// discoveryStub serves the discovery documents of the core (v1) and batch
// (batch/v1) groups, and 404 for anything else. A request that is not a
// read fails the test.
func discoveryStub(t *testing.T) *httptest.Server {
	resource := func(name, kind string) map[string]any {
		return map[string]any{"name": name, "singularName": strings.ToLower(kind), "namespaced": true, "kind": kind,
			"verbs": []string{"create", "delete", "get", "list", "patch", "update", "watch"}}
	}
	docs := map[string]any{
		"/api": map[string]any{"kind": "APIVersions", "versions": []string{"v1"},
			"serverAddressByClientCIDRs": []any{map[string]any{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1"}}},
		"/apis": map[string]any{"kind": "APIGroupList", "apiVersion": "v1", "groups": []any{map[string]any{
			"name": "batch", "versions": []any{map[string]any{"groupVersion": "batch/v1", "version": "v1"}},
			"preferredVersion": map[string]any{"groupVersion": "batch/v1", "version": "v1"}}}},
		"/api/v1": map[string]any{"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": "v1",
			"resources": []any{resource("configmaps", "ConfigMap"), resource("persistentvolumeclaims", "PersistentVolumeClaim")}},
		"/apis/batch/v1": map[string]any{"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": "batch/v1",
			"resources": []any{resource("jobs", "Job")}},
	}
	var mu sync.Mutex
	var writes []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			mu.Lock()
			writes = append(writes, r.Method+" "+r.URL.Path)
			mu.Unlock()
		}
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		if doc, ok := docs[r.URL.Path]; ok {
			_ = json.NewEncoder(w).Encode(doc)
			return
		}
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"NotFound","code":404}`))
	}))
	t.Cleanup(func() {
		srv.Close()
		mu.Lock()
		defer mu.Unlock()
		assert.Empty(t, writes, "a client dry run sends no write")
	})
	return srv
}

// TestGitHubActionsWorkflow checks the example matrix workflow with
// actionlint (syntax, expressions, job dependencies and outputs, action
// inputs), and that its matrix has as many shards as its -shard names.
func TestGitHubActionsWorkflow(t *testing.T) {
	const path = "../examples/github-actions/lens-shards.yml"
	var out bytes.Buffer
	l, err := actionlint.NewLinter(&out, &actionlint.LinterOptions{})
	require.NoError(t, err)
	errs, err := l.LintFile(path, nil)
	require.NoError(t, err)
	assert.Empty(t, errs, "actionlint:\n%s", out.String())

	b, err := os.ReadFile(path)
	require.NoError(t, err)
	var wf struct {
		Jobs map[string]struct {
			Needs    any `json:"needs"`
			Strategy struct {
				Matrix struct {
					Shard []int `json:"shard"`
				} `json:"matrix"`
			} `json:"strategy"`
			Steps []struct {
				Run string `json:"run"`
			} `json:"steps"`
		} `json:"jobs"`
	}
	require.NoError(t, yaml.Unmarshal(b, &wf))
	shard := wf.Jobs["shard"]
	n := len(shard.Strategy.Matrix.Shard)
	require.Positive(t, n)
	for i, s := range shard.Strategy.Matrix.Shard {
		assert.Equal(t, i, s, "the matrix numbers the shards 0..n-1")
	}
	var runs []string
	for _, s := range shard.Steps {
		runs = append(runs, s.Run)
	}
	assert.True(t, slices.ContainsFunc(runs, func(r string) bool {
		return strings.Contains(r, fmt.Sprintf("-shard ${{ matrix.shard }}/%d", n)) && strings.Contains(r, "-start-at ${{ needs.plan.outputs.start_at }}")
	}), "the shard step runs -shard i/%d from the planned start: %q", n, runs)
	assert.Equal(t, "shard", wf.Jobs["merge"].Needs, "merge waits for every shard")
}

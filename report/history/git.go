package history

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"time"
)

// DetectGit returns the commit and branch of the code in dir. CI systems
// check out a detached commit, so their variables come first
// (GITHUB_SHA with GITHUB_HEAD_REF or GITHUB_REF_NAME, CI_COMMIT_SHA with
// CI_COMMIT_REF_NAME, BUILDKITE_COMMIT with BUILDKITE_BRANCH, GIT_COMMIT
// with GIT_BRANCH); then git itself is asked. Both are empty outside a
// repository or without git; the branch is empty on a detached HEAD that
// no variable names.
func DetectGit(dir string) (commit, branch string) {
	for _, v := range [][3]string{
		{"GITHUB_SHA", "GITHUB_HEAD_REF", "GITHUB_REF_NAME"},
		{"CI_COMMIT_SHA", "CI_COMMIT_REF_NAME", ""},
		{"BUILDKITE_COMMIT", "BUILDKITE_BRANCH", ""},
		{"GIT_COMMIT", "GIT_BRANCH", ""},
	} {
		if c := os.Getenv(v[0]); c != "" {
			b := os.Getenv(v[1])
			if b == "" && v[2] != "" {
				b = os.Getenv(v[2])
			}
			return c, b
		}
	}
	commit = git(dir, "rev-parse", "HEAD")
	if commit == "" {
		return "", ""
	}
	branch = git(dir, "symbolic-ref", "--short", "-q", "HEAD")
	return commit, branch
}

// git runs one git command in dir and returns its trimmed output, or ""
// when it fails.
func git(dir string, args ...string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

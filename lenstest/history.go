package lenstest

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/llm-latency-lens/lens"
	resultfile "github.com/llm-latency-lens/lens/report"
	"github.com/llm-latency-lens/lens/report/history"
)

// HistoryEnv names the environment variable that makes Bench append every
// result to an SQLite run history: LENS_HISTORY=path go test ./... adds one
// run per Bench call, its result tagged with the test's name (tb.Name()),
// the run with the git commit and branch of the package's directory. The
// file is created when missing; lens-report history reads it. A result
// that cannot be appended fails the test.
//
// The result is appended when the test (or benchmark round) ends, as the
// Result stands then: with the requests its assertions' verdicts topped
// up (lens.Scenario.MaxRequests), and the latest verdict on every gate
// they judged (outcome, estimate, interval, requests), which lens-report
// history list and trend show.
//
// Under a benchmark, whose function runs once per round with a growing
// b.N, only the last round of each benchmark (each -count repetition
// apart) is kept.
const HistoryEnv = "LENS_HISTORY"

// histories are the history files this process appended to, by path.
var histories = struct {
	sync.Mutex
	files map[string]*testHistory
}{files: map[string]*testHistory{}}

// testHistory is what this process knows of one history file. The file
// itself is opened for each append and closed after it, so that no
// goroutine of the database outlives the call: tests in testing/synctest
// bubbles and goroutine leak checks stay clean.
type testHistory struct {
	commit, branch string

	// bench holds, per benchmark name, its latest run and that round's
	// b.N: a round with a larger N replaces it, a smaller one (a new
	// -count repetition, which starts again at 1) is a new run.
	bench map[string]benchRound
}

type benchRound struct {
	id int64
	n  int
}

// appendHistory appends r to the history LENS_HISTORY names, if any, when
// the test ends: after every top-up and verdict of its assertions.
func appendHistory(tb testing.TB, r *Result) {
	path := os.Getenv(HistoryEnv)
	if path == "" {
		return
	}
	n, isBench := 0, false
	if b, ok := tb.(*testing.B); ok {
		n, isBench = b.N, true
	}
	tb.Cleanup(func() {
		gates := make([]resultfile.Gate, len(r.verdicts))
		for i, v := range r.verdicts {
			gates[i] = resultfile.GateOf(v)
		}
		if err := appendTo(path, tb.Name(), isBench, n, r.Result, gates); err != nil {
			tb.Errorf("lenstest: %s: %v", HistoryEnv, err)
		}
	})
}

// appendTo appends res with the verdicts gates, of the test or benchmark
// name (a benchmark's round of b.N = n), to the history at path.
func appendTo(path, name string, isBench bool, n int, res *lens.Result, gates []resultfile.Gate) error {
	abs, err := filepath.Abs(path)
	if err != nil {
		return err
	}
	histories.Lock()
	defer histories.Unlock()
	h := histories.files[abs]
	if h == nil {
		h = &testHistory{bench: map[string]benchRound{}}
		h.commit, h.branch = history.DetectGit(".")
		histories.files[abs] = h
	}
	f, err := resultfile.FromResults([]*lens.Result{res}, resultfile.Metadata{})
	if err != nil {
		return err
	}
	f.Scenarios[0].Results[0].Gates = gates
	st, err := history.Open(abs)
	if err != nil {
		return err
	}
	defer st.Close()
	info := history.RunInfo{Source: "go test", Commit: h.commit, Branch: h.branch, Test: name}
	ctx := context.Background()
	if !isBench {
		_, err := st.Append(ctx, f, info)
		return err
	}
	prev, seen := h.bench[name]
	var id int64
	if seen && n > prev.n {
		id, err = st.Replace(ctx, prev.id, f, info)
	} else {
		id, err = st.Append(ctx, f, info)
	}
	if err != nil {
		return err
	}
	h.bench[name] = benchRound{id: id, n: n}
	return st.Close()
}

package history

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/llm-latency-lens/lens"
	"github.com/llm-latency-lens/lens/report"
	"github.com/llm-latency-lens/lens/stats"
)

// synthFile is a result file of one scenario with n requests whose TTFT
// is log-normal around 100ms × ttftScale, drawn from seed, started at t.
func synthFile(t time.Time, seed uint64, n int, ttftScale float64) *report.File {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	logn := func(median time.Duration) time.Duration {
		return time.Duration(float64(median) * math.Exp(0.3*rng.NormFloat64()))
	}
	r := &lens.Result{
		Scenario: "chat", Provider: "openai", Model: "gpt-4o-mini",
		Started: t, Elapsed: 10 * time.Second, Concurrency: 4,
		Errors:       map[lens.ErrorClass]int64{lens.ErrorClass("http_5xx"): 2},
		ErrorSamples: map[lens.ErrorClass]string{lens.ErrorClass("http_5xx"): "500 boom"},
		RetriedBy:    map[lens.ErrorClass]int64{},
		TTFT:         stats.NewLatency(), ITL: stats.NewLatency(), TPOT: stats.NewLatency(),
		E2E: stats.NewLatency(), TTFB: stats.NewLatency(), DNS: stats.NewLatency(),
		Connect: stats.NewLatency(), TLS: stats.NewLatency(), QueueDelay: stats.NewLatency(),
		TokensPerSecond: stats.NewValues(), OutputTokens: stats.NewValues(),
		Priced: true, Price: lens.Price{Input: 0.15, Output: 0.6},
		InputTokensTotal: int64(10 * n), InputTokensCounted: int64(n), OutputTokensTotal: int64(16 * n),
	}
	for range n {
		ttft := time.Duration(float64(logn(100*time.Millisecond)) * ttftScale)
		tpot := logn(5 * time.Millisecond)
		e2e := ttft + 15*tpot
		r.TTFT.Record(ttft)
		r.TPOT.Record(tpot)
		r.E2E.Record(e2e)
		r.TTFB.Record(ttft / 2)
		r.QueueDelay.Record(0)
		for range 15 {
			r.ITL.Record(logn(5 * time.Millisecond))
		}
		r.TokensPerSecond.Record(16 / e2e.Seconds())
		r.OutputTokens.Record(16)
	}
	r.Total, r.Succeeded, r.Failed, r.Attempts = int64(n+2), int64(n), 2, int64(n+2)
	r.FirstSend, r.LastSend = t, t.Add(9*time.Second)
	f, err := report.FromResults([]*lens.Result{r}, report.Metadata{ConfigHash: "c0ffee", Version: "v0.1.0"})
	if err != nil {
		panic(err)
	}
	return f
}

func openTemp(t *testing.T) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "history.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// A run read back from the history is the result file that was appended
// (raw requests apart), and every percentile recomputed from a stored
// histogram equals the result file's.
func TestStoreFileRoundTrip(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	f := synthFile(time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC), 1, 300, 1)
	id, got := appendReadBack(t, s, f, RunInfo{Commit: "abc", Branch: "main", Labels: map[string]string{"job": "ci"}})
	want := f.Scenarios[0].Results[0].Metrics.Distributions()
	have := got.Scenarios[0].Results[0].Metrics.Distributions()
	if len(want) != len(have) || len(want) < 8 {
		t.Fatalf("%d distributions read back, %d written", len(have), len(want))
	}
	for i, nd := range have {
		var again *report.Distribution
		if nd.Dist.IsLatency() {
			l, err := nd.Dist.Latency()
			if err != nil {
				t.Fatal(err)
			}
			again, err = report.LatencyDistribution(l)
			if err != nil {
				t.Fatal(err)
			}
		} else {
			v, err := nd.Dist.Values()
			if err != nil {
				t.Fatal(err)
			}
			again, err = report.ValuesDistribution(v, nd.Dist.Unit)
			if err != nil {
				t.Fatal(err)
			}
		}
		w := want[i].Dist
		if again.P95 != w.P95 || again.P99 != w.P99 || again.P999 != w.P999 || again.Median != w.Median ||
			again.P90 != w.P90 || again.Min != w.Min || again.Max != w.Max || again.Count != w.Count {
			t.Errorf("%s recomputed from the stored histogram: %+v, result file has %+v", nd.Name, again, w)
		}
	}
	if _, err := s.File(ctx, id+100); !errors.Is(err, ErrNoRun) {
		t.Errorf("File of a missing run: %v, want ErrNoRun", err)
	}
}

// A result with journeys reads back with its journey distribution, which
// the history stores with the other distributions, and "journey.p95" is a
// metric the history follows.
func TestStoreJourneyRoundTrip(t *testing.T) {
	s := openTemp(t)
	f := synthFile(time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC), 1, 50, 1)
	l := stats.NewLatency()
	for i := range 20 {
		l.Record(time.Duration(100+i) * time.Millisecond)
	}
	d, err := report.LatencyDistribution(l)
	if err != nil {
		t.Fatal(err)
	}
	m := &f.Scenarios[0].Results[0].Metrics
	m.Latency.Journey, m.Journeys = d, 20
	appendReadBack(t, s, f, RunInfo{})
	if _, err := ParseMetric("journey.p95"); err != nil {
		t.Error(err)
	}
}

// appendReadBack appends f to s with info, reads the run back and checks
// that it is f (raw requests apart); it returns the run's id and the file
// read back.
func appendReadBack(t *testing.T, s *Store, f *report.File, info RunInfo) (int64, *report.File) {
	t.Helper()
	id, err := s.Append(t.Context(), f, info)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.File(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	if jsonOf(t, got) != jsonOf(t, f) {
		t.Errorf("run %d read back differs from the file appended:\n got %s\nwant %s", id, jsonOf(t, got), jsonOf(t, f))
	}
	return id, got
}

func jsonOf(t *testing.T, f *report.File) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "f.json")
	if err := report.WriteFile(path, f); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Runs filters by scenario, branch, label, time, baseline and count, and
// lists oldest first.
func TestStoreRunsFilter(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var ids []int64
	for i := range 6 {
		f := synthFile(t0.Add(time.Duration(i)*time.Hour), uint64(i), 50, 1)
		if i == 5 {
			f.Scenarios[0].Name = "other"
		}
		branch := "main"
		if i%2 == 1 {
			branch = "feature"
		}
		id, err := s.Append(ctx, f, RunInfo{Branch: branch, Labels: map[string]string{"n": strconv.Itoa(i), "job.name": "x"}})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if err := s.Pin(ctx, "release", ids[1], ids[2]); err != nil {
		t.Fatal(err)
	}
	if err := s.Pin(ctx, "release", 999); !errors.Is(err, ErrNoRun) {
		t.Errorf("pin of a missing run: %v", err)
	}
	for _, tc := range []struct {
		name string
		f    Filter
		want []int64
	}{
		{"all", Filter{}, ids},
		{"branch", Filter{Branch: "main"}, []int64{ids[0], ids[2], ids[4]}},
		{"scenario", Filter{Scenario: "other"}, []int64{ids[5]}},
		{"label", Filter{Labels: map[string]string{"n": "3"}}, []int64{ids[3]}},
		{"dotted label", Filter{Labels: map[string]string{"job.name": "x", "n": "4"}}, []int64{ids[4]}},
		{"since until", Filter{Since: t0.Add(2 * time.Hour), Until: t0.Add(4 * time.Hour)}, []int64{ids[2], ids[3]}},
		{"last", Filter{Branch: "main", Last: 2}, []int64{ids[2], ids[4]}},
		{"before", Filter{Before: ids[3], Last: 2}, []int64{ids[1], ids[2]}},
		{"baseline", Filter{Baseline: "release"}, []int64{ids[1], ids[2]}},
	} {
		runs, err := s.Runs(ctx, tc.f)
		if err != nil {
			t.Fatal(err)
		}
		var got []int64
		for _, r := range runs {
			got = append(got, r.ID)
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: runs %v, want %v", tc.name, got, tc.want)
		}
	}
	runs, _ := s.Runs(ctx, Filter{Last: 1})
	if r := runs[0]; r.Branch != "feature" || r.Results[0] != "other openai/gpt-4o-mini" || r.Labels["n"] != "5" || r.Source != "run" {
		t.Errorf("run = %+v", r)
	}
	if n, err := s.Unpin(ctx, "release"); err != nil || n != 2 {
		t.Errorf("Unpin = %d, %v", n, err)
	}
}

// A history written by a newer version is refused with a clear message,
// and so is another application's SQLite file; reopening a current file
// works.
func TestStoreSchemaVersion(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "h.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if s, err = Open(path); err != nil {
		t.Fatalf("reopen: %v", err)
	}
	if _, err := s.db.Exec(fmt.Sprintf("PRAGMA user_version = %d", SchemaVersion+1)); err != nil {
		t.Fatal(err)
	}
	s.Close()
	_, err = Open(path)
	var se *SchemaError
	if !errors.As(err, &se) || se.Version != SchemaVersion+1 {
		t.Fatalf("Open of a newer file: %v, want a *SchemaError", err)
	}
	want := fmt.Sprintf("history: %s has schema version %d, newer than this program reads (%d): use a newer lens", path, SchemaVersion+1, SchemaVersion)
	if err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}

	other := filepath.Join(dir, "other.db")
	db, err := sql.Open("sqlite", other)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("CREATE TABLE t (x)"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if _, err := Open(other); !errors.Is(err, ErrNotHistory) {
		t.Errorf("Open of another application's database: %v, want ErrNotHistory", err)
	}
}

// childEnv names the history file a child process of
// TestStoreConcurrentProcesses appends to.
const childEnv = "LENS_HISTORY_TEST_CHILD"

// Four processes appending 25 runs each to one history file at the same
// time lose none and leave the file intact.
func TestStoreConcurrentProcesses(t *testing.T) {
	if path := os.Getenv(childEnv); path != "" {
		appendAsChild(t, path)
		return
	}
	if testing.Short() {
		t.Skip("starts 4 processes")
	}
	path := filepath.Join(t.TempDir(), "shared.db")
	const procs, each = 4, 25
	var wg sync.WaitGroup
	errs := make([]error, procs)
	outs := make([][]byte, procs)
	for p := range procs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := exec.Command(os.Args[0], "-test.run=^TestStoreConcurrentProcesses$", "-test.count=1")
			cmd.Env = append(os.Environ(), childEnv+"="+path, "LENS_HISTORY_TEST_PROC="+strconv.Itoa(p), "LENS_HISTORY_TEST_EACH="+strconv.Itoa(each))
			outs[p], errs[p] = cmd.CombinedOutput()
		}()
	}
	wg.Wait()
	for p := range procs {
		if errs[p] != nil {
			t.Fatalf("process %d: %v\n%s", p, errs[p], outs[p])
		}
	}
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	runs, err := s.Runs(context.Background(), Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != procs*each {
		t.Errorf("%d runs in the history, want %d", len(runs), procs*each)
	}
	seen := map[string]bool{}
	for _, r := range runs {
		seen[r.Labels["proc"]+"/"+r.Labels["i"]] = true
	}
	if len(seen) != procs*each {
		t.Errorf("%d distinct runs, want %d", len(seen), procs*each)
	}
	if err := s.IntegrityCheck(context.Background()); err != nil {
		t.Error(err)
	}
}

func appendAsChild(t *testing.T, path string) {
	proc := os.Getenv("LENS_HISTORY_TEST_PROC")
	each, _ := strconv.Atoi(os.Getenv("LENS_HISTORY_TEST_EACH"))
	p, _ := strconv.Atoi(proc)
	f := synthFile(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), uint64(p), 200, 1)
	// Each append opens the file anew, as a CI job would.
	for i := range each {
		s, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Append(context.Background(), f, RunInfo{Labels: map[string]string{"proc": proc, "i": strconv.Itoa(i)}}); err != nil {
			t.Fatal(err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// A history written before result file schema 2 (testdata/history-v1.db,
// which holds testdata/v1-run1.json as run 1) still opens and migrates; a
// run reads back as its result file upgraded by report.ReadFile,
// its percentiles recomputed by the nearest-rank definition rather than the
// stored ones; trends read the old histograms; and new runs append beside
// the old.
func TestStoreReadsHistoryOfResultSchema1(t *testing.T) {
	path := filepath.Join(t.TempDir(), "history.db")
	copyFile(t, "testdata/history-v1.db", path)
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	var version int
	if err := s.db.QueryRow("PRAGMA user_version").Scan(&version); err != nil || version != SchemaVersion {
		t.Fatalf("user_version %d (%v), want %d", version, err, SchemaVersion)
	}
	var old int
	if err := s.db.QueryRow("SELECT count(*) FROM distributions WHERE result_schema = 1").Scan(&old); err != nil || old == 0 {
		t.Fatalf("%d distributions marked as result file schema 1 (%v)", old, err)
	}

	want, err := report.ReadFile("testdata/v1-run1.json") // upgraded to the current schema
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	got, err := s.File(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if got.SchemaVersion != report.SchemaVersion {
		t.Errorf("schema version %d, want %d", got.SchemaVersion, report.SchemaVersion)
	}
	changed := 0
	for i := range want.Scenarios {
		w := want.Scenarios[i].Results[0].Metrics.Distributions()
		g := got.Scenarios[i].Results[0].Metrics.Distributions()
		if len(g) != len(w) {
			t.Fatalf("scenario %d: %d distributions read back, want %d", i, len(g), len(w))
		}
		stored := map[string][4]float64{}
		rows, err := s.db.Query(`SELECT d.name, d.p90, d.p95, d.p99, d.p999 FROM distributions d JOIN results r ON r.id = d.result_id
			WHERE r.run_id = 1 AND r.scenario = ?`, want.Scenarios[i].Name)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var name string
			var p [4]float64
			if err := rows.Scan(&name, &p[0], &p[1], &p[2], &p[3]); err != nil {
				t.Fatal(err)
			}
			stored[name] = p
		}
		rows.Close()
		for j := range w {
			if g[j].Name != w[j].Name || !reflect.DeepEqual(*g[j].Dist, *w[j].Dist) {
				t.Errorf("%s %s: read back %+v\nupgraded file %+v", want.Scenarios[i].Name, w[j].Name, *g[j].Dist, *w[j].Dist)
			}
			if d := w[j].Dist; stored[w[j].Name] != [4]float64{d.P90, d.P95, d.P99, d.P999} {
				changed++
			}
		}
	}
	// Otherwise the test could not tell recomputed numbers from stored ones.
	if changed == 0 {
		t.Fatal("no stored percentile differs from the upgraded file's: the fixture does not exercise the upgrade")
	}

	m, err := ParseMetric("ttfb.p50")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Append(ctx, synthFile(time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC), 3, 200, 1), RunInfo{Branch: "main"}); err != nil {
		t.Fatal(err)
	}
	series, err := s.Trend(ctx, m, Filter{})
	if err != nil {
		t.Fatal(err)
	}
	points := 0
	for _, se := range series {
		for _, p := range se.Points {
			points++
			if p.Run != 1 {
				continue
			}
			for _, sc := range want.Scenarios {
				if sc.Name == se.Scenario {
					if w := sc.Results[0].Metrics.Latency.TTFB.Median; p.Value != w {
						t.Errorf("%s: trend of run 1 says ttfb.p50 %v ms, the upgraded file %v ms", se.Key(), p.Value, w)
					}
				}
			}
		}
	}
	if points != 3 {
		t.Errorf("%d trend points over the two old runs and the new one, want 3", points)
	}
}

// TestStorePragmas: every connection of a Store waits for another
// process's lock (the busy timeout is set before the switch to WAL, which
// locks a new file exclusively), and the file is in WAL mode.
func TestStorePragmas(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "h.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.db.SetMaxOpenConns(3)
	for range 3 { // each connection, not only the first
		var mode string
		var timeout, fk int
		if err := s.db.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil {
			t.Fatal(err)
		}
		if err := s.db.QueryRow("PRAGMA busy_timeout").Scan(&timeout); err != nil {
			t.Fatal(err)
		}
		if err := s.db.QueryRow("PRAGMA foreign_keys").Scan(&fk); err != nil {
			t.Fatal(err)
		}
		if mode != "wal" || timeout != int(busyTimeout.Milliseconds()) || fk != 1 {
			t.Errorf("journal_mode %s, busy_timeout %d, foreign_keys %d; want wal, %d, 1", mode, timeout, fk, busyTimeout.Milliseconds())
		}
	}
}

// Opening a new file from many connections at once (as parallel CI jobs
// sharing one history do) must not fail with "database is locked": the
// switch of a new file to WAL can answer SQLITE_BUSY without waiting.
// Before Open tried again, 8 opens at once failed within 20 rounds.
func TestOpenNewFileConcurrently(t *testing.T) {
	const rounds, opens = 100, 8
	for round := range rounds {
		path := filepath.Join(t.TempDir(), fmt.Sprintf("new%d.db", round))
		var wg sync.WaitGroup
		errs := make([]error, opens)
		for i := range opens {
			wg.Add(1)
			go func() {
				defer wg.Done()
				s, err := Open(path)
				if err != nil {
					errs[i] = err
					return
				}
				errs[i] = s.Close()
			}()
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				t.Fatalf("round %d: %v", round, err)
			}
		}
	}
}

package history

import (
	"context"
	"database/sql"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/llm-latency-lens/lens/report"
)

// A history file of schema version 1 (written by the version before gate
// verdicts were kept: testdata/history-v1.db holds testdata/v1-run1.json
// as run 1 and a second run) opens, is migrated to the current version
// with its runs intact, and then keeps the gates of the runs appended to
// it, which list, File and Trend show.
func TestStoreMigratesSchema1(t *testing.T) {
	path := filepath.Join(t.TempDir(), "h.db")
	copyFile(t, "testdata/history-v1.db", path)
	if v := userVersion(t, path); v != 1 {
		t.Fatalf("the fixture has schema version %d, want 1", v)
	}

	s, err := Open(path)
	if err != nil {
		t.Fatalf("Open of a version 1 file: %v", err)
	}
	defer s.Close()
	if v := userVersion(t, path); v != SchemaVersion {
		t.Fatalf("after Open the file has schema version %d, want %d", v, SchemaVersion)
	}
	ctx := context.Background()
	runs, err := s.Runs(ctx, Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 2 || runs[0].Labels["ci"] != "old" || runs[1].Branch != "main" || len(runs[0].Gates) != 0 {
		t.Fatalf("the migrated file's runs: %+v, want the 2 runs of the fixture, without gates", runs)
	}

	// Run 1 is the result file it was added from, less the gates that
	// version did not keep.
	want, err := report.ReadFile("testdata/v1-run1.json")
	if err != nil {
		t.Fatal(err)
	}
	gates := want.Scenarios[0].Results[0].Gates
	if len(gates) != 1 {
		t.Fatalf("the fixture's result has %d gates, want 1", len(gates))
	}
	want.Scenarios[0].Results[0].Gates = nil
	got, err := s.File(ctx, runs[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if jsonOf(t, got) != jsonOf(t, want) {
		t.Errorf("run 1 after the migration differs from the file it was added from:\n got %s\nwant %s", jsonOf(t, got), jsonOf(t, want))
	}

	// A run appended now keeps its gates.
	want.Scenarios[0].Results[0].Gates = gates
	id, _ := appendReadBack(t, s, want, RunInfo{Branch: "main"})
	runs, err = s.Runs(ctx, Filter{})
	if err != nil {
		t.Fatal(err)
	}
	var g []GateVerdict
	for _, r := range runs {
		if r.ID == id {
			g = r.Gates
		}
	}
	if len(g) != 1 || g[0].Result != "chat fake/fake-model" || g[0].Name != "ttft_p95" || g[0].Outcome != gates[0].Outcome ||
		g[0].EstimateMs != gates[0].EstimateMs || g[0].Requests != 40 {
		t.Errorf("list of the new run: gates %+v, want the result file's %+v", g, gates)
	}
	var table strings.Builder
	if err := WriteRuns(&table, runs); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(table.String(), "GATES") || !strings.Contains(table.String(), "ttft_p95 "+gates[0].Outcome) {
		t.Errorf("the runs table does not show the gate:\n%s", table.String())
	}

	series, err := s.Trend(ctx, Metric{Gate: "ttft_p95"}, Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(series) != 1 || len(series[0].Points) != 1 {
		t.Fatalf("trend of gate:ttft_p95: %+v, want one point (the only run with gates)", series)
	}
	p := series[0].Points[0]
	if p.Run != id || p.Value != gates[0].EstimateMs || p.Lo != gates[0].LoMs || p.N != gates[0].Requests || p.Outcome != gates[0].Outcome {
		t.Errorf("trend point %+v, want the verdict %+v", p, gates[0])
	}

	// Deleting the run (as Replace does) deletes its gates.
	if _, err := s.Replace(ctx, id, want, RunInfo{}); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := s.db.QueryRow("SELECT count(*) FROM gates").Scan(&n); err != nil || n != 1 {
		t.Errorf("%d gate rows after replacing the run (%v), want 1", n, err)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

// userVersion reads the schema version of the SQLite file at path.
func userVersion(t *testing.T, path string) int {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var v int
	if err := db.QueryRow("PRAGMA user_version").Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

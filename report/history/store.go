package history

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"time"

	// modernc.org/sqlite is SQLite translated to Go: no cgo, so the
	// history works wherever the module builds (cross-compiled CI images,
	// CGO_ENABLED=0), unlike mattn/go-sqlite3. It is also the better fit
	// than ncruces/go-sqlite3 (SQLite compiled to WebAssembly and run by
	// wazero) for a short-lived CLI: no WebAssembly runtime to start. The
	// version is the newest whose go.mod still allows Go 1.25.
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/llm-latency-lens/lens/report"
)

// SchemaVersion is the version of the history schema this package writes.
// Open migrates an older file to it and refuses a newer one with a
// *SchemaError.
//
// Version 2 adds the gates table: each SLO gate's verdict. Version 3 adds
// distributions.result_schema, the result file schema version whose
// definitions a distribution's summary columns follow (report.SchemaVersion
// when it was appended). Distributions appended before version 3 hold
// result file schema 1: percentiles of rank floor(p/100 × n + 0.5) on
// latency histograms of 1µs lowest discernible value. Their stored
// histograms are read as they are; Store.File recomputes their numbers.
const SchemaVersion = 3

// applicationID marks an SQLite file as a lens history ("LENS" in ASCII),
// in the header's application_id field.
const applicationID = 0x4c454e53

// busyTimeout is how long a writer waits for another process's transaction
// to end before giving up: many CI jobs may append to one file at once.
const busyTimeout = 60 * time.Second

// A SchemaError is the error of Open for a history file written by a newer
// version of this package.
type SchemaError struct {
	Path    string
	Version int // the file's schema version
}

// Error says which version the file has and what to do about it.
func (e *SchemaError) Error() string {
	return fmt.Sprintf("history: %s has schema version %d, newer than this program reads (%d): use a newer lens", e.Path, e.Version, SchemaVersion)
}

// ErrNotHistory is the error, wrapped, of Open for an SQLite file that is
// not a lens history (another application's database).
var ErrNotHistory = errors.New("not a lens history file")

// migrations[i] brings a history from schema version i to i+1. Each runs
// in the transaction that also sets the new version, so a file is never
// left between two versions.
var migrations = []string{
	// 0 -> 1: runs, their results, every result's distributions with the
	// encoded histogram, and pinned baselines.
	`
CREATE TABLE runs (
	id            INTEGER PRIMARY KEY AUTOINCREMENT,
	time_ns       INTEGER NOT NULL,            -- the run's start, Unix nanoseconds
	recorded_ns   INTEGER NOT NULL,            -- when it was appended
	source        TEXT NOT NULL,               -- "run", "go test", "import"
	git_commit    TEXT NOT NULL DEFAULT '',
	git_branch    TEXT NOT NULL DEFAULT '',
	config_hash   TEXT NOT NULL DEFAULT '',
	labels        TEXT NOT NULL DEFAULT '{}',  -- JSON object of strings
	hostname      TEXT NOT NULL DEFAULT '',
	os            TEXT NOT NULL DEFAULT '',
	arch          TEXT NOT NULL DEFAULT '',
	cpu_count     INTEGER NOT NULL DEFAULT 0,
	go_version    TEXT NOT NULL DEFAULT '',
	lens_version  TEXT NOT NULL DEFAULT '',
	duration_secs REAL NOT NULL DEFAULT 0,
	interrupted   INTEGER NOT NULL DEFAULT 0,
	shards        INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX runs_time ON runs(time_ns);
CREATE INDEX runs_branch ON runs(git_branch, time_ns);

CREATE TABLE results (
	id                  INTEGER PRIMARY KEY AUTOINCREMENT,
	run_id              INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
	position            INTEGER NOT NULL,      -- order in the run
	scenario            TEXT NOT NULL,
	provider            TEXT NOT NULL,
	model               TEXT NOT NULL,
	test                TEXT NOT NULL DEFAULT '',  -- the go test that ran it
	scenario_config     TEXT NOT NULL,         -- JSON of the result file's scenario config
	total_requests      INTEGER NOT NULL,
	successful_requests INTEGER NOT NULL,
	failed_requests     INTEGER NOT NULL,
	good_requests       INTEGER NOT NULL,
	prompt_tokens       INTEGER,               -- NULL: no usage reported them
	completion_tokens   INTEGER NOT NULL,
	cost_usd            REAL,                  -- NULL: price unknown
	metrics             TEXT NOT NULL          -- JSON of the metrics, distributions apart
);
CREATE INDEX results_run ON results(run_id);
CREATE INDEX results_key ON results(scenario, provider, model);

CREATE TABLE distributions (
	result_id INTEGER NOT NULL REFERENCES results(id) ON DELETE CASCADE,
	name      TEXT NOT NULL,                   -- ttft, e2e, itl, ...
	unit      TEXT NOT NULL,
	count     INTEGER NOT NULL,
	min REAL, max REAL, mean REAL, median REAL, std_dev REAL,
	p90 REAL, p95 REAL, p99 REAL, p999 REAL,
	clamped   INTEGER NOT NULL DEFAULT 0,
	histogram TEXT NOT NULL,                   -- HDR histogram, V2 compressed, base64
	PRIMARY KEY (result_id, name)
);

CREATE TABLE baselines (
	name      TEXT NOT NULL,
	run_id    INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
	pinned_ns INTEGER NOT NULL,
	PRIMARY KEY (name, run_id)
);
`,
	// 1 -> 2: the verdict of each SLO gate of a result. Runs stored
	// before have none.
	`
CREATE TABLE gates (
	result_id INTEGER NOT NULL REFERENCES results(id) ON DELETE CASCADE,
	position  INTEGER NOT NULL,                -- order among the result's gates
	name      TEXT NOT NULL,                   -- ttft_p95, error_rate, ...
	metric    TEXT NOT NULL,
	outcome   TEXT NOT NULL,                   -- pass, fail or inconclusive
	holds     INTEGER NOT NULL,
	estimate  REAL NOT NULL,                   -- ms; for error_rate a fraction
	lo        REAL NOT NULL,
	hi        REAL,                            -- NULL: no upper bound
	requests  INTEGER NOT NULL,                -- n: the measured requests the verdict used
	samples   INTEGER NOT NULL,
	gate      TEXT NOT NULL,                   -- JSON of the verdict, as a result file holds it
	PRIMARY KEY (result_id, position)
);
CREATE INDEX gates_name ON gates(name);
`,
	// 2 -> 3: which result file schema each distribution's numbers follow;
	// every distribution stored so far was written under schema 1.
	`ALTER TABLE distributions ADD COLUMN result_schema INTEGER NOT NULL DEFAULT 1;`,
}

// A Store is an open history file: an SQLite database of runs and their
// results. It is safe for concurrent use, and many processes may append to
// one file at once: the file is in WAL mode, each append is one
// transaction, and a writer waits up to a minute for another's to end.
type Store struct {
	db   *sql.DB
	path string
}

// Open opens the history file at path, creating it (and its directory
// must exist) when missing, and migrates an older schema to
// SchemaVersion. A file of a newer schema is refused with a *SchemaError,
// an SQLite file of another application with an error wrapping
// ErrNotHistory.
func Open(path string) (*Store, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("history: %w", err)
	}
	q := url.Values{}
	// Each connection runs these in this order: the busy timeout first,
	// so that switching a new file to WAL, which takes an exclusive lock,
	// waits for another process doing the same instead of failing with
	// SQLITE_BUSY.
	q["_pragma"] = []string{
		fmt.Sprintf("busy_timeout(%d)", busyTimeout.Milliseconds()),
		"journal_mode(WAL)",
		"synchronous(NORMAL)", // durable at each checkpoint; safe from corruption in WAL mode
		"foreign_keys(1)",
	}
	q.Set("_txlock", "immediate") // a writer takes the write lock at BEGIN, so a busy wait is never a deadlock
	dsn := "file:" + (&url.URL{Path: abs}).EscapedPath() + "?" + q.Encode()
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("history: open %s: %w", path, err)
	}
	s := &Store{db: db, path: path}
	// Turning a new file to WAL can answer SQLITE_BUSY at once, without
	// the busy timeout's wait, while another process opens the same file
	// for the first time; such an open is tried again until the busy
	// timeout has passed.
	deadline := time.Now().Add(busyTimeout)
	for wait := time.Millisecond; ; wait = min(2*wait, 100*time.Millisecond) {
		err = s.migrate(context.Background())
		if err == nil {
			return s, nil
		}
		if !isBusy(err) || time.Now().Add(wait).After(deadline) {
			db.Close()
			return nil, err
		}
		time.Sleep(wait + rand.N(wait))
	}
}

// isBusy reports whether err is SQLite's "database is locked".
func isBusy(err error) bool {
	var e *sqlite.Error
	return errors.As(err, &e) && e.Code()&0xff == sqlite3.SQLITE_BUSY
}

// Path returns the path the Store was opened with.
func (s *Store) Path() string { return s.path }

// Close closes the file.
func (s *Store) Close() error { return s.db.Close() }

// migrate checks the file's identity and version and brings it up to
// SchemaVersion, in one immediate transaction so that two processes
// opening a new file at once do not both create the tables.
func (s *Store) migrate(ctx context.Context) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("history: open %s: %w", s.path, err)
	}
	defer tx.Rollback()
	var version, appID int
	if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return fmt.Errorf("history: open %s: %w", s.path, err)
	}
	if err := tx.QueryRowContext(ctx, "PRAGMA application_id").Scan(&appID); err != nil {
		return fmt.Errorf("history: open %s: %w", s.path, err)
	}
	if appID != applicationID {
		var tables int
		if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_schema").Scan(&tables); err != nil {
			return fmt.Errorf("history: open %s: %w", s.path, err)
		}
		if appID != 0 || tables > 0 {
			return fmt.Errorf("history: open %s: %w (an SQLite database of another application)", s.path, ErrNotHistory)
		}
	}
	if version > SchemaVersion {
		return &SchemaError{Path: s.path, Version: version}
	}
	if version == SchemaVersion {
		return nil
	}
	for v := version; v < SchemaVersion; v++ {
		if _, err := tx.ExecContext(ctx, migrations[v]); err != nil {
			return fmt.Errorf("history: %s: migrate schema %d to %d: %w", s.path, v, v+1, err)
		}
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA application_id = %d; PRAGMA user_version = %d", applicationID, SchemaVersion)); err != nil {
		return fmt.Errorf("history: %s: set schema version: %w", s.path, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("history: %s: migrate: %w", s.path, err)
	}
	return nil
}

// RunInfo describes a run beyond its result file: where and why it ran.
type RunInfo struct {
	// Source says what produced the run: "run" (lens-report run), "go
	// test" (lenstest with LENS_HISTORY), "import" (a result file added by
	// hand). Empty means "run".
	Source string

	// Commit and Branch are the version control state of the code under
	// test (see DetectGit); empty outside a repository.
	Commit, Branch string

	// Labels are free key-value tags (ci job, environment, ...) that list
	// and check can filter on.
	Labels map[string]string

	// Test is the go test that produced the results ("TestChat/fast"),
	// for Source "go test".
	Test string
}

// Append adds the run f to the history, with info, in one transaction,
// and returns its id. Metadata (time, config hash, machine, version) comes
// from f.Metadata; raw requests are not stored.
func (s *Store) Append(ctx context.Context, f *report.File, info RunInfo) (int64, error) {
	return s.Replace(ctx, 0, f, info)
}

// Replace replaces the run old (when it exists; 0 replaces none) with f in
// one transaction, and returns the new run's id. lenstest uses it to keep
// only the last round of a benchmark, whose b.N grows from round to round.
func (s *Store) Replace(ctx context.Context, old int64, f *report.File, info RunInfo) (int64, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("history: %s: append: %w", s.path, err)
	}
	defer tx.Rollback()
	if old != 0 {
		if _, err := tx.ExecContext(ctx, "DELETE FROM runs WHERE id = ?", old); err != nil {
			return 0, fmt.Errorf("history: %s: replace run %d: %w", s.path, old, err)
		}
	}
	id, err := appendRun(ctx, tx, f, info)
	if err != nil {
		return 0, fmt.Errorf("history: %s: append: %w", s.path, err)
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("history: %s: append: %w", s.path, err)
	}
	return id, nil
}

func appendRun(ctx context.Context, tx *sql.Tx, f *report.File, info RunInfo) (int64, error) {
	if f == nil {
		return 0, errors.New("no result file")
	}
	if err := f.Validate(); err != nil {
		return 0, err
	}
	source := info.Source
	if source == "" {
		source = "run"
	}
	labels, err := json.Marshal(nonNil(info.Labels))
	if err != nil {
		return 0, err
	}
	md := f.Metadata
	res, err := tx.ExecContext(ctx, `INSERT INTO runs
		(time_ns, recorded_ns, source, git_commit, git_branch, config_hash, labels,
		 hostname, os, arch, cpu_count, go_version, lens_version, duration_secs, interrupted, shards)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		md.Timestamp.UnixNano(), time.Now().UnixNano(), source, info.Commit, info.Branch, md.ConfigHash, string(labels),
		md.SystemInfo.Hostname, md.SystemInfo.OS, md.SystemInfo.Arch, md.SystemInfo.CPUCount, md.SystemInfo.GoVersion,
		md.Version, md.DurationSecs, md.Interrupted, md.Shards)
	if err != nil {
		return 0, err
	}
	runID, err := res.LastInsertId()
	if err != nil {
		return 0, err
	}
	pos := 0
	for i := range f.Scenarios {
		sc := &f.Scenarios[i]
		cfg, err := json.Marshal(sc.Config)
		if err != nil {
			return 0, err
		}
		for j := range sc.Results {
			r := &sc.Results[j]
			if err := appendResult(ctx, tx, runID, pos, sc.Name, cfg, r, info.Test); err != nil {
				return 0, fmt.Errorf("scenario %q, %s/%s: %w", sc.Name, r.Provider, r.Model, err)
			}
			pos++
		}
	}
	return runID, nil
}

func appendResult(ctx context.Context, tx *sql.Tx, runID int64, pos int, scenario string, cfg []byte, r *report.Result, test string) error {
	m := r.Metrics // a copy: its distributions go to their own table
	dists := m.Distributions()
	for _, nd := range dists {
		m.SetDistribution(nd.Name, nil)
	}
	metrics, err := json.Marshal(&m)
	if err != nil {
		return err
	}
	var cost sql.NullFloat64
	if m.CostStats != nil {
		cost = sql.NullFloat64{Float64: m.CostStats.TotalCost, Valid: true}
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO results
		(run_id, position, scenario, provider, model, test, scenario_config,
		 total_requests, successful_requests, failed_requests, good_requests,
		 prompt_tokens, completion_tokens, cost_usd, metrics)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		runID, pos, scenario, r.Provider, r.Model, test, string(cfg),
		m.TotalRequests, m.SuccessfulRequests, m.FailedRequests, m.GoodRequests,
		m.TokenStats.TotalPromptTokens, m.TokenStats.TotalCompletionTokens, cost, string(metrics))
	if err != nil {
		return err
	}
	resultID, err := res.LastInsertId()
	if err != nil {
		return err
	}
	for i := range r.Gates {
		if err := appendGate(ctx, tx, resultID, i, &r.Gates[i]); err != nil {
			return fmt.Errorf("gate %s: %w", r.Gates[i].Name, err)
		}
	}
	for _, nd := range dists {
		d := nd.Dist
		if _, err := tx.ExecContext(ctx, `INSERT INTO distributions
			(result_id, name, unit, count, min, max, mean, median, std_dev, p90, p95, p99, p999, clamped, histogram, result_schema)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			resultID, nd.Name, d.Unit, d.Count, d.Min, d.Max, d.Mean, d.Median, d.StdDev,
			d.P90, d.P95, d.P99, d.P999, d.Clamped, d.Histogram, report.SchemaVersion); err != nil {
			return fmt.Errorf("distribution %s: %w", nd.Name, err)
		}
	}
	return nil
}

// appendGate stores the verdict g, the pos-th gate of result resultID.
func appendGate(ctx context.Context, tx *sql.Tx, resultID int64, pos int, g *report.Gate) error {
	doc, err := json.Marshal(g)
	if err != nil {
		return err
	}
	est, lo, hi := g.EstimateMs, g.LoMs, g.HiMs
	if g.Metric == "error_rate" {
		est, lo, hi = g.Rate, g.RateLo, &g.RateHi
	}
	var high sql.NullFloat64
	if hi != nil {
		high = sql.NullFloat64{Float64: *hi, Valid: true}
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO gates
		(result_id, position, name, metric, outcome, holds, estimate, lo, hi, requests, samples, gate)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		resultID, pos, g.Name, g.Metric, g.Outcome, g.Holds, est, lo, high, g.Requests, g.Samples, string(doc))
	return err
}

func nonNil(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

// Run is one run of the history, without its results.
type Run struct {
	ID   int64
	Time time.Time // the run's start

	// Recorded is when the run was appended.
	Recorded time.Time

	Source, Commit, Branch, ConfigHash string
	Labels                             map[string]string

	// Hostname, OS and Arch describe the machine; Version the lens
	// version that ran it.
	Hostname, OS, Arch, Version string
	DurationSecs                float64
	Interrupted                 bool

	// Results names the run's results, "scenario provider/model", in the
	// run's order; Tests the go tests that ran them (empty strings for a
	// run of lens-report).
	Results []string
	Tests   []string

	// Gates are the verdicts on the SLO gates of the run's results, in
	// the results' order (none for a run without gates, or stored before
	// the history kept them).
	Gates []GateVerdict
}

// GateVerdict is the verdict on one SLO gate of one result of a run.
type GateVerdict struct {
	// Result names the result, "scenario provider/model".
	Result string

	// Gate is the verdict as a result file holds it: the gate, its
	// outcome, estimate, interval and sample size.
	report.Gate
}

// Filter selects runs. The zero Filter selects every run.
type Filter struct {
	// Scenario, Branch, Test and ConfigHash select runs with a result of
	// that scenario, on that branch, from that go test, or of that
	// configuration.
	Scenario, Branch, Test, ConfigHash string

	// Labels selects runs that carry every one of these labels with these
	// values.
	Labels map[string]string

	// Since and Until bound the run's start time (Since inclusive, Until
	// exclusive); zero means unbounded.
	Since, Until time.Time

	// Baseline selects the runs pinned under this baseline name.
	Baseline string

	// Before selects runs older than the run with this id (smaller ids);
	// 0 means no bound.
	Before int64

	// Last keeps the newest Last runs that match (0: all).
	Last int
}

// Runs returns the runs that match f, oldest first.
func (s *Store) Runs(ctx context.Context, f Filter) ([]Run, error) {
	var where []string
	var args []any
	match := func(cond string, arg ...any) {
		where = append(where, cond)
		args = append(args, arg...)
	}
	if f.Scenario != "" {
		match("EXISTS (SELECT 1 FROM results r WHERE r.run_id = runs.id AND r.scenario = ?)", f.Scenario)
	}
	if f.Test != "" {
		match("EXISTS (SELECT 1 FROM results r WHERE r.run_id = runs.id AND r.test = ?)", f.Test)
	}
	if f.Branch != "" {
		match("git_branch = ?", f.Branch)
	}
	if f.ConfigHash != "" {
		match("config_hash = ?", f.ConfigHash)
	}
	for k, v := range f.Labels {
		match("json_extract(labels, ?) = ?", "$."+jsonPathKey(k), v)
	}
	if !f.Since.IsZero() {
		match("time_ns >= ?", f.Since.UnixNano())
	}
	if !f.Until.IsZero() {
		match("time_ns < ?", f.Until.UnixNano())
	}
	if f.Baseline != "" {
		match("id IN (SELECT run_id FROM baselines WHERE name = ?)", f.Baseline)
	}
	if f.Before > 0 {
		match("id < ?", f.Before)
	}
	q := "SELECT id, time_ns, recorded_ns, source, git_commit, git_branch, config_hash, labels, hostname, os, arch, lens_version, duration_secs, interrupted FROM runs"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY time_ns DESC, id DESC"
	if f.Last > 0 {
		q += fmt.Sprintf(" LIMIT %d", f.Last)
	}
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("history: %s: list runs: %w", s.path, err)
	}
	defer rows.Close()
	var runs []Run
	for rows.Next() {
		var r Run
		var t, rec int64
		var labels string
		if err := rows.Scan(&r.ID, &t, &rec, &r.Source, &r.Commit, &r.Branch, &r.ConfigHash, &labels,
			&r.Hostname, &r.OS, &r.Arch, &r.Version, &r.DurationSecs, &r.Interrupted); err != nil {
			return nil, fmt.Errorf("history: %s: list runs: %w", s.path, err)
		}
		r.Time, r.Recorded = time.Unix(0, t).UTC(), time.Unix(0, rec).UTC()
		if err := json.Unmarshal([]byte(labels), &r.Labels); err != nil {
			return nil, fmt.Errorf("history: %s: run %d: labels: %w", s.path, r.ID, err)
		}
		runs = append(runs, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("history: %s: list runs: %w", s.path, err)
	}
	// Oldest first.
	for i, j := 0, len(runs)-1; i < j; i, j = i+1, j-1 {
		runs[i], runs[j] = runs[j], runs[i]
	}
	for i := range runs {
		if err := s.fillResults(ctx, &runs[i]); err != nil {
			return nil, fmt.Errorf("history: %s: run %d: %w", s.path, runs[i].ID, err)
		}
	}
	return runs, nil
}

// jsonPathKey quotes a label key for a JSON path.
func jsonPathKey(k string) string {
	b, _ := json.Marshal(k)
	return string(b)
}

// fillResults reads the results and gates of run r into it.
func (s *Store) fillResults(ctx context.Context, r *Run) error {
	rows, err := s.db.QueryContext(ctx, "SELECT scenario, provider, model, test FROM results WHERE run_id = ? ORDER BY position", r.ID)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var sc, p, m, test string
		if err := rows.Scan(&sc, &p, &m, &test); err != nil {
			return err
		}
		r.Results = append(r.Results, sc+" "+p+"/"+m)
		r.Tests = append(r.Tests, test)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	rows.Close()
	gates, err := s.db.QueryContext(ctx, `SELECT r.scenario, r.provider, r.model, g.gate FROM gates g JOIN results r ON g.result_id = r.id
		WHERE r.run_id = ? ORDER BY r.position, g.position`, r.ID)
	if err != nil {
		return fmt.Errorf("gates: %w", err)
	}
	defer gates.Close()
	for gates.Next() {
		var sc, p, m, doc string
		if err := gates.Scan(&sc, &p, &m, &doc); err != nil {
			return fmt.Errorf("gates: %w", err)
		}
		gv := GateVerdict{Result: sc + " " + p + "/" + m}
		if err := json.Unmarshal([]byte(doc), &gv.Gate); err != nil {
			return fmt.Errorf("gate: %w", err)
		}
		r.Gates = append(r.Gates, gv)
	}
	return gates.Err()
}

// File rebuilds the result file of run id from the history: metadata,
// scenarios and results, every distribution with its histogram (raw
// requests are not kept). A distribution appended by an earlier version,
// under an older result file schema, has its numbers recomputed from its
// histogram, as report.Decode upgrades an older result file. It is an error
// wrapping ErrNoRun when there is no such run.
func (s *Store) File(ctx context.Context, id int64) (*report.File, error) {
	f, err := s.file(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("history: %s: run %d: %w", s.path, id, err)
	}
	return f, nil
}

// file is File, its errors not yet wrapped with the history and the run.
func (s *Store) file(ctx context.Context, id int64) (*report.File, error) {
	var (
		t                                    int64
		hash, host, osName, arch, goVer, ver string
		cpus, shards                         int
		dur                                  float64
		interrupted                          bool
	)
	err := s.db.QueryRowContext(ctx, `SELECT time_ns, config_hash, hostname, os, arch, cpu_count, go_version, lens_version, duration_secs, interrupted, shards
		FROM runs WHERE id = ?`, id).Scan(&t, &hash, &host, &osName, &arch, &cpus, &goVer, &ver, &dur, &interrupted, &shards)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNoRun
	}
	if err != nil {
		return nil, err
	}
	f := &report.File{
		Format: report.Format, SchemaVersion: report.SchemaVersion,
		Metadata: report.Metadata{
			Version: ver, Timestamp: time.Unix(0, t).UTC(), DurationSecs: dur, ConfigHash: hash,
			SystemInfo:  report.SystemInfo{OS: osName, Arch: arch, CPUCount: cpus, GoVersion: goVer, Hostname: host},
			Interrupted: interrupted, Shards: shards,
		},
		Scenarios: []report.Scenario{},
	}
	rows, err := s.db.QueryContext(ctx, "SELECT id, scenario, provider, model, scenario_config, metrics FROM results WHERE run_id = ? ORDER BY position", id)
	if err != nil {
		return nil, err
	}
	type pending struct {
		id  int64
		sc  int
		res int
	}
	var todo []pending
	index := map[string]int{}
	for rows.Next() {
		var rid int64
		var scenario, provider, model, cfg, metrics string
		if err := rows.Scan(&rid, &scenario, &provider, &model, &cfg, &metrics); err != nil {
			rows.Close()
			return nil, err
		}
		i, ok := index[scenario]
		if !ok {
			i = len(f.Scenarios)
			index[scenario] = i
			sc := report.Scenario{Name: scenario}
			if err := json.Unmarshal([]byte(cfg), &sc.Config); err != nil {
				rows.Close()
				return nil, fmt.Errorf("scenario %q config: %w", scenario, err)
			}
			f.Scenarios = append(f.Scenarios, sc)
		}
		r := report.Result{Provider: provider, Model: model}
		if err := json.Unmarshal([]byte(metrics), &r.Metrics); err != nil {
			rows.Close()
			return nil, fmt.Errorf("%s metrics: %w", scenario, err)
		}
		f.Scenarios[i].Results = append(f.Scenarios[i].Results, r)
		todo = append(todo, pending{rid, i, len(f.Scenarios[i].Results) - 1})
	}
	if err := rows.Err(); err != nil {
		rows.Close()
		return nil, err
	}
	rows.Close()
	for _, p := range todo {
		r := &f.Scenarios[p.sc].Results[p.res]
		if err := s.fillDistributions(ctx, p.id, &r.Metrics); err != nil {
			return nil, err
		}
		if err := s.fillGates(ctx, p.id, r); err != nil {
			return nil, fmt.Errorf("gates: %w", err)
		}
	}
	if err := f.Validate(); err != nil {
		return nil, err
	}
	return f, nil
}

// ErrNoRun is the error, wrapped, for a run id the history does not hold.
var ErrNoRun = errors.New("no such run")

func (s *Store) fillDistributions(ctx context.Context, resultID int64, m *report.Metrics) error {
	rows, err := s.db.QueryContext(ctx, `SELECT name, unit, count, min, max, mean, median, std_dev, p90, p95, p99, p999, clamped, histogram, result_schema
		FROM distributions WHERE result_id = ?`, resultID)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		var schema int
		d := new(report.Distribution)
		if err := rows.Scan(&name, &d.Unit, &d.Count, &d.Min, &d.Max, &d.Mean, &d.Median, &d.StdDev,
			&d.P90, &d.P95, &d.P99, &d.P999, &d.Clamped, &d.Histogram, &schema); err != nil {
			return err
		}
		if !slices.Contains(report.DistributionNames(), name) {
			return fmt.Errorf("unknown distribution %q", name)
		}
		if schema < report.SchemaVersion {
			// Stored under an earlier result file schema: its numbers
			// follow that schema's definitions, its histogram holds the
			// truth.
			up, err := d.Recompute()
			if err != nil {
				return fmt.Errorf("distribution %s (result file schema %d): %w", name, schema, err)
			}
			d = up
		}
		m.SetDistribution(name, d)
	}
	return rows.Err()
}

// fillGates reads the gates' verdicts of result resultID into r.
func (s *Store) fillGates(ctx context.Context, resultID int64, r *report.Result) error {
	rows, err := s.db.QueryContext(ctx, "SELECT gate FROM gates WHERE result_id = ? ORDER BY position", resultID)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var doc string
		if err := rows.Scan(&doc); err != nil {
			return err
		}
		var g report.Gate
		if err := json.Unmarshal([]byte(doc), &g); err != nil {
			return err
		}
		r.Gates = append(r.Gates, g)
	}
	return rows.Err()
}

// Pin adds the runs ids to the baseline name (created when new). It is an
// error wrapping ErrNoRun when an id is not in the history.
func (s *Store) Pin(ctx context.Context, name string, ids ...int64) error {
	if name == "" {
		return errors.New("history: pin: empty baseline name")
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("history: %s: pin: %w", s.path, err)
	}
	defer tx.Rollback()
	now := time.Now().UnixNano()
	for _, id := range ids {
		var n int
		if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM runs WHERE id = ?", id).Scan(&n); err != nil {
			return fmt.Errorf("history: %s: pin: %w", s.path, err)
		}
		if n == 0 {
			return fmt.Errorf("history: %s: pin run %d: %w", s.path, id, ErrNoRun)
		}
		if _, err := tx.ExecContext(ctx, "INSERT OR REPLACE INTO baselines (name, run_id, pinned_ns) VALUES (?, ?, ?)", name, id, now); err != nil {
			return fmt.Errorf("history: %s: pin: %w", s.path, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("history: %s: pin: %w", s.path, err)
	}
	return nil
}

// Unpin removes every run from the baseline name, and returns how many
// were pinned.
func (s *Store) Unpin(ctx context.Context, name string) (int64, error) {
	res, err := s.db.ExecContext(ctx, "DELETE FROM baselines WHERE name = ?", name)
	if err != nil {
		return 0, fmt.Errorf("history: %s: unpin: %w", s.path, err)
	}
	return res.RowsAffected()
}

// Baselines returns every baseline name with the number of runs pinned
// under it.
func (s *Store) Baselines(ctx context.Context) (map[string]int, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT name, count(*) FROM baselines GROUP BY name")
	if err != nil {
		return nil, fmt.Errorf("history: %s: baselines: %w", s.path, err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var name string
		var n int
		if err := rows.Scan(&name, &n); err != nil {
			return nil, err
		}
		out[name] = n
	}
	return out, rows.Err()
}

// IntegrityCheck runs SQLite's PRAGMA integrity_check and returns nil when
// it answers "ok", else an error with what it found.
func (s *Store) IntegrityCheck(ctx context.Context) error {
	rows, err := s.db.QueryContext(ctx, "PRAGMA integrity_check")
	if err != nil {
		return fmt.Errorf("history: %s: integrity check: %w", s.path, err)
	}
	defer rows.Close()
	var msgs []string
	for rows.Next() {
		var m string
		if err := rows.Scan(&m); err != nil {
			return err
		}
		msgs = append(msgs, m)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if len(msgs) == 1 && msgs[0] == "ok" {
		return nil
	}
	return fmt.Errorf("history: %s: integrity check: %s", s.path, strings.Join(msgs, "; "))
}

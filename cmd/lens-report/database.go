package main

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/llm-latency-lens/lens"
	"github.com/llm-latency-lens/lens/config"
	"github.com/llm-latency-lens/lens/report"
	"github.com/llm-latency-lens/lens/report/history"
	"github.com/llm-latency-lens/lens/report/influx"
	"github.com/llm-latency-lens/lens/report/pushgateway"
)

// sink is the configuration's output.database, opened before the run so
// that a bad setting stops it before any request.
type sink struct {
	conn config.DatabaseConnection

	influx *influx.Client
	reqs   *influx.Requests
}

// openSink returns the enabled sink of db, or nil.
func openSink(db config.Database, labels map[string]string) (*sink, error) {
	if !db.Enabled {
		return nil, nil
	}
	s := &sink{conn: db.Connection}
	switch set := db.Connection.(type) {
	case *config.InfluxDBConnection:
		c, err := influx.New(influx.Config{
			URL: set.URL, Database: set.Database, RetentionPolicy: set.RetentionPolicy,
			Username: set.Username, Password: set.Password.Value(), Token: set.Token.Value(), BatchSize: set.BatchSize,
		})
		if err != nil {
			return nil, fmt.Errorf("output.database: %w", err)
		}
		s.influx = c
		if set.PerRequest {
			if s.reqs, err = c.Requests(labels); err != nil {
				return nil, fmt.Errorf("output.database: %w", err)
			}
		}
	case *config.SQLiteConnection:
		// Opened (created, migrated, its version checked) now, so that a
		// history that cannot take the run stops it before it starts.
		st, err := history.Open(set.Path)
		if err != nil {
			return nil, fmt.Errorf("output.database: %w", err)
		}
		st.Close()
	}
	return s, nil
}

// hook returns the per-request hook of sc, or nil.
func (s *sink) hook(sc *lens.Scenario) func(*lens.RequestMetrics) {
	if s == nil || s.reqs == nil {
		return nil
	}
	return s.reqs.OnRequest(sc)
}

// write sends the run to the sink and says so on stderr. Its error names
// the sink.
func (s *sink) write(f *report.File, labels map[string]string) error {
	if s == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	switch set := s.conn.(type) {
	case *config.InfluxDBConnection:
		var errs []string
		if s.reqs != nil {
			if err := s.reqs.Close(); err != nil {
				errs = append(errs, err.Error())
			} else {
				fmt.Fprintf(current.err, "wrote %d request points to %s\n", s.reqs.Written(), s.influx)
			}
		}
		if err := s.influx.WriteFile(ctx, f, labels); err != nil {
			errs = append(errs, err.Error())
		} else {
			fmt.Fprintf(current.err, "wrote the summary to %s\n", s.influx)
		}
		if len(errs) > 0 {
			return fmt.Errorf("output.database (influxdb) failed; the result files above are written: %s", strings.Join(errs, "; "))
		}
	case *config.SQLiteConnection:
		st, err := history.Open(set.Path)
		if err != nil {
			return fmt.Errorf("output.database (sqlite) failed; the result files above are written: %w", err)
		}
		defer st.Close()
		commit, branch := history.DetectGit(".")
		id, err := st.Append(ctx, f, history.RunInfo{Source: "run", Commit: commit, Branch: branch, Labels: labels})
		if err != nil {
			return fmt.Errorf("output.database (sqlite) failed; the result files above are written: %w", err)
		}
		fmt.Fprintf(current.err, "appended run %d to the history %s\n", id, st.Path())
	case *config.PrometheusConnection:
		if err := pushgateway.Push(ctx, set.URL, set.Job, f, labels); err != nil {
			return fmt.Errorf("output.database (prometheus) failed; the result files above are written: %w", err)
		}
		shown := set.URL // without a password the URL may carry
		if u, err := url.Parse(set.URL); err == nil {
			shown = u.Redacted()
		}
		fmt.Fprintf(current.err, "pushed to %s (job %s)\n", shown, set.Job)
	}
	return nil
}

// close releases what the sink holds when the run ends early.
func (s *sink) close() {
	if s != nil && s.reqs != nil {
		_ = s.reqs.Close()
	}
}

// labelsFlag is a repeatable -label key=value flag.
type labelsFlag map[string]string

func (l labelsFlag) String() string { return history.FormatLabels(l) }

func (l labelsFlag) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" || v == "" {
		return fmt.Errorf("want key=value, got %q", s)
	}
	l[k] = v
	return nil
}

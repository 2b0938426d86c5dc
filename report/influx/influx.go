// Package influx writes lens results to InfluxDB 1.x over its HTTP API
// (/write with line protocol): one point per scenario, provider and model
// of a result file, one per error class, and, when asked, one per request.
//
// The points, all tagged scenario, provider and model (plus any tags the
// caller adds):
//
//	lens_result   requests, successful, failed, good (integers); goodput,
//	              error_rate, rps, achieved_send_rate, duration_secs,
//	              output_tokens_per_second, cost_usd (when priced);
//	              input_tokens, output_tokens, attempts, retried; and for
//	              each distribution NAME (ttft, e2e, itl, tpot, ttfb, dns,
//	              connect, tls, queue_delay, tokens_per_second,
//	              output_tokens, ...): NAME_count and NAME_min, _mean,
//	              _p50, _p90, _p95, _p99, _p999, _max, _stddev, in
//	              milliseconds with an _ms suffix for latencies
//	              (ttft_p95_ms), in their own unit otherwise
//	              (tokens_per_second_p50). Time: the result's start.
//	lens_errors   tag error_class; count, retried. Time: the result's start.
//	lens_request  tags status, error_class (failed requests); ttft_ms,
//	              e2e_ms, ttfb_ms, tpot_ms, queue_delay_ms (absent when the
//	              request had no such phase), input_tokens, output_tokens,
//	              tokens_per_second, attempts, status_code, seq, ok. Time:
//	              the request's send time.
//
// Writes go in batches (Config.BatchSize lines), and a batch that fails
// for a transient reason (a connection error, 408, 429, 5xx) is retried
// with exponential backoff. A database that does not exist is created.
package influx

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	// line-protocol/v2 is InfluxData's own encoder, the one their clients
	// use: it escapes measurement, tag and field text and refuses what
	// the protocol cannot carry (NaN, empty tag values, out-of-range
	// times). influxdb-client-go/v2 is not used: it speaks the v2 API
	// (/api/v2/write with orgs and buckets), which a 1.x server such as
	// Debian's influxdb 1.6 does not serve.
	"github.com/influxdata/line-protocol/v2/lineprotocol"

	"github.com/llm-latency-lens/lens/report"
)

// Defaults of Config.
const (
	DefaultBatchSize   = 5000
	DefaultMaxAttempts = 4
	DefaultBackoff     = 250 * time.Millisecond
)

// Config says where and how to write.
type Config struct {
	// URL is the server's base URL, "http://localhost:8086" (required).
	URL string

	// Database is the database to write to (required); it is created when
	// it does not exist. RetentionPolicy is the retention policy ("": the
	// database's default).
	Database, RetentionPolicy string

	// Username and Password authenticate with HTTP basic auth; Token, the
	// alternative, is sent as "Authorization: Token <token>". None of them
	// ever appears in an error.
	Username, Password, Token string

	// BatchSize is the number of lines per write request (default 5000).
	BatchSize int

	// MaxAttempts is the number of attempts per batch, the first included
	// (default 4); Backoff the wait before the second, doubled for each
	// next (default 250ms).
	MaxAttempts int
	Backoff     time.Duration

	// Client sends the requests (default: a client with a 30s timeout).
	Client *http.Client
}

// A Client writes to one InfluxDB database. It is safe for concurrent use.
type Client struct {
	cfg  Config
	base *url.URL
	hc   *http.Client
}

// New checks cfg and returns a Client. It makes no request.
func New(cfg Config) (*Client, error) {
	if cfg.URL == "" {
		return nil, errors.New("influx: no url")
	}
	u, err := url.Parse(cfg.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("influx: url %q: want http://host:port or https://host:port", redact(cfg.URL))
	}
	if u.User != nil {
		return nil, fmt.Errorf("influx: url %s: put credentials in username and password, not in the url", u.Redacted())
	}
	if cfg.Database == "" {
		return nil, errors.New("influx: no database")
	}
	if cfg.Token != "" && (cfg.Username != "" || cfg.Password != "") {
		return nil, errors.New("influx: both a token and a username/password: give one")
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = DefaultBatchSize
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = DefaultMaxAttempts
	}
	if cfg.Backoff <= 0 {
		cfg.Backoff = DefaultBackoff
	}
	hc := cfg.Client
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	return &Client{cfg: cfg, base: u, hc: hc}, nil
}

// redact hides anything after a scheme's "//user:pass@" in an unparsable
// URL.
func redact(s string) string {
	if i := strings.LastIndex(s, "@"); i >= 0 {
		return "[redacted]" + s[i:]
	}
	return s
}

// String names the sink in messages: "InfluxDB http://host:8086 database
// llm_benchmarks".
func (c *Client) String() string {
	return fmt.Sprintf("InfluxDB %s database %s", c.base.Redacted(), c.cfg.Database)
}

// WriteFile writes the summary points of f (lens_result and lens_errors)
// with the extra tags.
func (c *Client) WriteFile(ctx context.Context, f *report.File, tags map[string]string) error {
	lines, err := EncodeFile(f, tags)
	if err != nil {
		return fmt.Errorf("influx: %w", err)
	}
	return c.Write(ctx, lines)
}

// Write sends line protocol lines (each ending in a newline, timestamps in
// nanoseconds), in batches of Config.BatchSize lines.
func (c *Client) Write(ctx context.Context, lines []byte) error {
	for len(lines) > 0 {
		n, cut := 0, 0
		for cut < len(lines) && n < c.cfg.BatchSize {
			i := bytes.IndexByte(lines[cut:], '\n')
			if i < 0 {
				cut = len(lines)
			} else {
				cut += i + 1
			}
			n++
		}
		if err := c.writeBatch(ctx, lines[:cut]); err != nil {
			return err
		}
		lines = lines[cut:]
	}
	return nil
}

// writeBatch sends one batch, retrying transient failures and creating a
// missing database once.
func (c *Client) writeBatch(ctx context.Context, body []byte) error {
	created := false
	wait := c.cfg.Backoff
	var last error
	for attempt := 1; attempt <= c.cfg.MaxAttempts; attempt++ {
		if attempt > 1 {
			select {
			case <-ctx.Done():
				return fmt.Errorf("influx: write to %s: %w (after %v)", c, ctx.Err(), last)
			case <-time.After(wait):
			}
			wait *= 2
		}
		status, msg, err := c.post(ctx, "/write", url.Values{"db": {c.cfg.Database}, "rp": {c.cfg.RetentionPolicy}, "precision": {"ns"}}, body)
		switch {
		case err != nil:
			last = err
			if ctx.Err() != nil {
				return fmt.Errorf("influx: write to %s: %w", c, err)
			}
			continue
		case status == http.StatusNoContent || status == http.StatusOK:
			return nil
		case status == http.StatusNotFound && strings.Contains(msg, "database not found") && !created:
			created = true
			if err := c.createDatabase(ctx); err != nil {
				return err
			}
			attempt-- // creating the database is not a failed attempt
			wait = c.cfg.Backoff
			continue
		case status == http.StatusRequestTimeout || status == http.StatusTooManyRequests || status >= 500:
			last = fmt.Errorf("HTTP %d: %s", status, msg)
			continue
		default:
			return fmt.Errorf("influx: write to %s: HTTP %d: %s", c, status, msg)
		}
	}
	return fmt.Errorf("influx: write to %s: %d attempts failed, the last: %w", c, c.cfg.MaxAttempts, last)
}

// createDatabase creates the database (a no-op when it exists).
func (c *Client) createDatabase(ctx context.Context) error {
	q := "CREATE DATABASE " + quoteIdent(c.cfg.Database)
	status, msg, err := c.post(ctx, "/query", url.Values{"q": {q}}, nil)
	if err != nil {
		return fmt.Errorf("influx: create database on %s: %w", c, err)
	}
	if status != http.StatusOK {
		return fmt.Errorf("influx: create database on %s: HTTP %d: %s", c, status, msg)
	}
	if msg != "" {
		return fmt.Errorf("influx: create database on %s: %s", c, msg)
	}
	return nil
}

// quoteIdent quotes an InfluxQL identifier.
func quoteIdent(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// post sends one request and returns its status and the server's error
// message, if any. The error is a transport error, without credentials.
func (c *Client) post(ctx context.Context, path string, q url.Values, body []byte) (int, string, error) {
	u := *c.base
	u.Path += path
	for k, v := range q {
		if len(v) == 1 && v[0] == "" {
			delete(q, k)
		}
	}
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Content-Type", "text/plain; charset=utf-8")
	switch {
	case c.cfg.Token != "":
		req.Header.Set("Authorization", "Token "+c.cfg.Token)
	case c.cfg.Username != "" || c.cfg.Password != "":
		req.SetBasicAuth(c.cfg.Username, c.cfg.Password)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL is in the caller's message already
		}
		return 0, "", err
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	return resp.StatusCode, serverMessage(data), nil
}

// serverMessage extracts InfluxDB's error from a response body: the
// "error" of a JSON object, or of the first statement's result, else the
// body itself (shortened).
func serverMessage(data []byte) string {
	var v struct {
		Error   string `json:"error"`
		Results []struct {
			Error string `json:"error"`
		} `json:"results"`
	}
	if json.Unmarshal(data, &v) == nil {
		if v.Error != "" {
			return v.Error
		}
		for _, r := range v.Results {
			if r.Error != "" {
				return r.Error
			}
		}
		return ""
	}
	s := strings.TrimSpace(string(data))
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return s
}

// EncodeFile returns the summary points of f as line protocol: for each
// result a lens_result line and a lens_errors line per error class, tagged
// scenario, provider, model and the extra tags (empty values are left
// out; a tag may not be named like a built-in one).
func EncodeFile(f *report.File, tags map[string]string) ([]byte, error) {
	for k := range tags {
		if k == "scenario" || k == "provider" || k == "model" || k == "error_class" || k == "status" {
			return nil, fmt.Errorf("tag %q is set by lens", k)
		}
	}
	var e lineprotocol.Encoder
	e.SetPrecision(lineprotocol.Nanosecond)
	for i := range f.Scenarios {
		sc := &f.Scenarios[i]
		for j := range sc.Results {
			r := &sc.Results[j]
			m := &r.Metrics
			t := m.Started
			if t.IsZero() {
				t = f.Metadata.Timestamp
			}
			base := map[string]string{"scenario": sc.Name, "provider": r.Provider, "model": r.Model}
			for k, v := range tags {
				base[k] = v
			}
			e.StartLine("lens_result")
			addTags(&e, base)
			fields := resultFields(sc, m)
			for _, fv := range fields {
				e.AddField(fv.key, fv.val)
			}
			e.EndLine(t)
			for _, class := range sortedKeys(m.Errors, m.Retries) {
				e.StartLine("lens_errors")
				addTags(&e, withTag(base, "error_class", class))
				e.AddField("count", lineprotocol.IntValue(m.Errors[class]))
				e.AddField("retried", lineprotocol.IntValue(m.Retries[class]))
				e.EndLine(t)
			}
			if err := e.Err(); err != nil {
				return nil, fmt.Errorf("scenario %q, %s/%s: %w", sc.Name, r.Provider, r.Model, err)
			}
		}
	}
	return e.Bytes(), nil
}

func withTag(tags map[string]string, k, v string) map[string]string {
	out := make(map[string]string, len(tags)+1)
	for a, b := range tags {
		out[a] = b
	}
	out[k] = v
	return out
}

// addTags adds tags in the key order line protocol asks for, leaving out
// empty values (which it cannot carry).
func addTags(e *lineprotocol.Encoder, tags map[string]string) {
	keys := make([]string, 0, len(tags))
	for k, v := range tags {
		if v != "" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		e.AddTag(k, tags[k])
	}
}

func sortedKeys(ms ...map[string]int64) []string {
	seen := map[string]bool{}
	var out []string
	for _, m := range ms {
		for k := range m {
			if !seen[k] {
				seen[k] = true
				out = append(out, k)
			}
		}
	}
	sort.Strings(out)
	return out
}

type field struct {
	key string
	val lineprotocol.Value
}

// fieldList collects fields, leaving out floats line protocol cannot
// carry (NaN, ±Inf).
type fieldList []field

func (l *fieldList) int(k string, v int64) { *l = append(*l, field{k, lineprotocol.IntValue(v)}) }

func (l *fieldList) float(k string, v float64) {
	if val, ok := lineprotocol.FloatValue(v); ok {
		*l = append(*l, field{k, val})
	}
}

func resultFields(sc *report.Scenario, m *report.Metrics) fieldList {
	var l fieldList
	l.int("requests", m.TotalRequests)
	l.int("successful", m.SuccessfulRequests)
	l.int("failed", m.FailedRequests)
	l.int("good", m.GoodRequests)
	l.float("goodput", m.Goodput)
	l.float("error_rate", m.ErrorRate())
	l.float("rps", m.ActualRPS)
	l.float("achieved_send_rate", m.AchievedSendRate)
	l.float("duration_secs", m.ExecutionDurationSecs)
	l.int("attempts", m.Attempts)
	l.int("retried", m.RetriedRequests)
	if m.TokenStats.TotalPromptTokens != nil {
		l.int("input_tokens", *m.TokenStats.TotalPromptTokens)
	}
	l.int("output_tokens", m.TokenStats.TotalCompletionTokens)
	l.float("output_tokens_per_second", m.TokenStats.OutputTokensPerSecond)
	l.int("concurrency", int64(sc.Config.Concurrency))
	if sc.Config.RateLimit != nil {
		l.float("rate_limit", *sc.Config.RateLimit)
	}
	if m.CostStats != nil {
		l.float("cost_usd", m.CostStats.TotalCost)
	}
	for _, nd := range m.Distributions() {
		d, suffix := nd.Dist, ""
		if d.IsLatency() {
			suffix = "_ms"
		}
		l.int(nd.Name+"_count", d.Count)
		if d.Count == 0 {
			continue
		}
		for _, s := range []struct {
			name string
			v    float64
		}{
			{"min", d.Min}, {"mean", d.Mean}, {"p50", d.Median}, {"p90", d.P90}, {"p95", d.P95},
			{"p99", d.P99}, {"p999", d.P999}, {"max", d.Max}, {"stddev", d.StdDev},
		} {
			l.float(nd.Name+"_"+s.name+suffix, s.v)
		}
	}
	sort.Slice(l, func(i, j int) bool { return l[i].key < l[j].key })
	return l
}

package config

import (
	"os"
	"reflect"
	"strings"
	"testing"
)

// Each database type takes its own connection keys: an unknown key (a
// typo, or another type's) is an error with its line, a required one
// missing from an enabled sink too, and values are checked.
func TestDatabaseConnection(t *testing.T) {
	head := "providers: [{name: fake, type: fake, models: [m]}]\nworkload: {scenarios: [{name: a, prompt: hi, requests: 1}]}\n"
	for _, tc := range []struct {
		output string
		want   string // "" loads
	}{
		{"output: {database: {enabled: true, type: sqlite, connection: {path: h.db}}}", ""},
		{"output: {database: {enabled: true, type: sqlite, connection: {pth: h.db}}}", `c.yaml:3: output.database.connection.pth: unknown key for database type sqlite (did you mean "path"?); want path`},
		{"output: {database: {enabled: true, type: sqlite, connection: {}}}", "output.database.connection.path: required for database type sqlite"},
		{"output: {database: {enabled: false, type: sqlite, connection: {}}}", ""},
		{"output: {database: {enabled: true, type: influxdb, connection: {url: 'http://x:8086', database: d, per_request: 'yes'}}}", "output.database.connection.per_request: must be true or false, got a string"},
		{"output: {database: {enabled: true, type: influxdb, connection: {url: 'http://x:8086', database: d, batch_size: -1}}}", "output.database.connection.batch_size: must be >= 1 (lines per write; 0 or left out: 5000), got -1"},
		{"output: {database: {enabled: true, type: influxdb, connection: {url: 'http://x:8086', database: d, batch_size: 0}}}", ""},
		{"output: {database: {enabled: true, type: influxdb, connection: {url: 'http://x:8086', database: d, batch_size: 1.5}}}", "output.database.connection.batch_size: must be a whole number, got a fraction"},
		{"output: {database: {enabled: true, type: influxdb, connection: {url: 'localhost:8086', database: d}}}", "output.database.connection.url: not a valid URL"},
		{"output: {database: {enabled: true, type: influxdb, connection: {url: 'http://u:hunter2@x:8086', database: d}}}", "output.database.connection.url: put credentials in username and password, or token, not in the url"},
		{"output: {database: {enabled: true, type: prometheus, connection: {url: 'ftp://x:9091'}}}", `output.database.connection.url: not a valid URL: scheme "ftp"`},
		{"output: {database: {type: sqlite, connection: {path: [a]}}}", "output.database.connection.path: must be a string, got a list"},
		{"output: {database: {type: sqlite, connection: [path]}}", "output.database.connection: must be a mapping, got a list"},
		{"output: {database: {connection: {path: h.db}}}", "c.yaml:3: output.database.connection: needs output.database.type (influxdb, prometheus or sqlite)"},
		{"output: {database: {enabled: true, connection: {path: h.db}}}", "c.yaml:3: output.database.type: required when the database is enabled"},
		{"output: {database: {type: sqlite, connection: {path: '${LENS_TEST_NO_SUCH_VAR}'}}}", "output.database.connection.path: environment variable LENS_TEST_NO_SUCH_VAR is not set"},
		{"output: {database: {type: sqlite, connection: {path: '${LENS_TEST_NO_SUCH_VAR:-h.db}'}}}", ""},
		{"output: {database: {enabled: true, type: influxdb, connection: {url: 'http://x:8086'}}}", "output.database.connection.database: required for database type influxdb"},
		{"output: {database: {enabled: true, type: prometheus, connection: {url: 'http://x:9091', database: d}}}", "output.database.connection.database: unknown key for database type prometheus (database is a key of influxdb); want url or job"},
	} {
		_, err := Parse([]byte(head+tc.output), "c.yaml")
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.output, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: error %v, want %q", tc.output, err, tc.want)
		}
	}
}

// The connection blocks examples/full.yaml documents for sqlite and
// prometheus load when they replace its influxdb block, enabled.
func TestFullExampleDatabaseTypes(t *testing.T) {
	seedEnv(t)
	raw, err := os.ReadFile("../examples/full.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s := string(raw)
	start := strings.Index(s, "    type: influxdb\n")
	end := strings.Index(s, "  # The other types:\n")
	if start < 0 || end < 0 {
		t.Fatal("full.yaml has no influxdb block followed by the other types")
	}
	rest := s[end+len("  # The other types:\n"):]
	if blank := strings.Index(rest, "\n\n"); blank >= 0 {
		rest = rest[:blank]
	}
	others := strings.Split(strings.Trim(rest, "\n"), "\n  #\n")
	if len(others) != 2 {
		t.Fatalf("%d other types documented, want sqlite and prometheus", len(others))
	}
	db := strings.Index(s, "  database:\n")
	enabled := s[:db] + strings.Replace(s[db:], "    enabled: false ", "    enabled: true  ", 1)
	if db < 0 || enabled == s {
		t.Fatal("full.yaml's database is not disabled as expected")
	}
	if _, err := Parse([]byte(enabled), "full.yaml"); err != nil {
		t.Errorf("influxdb enabled: %v", err)
	}
	for _, block := range others {
		var lines []string
		for _, l := range strings.Split(block, "\n") {
			rest, ok := strings.CutPrefix(l, "  #   ")
			if !ok {
				t.Fatalf("line %q of the other types is not a commented-out key", l)
			}
			lines = append(lines, "    "+rest)
		}
		alt := enabled[:start] + strings.Join(lines, "\n") + "\n" + enabled[end:]
		if _, err := Parse([]byte(alt), "full.yaml"); err != nil {
			t.Errorf("%s: %v\n%s", strings.TrimSpace(lines[0]), err, strings.Join(lines, "\n"))
		}
	}
}

// A connection decodes into the struct of its database type, every key
// into its field; the Pushgateway's job defaults to "lens", and an enabled
// sink left without a connection key gets its type's struct (whose
// required keys are then reported).
func TestDatabaseConnectionTypes(t *testing.T) {
	head := "providers: [{name: fake, type: fake, models: [m]}]\nworkload: {scenarios: [{name: a, prompt: hi, requests: 1}]}\n"
	for _, tc := range []struct {
		output string
		want   DatabaseConnection
	}{
		{`output: {database: {enabled: true, type: influxdb, connection: {url: 'http://x:8086', database: d,
  retention_policy: r, username: u, password: pw, token: tk, batch_size: 50, per_request: true}}}`,
			&InfluxDBConnection{URL: "http://x:8086", Database: "d", RetentionPolicy: "r", Username: "u", Password: "pw", Token: "tk",
				BatchSize: 50, PerRequest: true}},
		{"output: {database: {enabled: true, type: prometheus, connection: {url: 'http://x:9091', job: ci}}}",
			&PrometheusConnection{URL: "http://x:9091", Job: "ci"}},
		{"output: {database: {enabled: true, type: prometheus, connection: {url: 'http://x:9091'}}}",
			&PrometheusConnection{URL: "http://x:9091", Job: "lens"}},
		{"output: {database: {enabled: true, type: sqlite, connection: {path: h.db}}}", &SQLiteConnection{Path: "h.db"}},
		{"output: {database: {type: sqlite}}", &SQLiteConnection{}},
		{"output: {database: {type: prometheus, connection: null}}", &PrometheusConnection{Job: "lens"}},
		{"output: {database: {enabled: false}}", nil},
	} {
		c, err := Parse([]byte(head+tc.output), "c.yaml")
		if err != nil {
			t.Errorf("%s: %v", tc.output, err)
			continue
		}
		if got := c.Output.Database.Connection; !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: Connection = %#v, want %#v", tc.output, got, tc.want)
		}
	}
}

// A File built in Go is checked as a loaded one: a connection of another
// database type, or one without a type, is refused.
func TestDatabaseConnectionValidate(t *testing.T) {
	for _, tc := range []struct {
		db   Database
		want string
	}{
		{Database{Enabled: true, Type: "sqlite", Connection: &InfluxDBConnection{URL: "http://x:8086", Database: "d"}},
			"output.database.connection: type sqlite takes *config.SQLiteConnection, got *config.InfluxDBConnection"},
		{Database{Connection: &SQLiteConnection{Path: "h.db"}}, "output.database.connection: needs output.database.type"},
		{Database{Enabled: true, Type: "sqlite", Connection: (*SQLiteConnection)(nil)}, "output.database.connection.path: required for database type sqlite"},
		{Database{Enabled: true, Type: "sqlite", Connection: &SQLiteConnection{Path: "h.db"}}, ""},
	} {
		c := &File{
			Providers: []Provider{{Name: "fake", Type: "fake", Models: []string{"m"}}},
			Workload:  Workload{Scenarios: []Scenario{{Name: "a", Prompt: Prompt{Text: "hi"}, Requests: 1}}},
			Output:    Output{Database: tc.db},
		}
		err := c.Validate()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%#v: %v", tc.db, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%#v: error %v, want %q", tc.db, err, tc.want)
		}
	}
}

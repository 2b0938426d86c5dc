package config

import (
	"os"
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
		{"output: {database: {enabled: true, type: influxdb, connection: {url: 'http://x:8086', database: d, per_request: 'yes'}}}", "output.database.connection.per_request: want true or false"},
		{"output: {database: {enabled: true, type: influxdb, connection: {url: 'http://x:8086', database: d, batch_size: 0}}}", "output.database.connection.batch_size: want a whole number > 0"},
		{"output: {database: {enabled: true, type: influxdb, connection: {url: 'http://x:8086'}}}", "output.database.connection.database: required for database type influxdb"},
		{"output: {database: {enabled: true, type: prometheus, connection: {url: 'http://x:9091', database: d}}}", "output.database.connection.database: unknown key for database type prometheus"},
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

// Settings gives each connection key as its typed field, the
// Pushgateway's job defaulting to "lens".
func TestDatabaseSettings(t *testing.T) {
	head := "providers: [{name: fake, type: fake, models: [m]}]\nworkload: {scenarios: [{name: a, prompt: hi, requests: 1}]}\n"
	c, err := Parse([]byte(head+`output: {database: {enabled: true, type: influxdb, connection: {url: 'http://x:8086', database: d,
  retention_policy: r, username: u, password: pw, token: tk, batch_size: 50, per_request: true}}}`), "c.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want := DatabaseSettings{URL: "http://x:8086", Database: "d", RetentionPolicy: "r", Username: "u", Password: "pw", Token: "tk",
		BatchSize: 50, PerRequest: true, Job: "lens"}
	if got := c.Output.Database.Settings(); got != want {
		t.Errorf("influxdb: Settings() = %+v, want %+v", got, want)
	}
	c, err = Parse([]byte(head+"output: {database: {enabled: true, type: prometheus, connection: {url: 'http://x:9091', job: ci}}}"), "c.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Output.Database.Settings(); got.URL != "http://x:9091" || got.Job != "ci" || got.PerRequest || got.BatchSize != 0 {
		t.Errorf("prometheus: Settings() = %+v", got)
	}
}

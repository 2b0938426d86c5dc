package config

import (
	"fmt"
	"net/url"
	"reflect"
)

// Database is a time-series sink (key "database").
type Database struct {
	// Enabled, key "enabled" (default false).
	Enabled bool `yaml:"enabled"`

	// Type, key "type": influxdb, prometheus or sqlite (required when
	// enabled).
	Type string `yaml:"type"`

	// Connection holds the sink's settings, key "connection": an
	// *InfluxDBConnection, *PrometheusConnection or *SQLiteConnection, by
	// Type. When the key is left out, Load gives a known Type its zero
	// connection; it is nil only when Type is empty.
	Connection DatabaseConnection `yaml:"connection"`
}

// DatabaseConnection is the value of a database's "connection" key: one
// of *InfluxDBConnection (type influxdb), *PrometheusConnection (type
// prometheus) and *SQLiteConnection (type sqlite). Load decodes the key
// into the type of the database's type, so that a key that type does not
// read is a problem with its line, as a wrong value is.
type DatabaseConnection interface {
	// connection seals the interface: the types above are the only
	// DatabaseConnections.
	connection()
}

// InfluxDBConnection is the connection of type influxdb: an InfluxDB 1.x
// server written over HTTP.
type InfluxDBConnection struct {
	// URL, key "url" (required when enabled), is the server's base URL,
	// "http://localhost:8086", without credentials.
	URL string `yaml:"url"`

	// Database, key "database" (required when enabled), is the database
	// to write to; it is created when missing. RetentionPolicy, key
	// "retention_policy" (empty: the database's default).
	Database        string `yaml:"database"`
	RetentionPolicy string `yaml:"retention_policy"`

	// Username and Password, keys "username" and "password", authenticate
	// with HTTP basic auth; Token, key "token", is the alternative.
	Username string `yaml:"username"`
	Password Secret `yaml:"password"`
	Token    Secret `yaml:"token"`

	// PerRequest, key "per_request" (default false), writes a point per
	// request besides the run's summary.
	PerRequest bool `yaml:"per_request"`

	// BatchSize, key "batch_size", is the number of lines per write (0:
	// 5000).
	BatchSize int `yaml:"batch_size"`
}

// PrometheusConnection is the connection of type prometheus: a
// Pushgateway that the run's metrics are pushed to.
type PrometheusConnection struct {
	// URL, key "url" (required when enabled), is the Pushgateway's base
	// URL.
	URL string `yaml:"url"`

	// Job, key "job", is the job the metrics are pushed under (Load fills
	// in "lens" when it is left out).
	Job string `yaml:"job"`
}

// SQLiteConnection is the connection of type sqlite: the run history.
type SQLiteConnection struct {
	// Path, key "path" (required when enabled), is the history file; it is
	// created when missing.
	Path string `yaml:"path"`
}

func (*InfluxDBConnection) connection()   {}
func (*PrometheusConnection) connection() {}
func (*SQLiteConnection) connection()     {}

// DatabaseTypes are the values of output.database.type.
var DatabaseTypes = []string{"influxdb", "prometheus", "sqlite"}

// connectionTypes are the DatabaseConnection of each database type.
var connectionTypes = map[string]reflect.Type{
	"influxdb":   reflect.TypeFor[InfluxDBConnection](),
	"prometheus": reflect.TypeFor[PrometheusConnection](),
	"sqlite":     reflect.TypeFor[SQLiteConnection](),
}

// unknownConnectionKey words the problem of a connection key that
// database type typ does not read, with the keys it reads.
func unknownConnectionKey(typ, key string) string {
	_, names := yamlFields(connectionTypes[typ])
	return fmt.Sprintf("unknown key for database type %s%s; want %s", typ,
		keyHint(connectionTypes, DatabaseTypes, "key", typ, key), oneOf(names))
}

// databaseConnection checks output.database.connection: that it is of
// the database's type, the keys an enabled sink requires, its URL, and
// InfluxDB's batch size.
func (k *checker) databaseConnection(db Database) {
	const path = "output.database.connection"
	t, known := connectionTypes[db.Type]
	switch {
	case db.Type == "" && db.Connection != nil && !db.Enabled:
		k.errf(path, "%s", noDatabaseType)
		return
	case !known:
		return // the type's problem is reported
	case db.Connection != nil && reflect.TypeOf(db.Connection) != reflect.PointerTo(t):
		k.errf(path, "type %s takes %v, got %T", db.Type, reflect.PointerTo(t), db.Connection)
		return
	}
	required := func(key, v string) {
		if db.Enabled && v == "" {
			k.errf(pathKey(path, key), "required for database type %s", db.Type)
		}
	}
	checkURLKey := func(v string) {
		u, err := url.Parse(v)
		switch msg := checkURL(v); {
		case v != "" && msg != "":
			k.errf(pathKey(path, "url"), "%s", msg)
		case err == nil && u.User != nil && db.Type == "influxdb":
			k.errf(pathKey(path, "url"), "put credentials in username and password, or token, not in the url")
		}
	}
	switch c := db.Connection.(type) {
	case *InfluxDBConnection:
		required("url", c.URL)
		required("database", c.Database)
		checkURLKey(c.URL)
		if c.BatchSize < 0 {
			k.errf(pathKey(path, "batch_size"), "must be >= 1 (lines per write; 0 or left out: 5000), got %d", c.BatchSize)
		}
	case *PrometheusConnection:
		required("url", c.URL)
		checkURLKey(c.URL)
	case *SQLiteConnection:
		required("path", c.Path)
	}
}

// noDatabaseType is the problem of a connection without a database type.
const noDatabaseType = "needs output.database.type (influxdb, prometheus or sqlite), which says what keys it takes"

// normalizeConnection makes db's connection a value of its type when the
// key was left out, and fills in the Pushgateway's default job.
func (db *Database) normalizeConnection() {
	t, known := connectionTypes[db.Type]
	if !known {
		return
	}
	if isNil(db.Connection) && (db.Connection == nil || reflect.TypeOf(db.Connection) == reflect.PointerTo(t)) {
		db.Connection = reflect.New(t).Interface().(DatabaseConnection)
	}
	if p, ok := db.Connection.(*PrometheusConnection); ok && p.Job == "" {
		p.Job = "lens"
	}
}

// Package config reads LLM-Latency-Lens configuration files (YAML, or JSON
// of the same shape) and turns them into runs of the lens engine.
//
// Load and Parse return a File: the providers to measure, each with the
// ProviderSettings of its API type (OpenAISettings, FakeSettings, ...),
// the workload, how to execute it and where the results go (a database's
// connection as the DatabaseConnection of its type: InfluxDBConnection,
// PrometheusConnection or SQLiteConnection). A file that
// is wrong in any way gives an *Error that lists every problem at once,
// each with its line, its key path and, for a misspelt key or value, the
// one that was probably meant. File.Runs returns the matrix of
// lens.Scenario values, one per scenario, provider and model, checked with
// the engine's own rules; NewProvider builds each provider's codec, and a
// Builder serves the providers of type fake in-process.
package config

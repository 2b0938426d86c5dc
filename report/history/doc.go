// Package history keeps lens runs in an SQLite file and answers questions
// about them over time: which runs there were (Store.Runs), how a metric
// moved (Trend), and whether the newest run regressed against a baseline
// built from earlier ones, or drifts slowly over many (Check).
//
// Each run is stored with its time, version control commit and branch, the
// configuration's hash, labels and the machine, and each of its results
// with every distribution's encoded HDR histogram: any percentile can be
// recomputed later, and Store.File rebuilds the run's result file.
//
// A history file is safe to share: many processes may append to it at
// once (WAL mode, a busy timeout, one transaction per run), its schema is
// versioned and migrated on Open, and a file written by a newer version is
// refused.
package history

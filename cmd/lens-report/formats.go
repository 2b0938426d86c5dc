package main

import (
	"fmt"
	"io"
	"slices"

	"github.com/llm-latency-lens/lens/report"
)

// formatOptions are the choices a writer may take.
type formatOptions struct {
	color  bool // the table's colours
	pretty bool // indented JSON
}

// A resultFormat is one way to write a result file, and where it may be
// asked for: show -format, run's console (-format, output.console.format)
// and run's exports (output.export).
type resultFormat struct {
	write                 func(w io.Writer, f *report.File, o formatOptions) error
	show, console, export bool
}

// resultFormats are every format lens-report writes a result in, by name.
var resultFormats = map[string]resultFormat{
	"table": {show: true, console: true, write: func(w io.Writer, f *report.File, o formatOptions) error {
		return report.WriteTable(w, f, report.TableOptions{Color: o.color})
	}},
	"json": {show: true, console: true, export: true, write: func(w io.Writer, f *report.File, o formatOptions) error {
		return report.WriteJSON(w, f, o.pretty)
	}},
	"minimal": {show: true, console: true, write: func(w io.Writer, f *report.File, _ formatOptions) error {
		return report.WriteMinimal(w, f)
	}},
	"csv": {show: true, export: true, write: func(w io.Writer, f *report.File, _ formatOptions) error {
		return report.WriteCSV(w, f, report.CSVOptions{})
	}},
	"markdown": {show: true, export: true, write: func(w io.Writer, f *report.File, _ formatOptions) error {
		return report.WriteMarkdown(w, f)
	}},
	"benchstat": {show: true, export: true, write: func(w io.Writer, f *report.File, _ formatOptions) error {
		return report.WriteBenchfmt(w, f)
	}},
	"prometheus": {show: true, export: true, write: func(w io.Writer, f *report.File, _ formatOptions) error {
		return report.WritePrometheus(w, f)
	}},
	"html": {export: true, write: func(w io.Writer, f *report.File, _ formatOptions) error {
		return report.WriteHTML(w, f, report.HTMLOptions{})
	}},
	"binary": {export: true, write: func(w io.Writer, f *report.File, _ formatOptions) error {
		return report.WriteMsgpack(w, f)
	}},
}

// formatFor returns the writer of a format asked for where use says (a
// resultFormat's show, console or export), or an error listing those that
// are.
func formatFor(name, where string, use func(resultFormat) bool) (func(io.Writer, *report.File, formatOptions) error, error) {
	if rf, ok := resultFormats[name]; ok && use(rf) {
		return rf.write, nil
	}
	return nil, fmt.Errorf("unknown %s format %q (want %s)", where, name, orList(formatNames(use)))
}

// formatNames returns the names of the formats use allows, in order.
func formatNames(use func(resultFormat) bool) []string {
	var names []string
	for n, rf := range resultFormats {
		if use(rf) {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	return names
}

// showFormats are the formats show -format takes: the result formats show
// writes, and hlog and raw-csv of the raw requests.
func showFormats() []string {
	names := append(formatNames(func(rf resultFormat) bool { return rf.show }), "hlog", "raw-csv")
	slices.Sort(names)
	return names
}

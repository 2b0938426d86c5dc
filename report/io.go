package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/llm-latency-lens/lens/internal/atomicfile"
)

// ErrNotResultFile is the error, wrapped, of Decode and ReadFile for input
// that is not a lens result file: not JSON, or JSON without "format":
// "lens-result".
var ErrNotResultFile = errors.New("not a lens result file")

// A SchemaError is the error of Decode and ReadFile for a result file
// written in a schema this package does not know: a newer one, or a version
// below 1.
type SchemaError struct {
	Version int // the file's schema_version
}

// Error says which schema version the file has and what to do about it.
func (e *SchemaError) Error() string {
	if e.Version > SchemaVersion {
		return fmt.Sprintf("report: result file schema version %d is newer than this program reads (%d): use a newer lens", e.Version, SchemaVersion)
	}
	return fmt.Sprintf("report: result file schema version %d is not valid", e.Version)
}

// WriteJSON writes f as JSON: indented when pretty, else on one line. The
// output ends with a newline.
func WriteJSON(w io.Writer, f *File, pretty bool) error {
	enc := json.NewEncoder(w)
	if pretty {
		enc.SetIndent("", "  ")
	}
	if err := enc.Encode(f); err != nil {
		return fmt.Errorf("report: encode result file: %w", err)
	}
	return nil
}

// Decode reads a result file and checks it (see Validate). Input that is
// not a result file is an error wrapping ErrNotResultFile; a file of a newer
// schema is a *SchemaError; a field the schema does not have is an error.
// A file of an older schema is upgraded to SchemaVersion: its distributions
// are recomputed from their histograms, by this version's percentile
// definition.
func Decode(r io.Reader) (*File, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("report: read result file: %w", err)
	}
	var probe struct {
		Format        *string `json:"format"`
		SchemaVersion *int    `json:"schema_version"`
		Scenarios     []struct {
			Name    string `json:"name"`
			Results []struct {
				Provider string          `json:"provider"`
				Model    string          `json:"model"`
				Metrics  json.RawMessage `json:"metrics"`
			} `json:"results"`
		} `json:"scenarios"`
	}
	if err := json.Unmarshal(data, &probe); err != nil {
		// A value of the wrong type is left to the full decode below,
		// which says where; what is not JSON is no result file.
		var typeErr *json.UnmarshalTypeError
		if !errors.As(err, &typeErr) {
			return nil, fmt.Errorf("report: %w: %v", ErrNotResultFile, err)
		}
	}
	if probe.Format == nil || *probe.Format != Format {
		got := "no format"
		if probe.Format != nil {
			got = fmt.Sprintf("format %q", *probe.Format)
		}
		return nil, fmt.Errorf("report: %w (%s, want %q)", ErrNotResultFile, got, Format)
	}
	if probe.SchemaVersion == nil {
		return nil, fmt.Errorf("report: %w (no schema_version)", ErrNotResultFile)
	}
	if v := *probe.SchemaVersion; v > SchemaVersion || v < 1 {
		return nil, &SchemaError{Version: v}
	}
	// A result whose metrics are missing or null would read as a result
	// of no requests, beside gates and counts that say otherwise.
	for _, sc := range probe.Scenarios {
		for _, r := range sc.Results {
			if m := bytes.TrimSpace(r.Metrics); len(m) == 0 || bytes.Equal(m, []byte("null")) {
				return nil, fmt.Errorf("report: decode result file: scenario %q, %s/%s: no metrics (missing or null)", sc.Name, r.Provider, r.Model)
			}
		}
	}
	f := new(File)
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(f); err != nil {
		return nil, fmt.Errorf("report: decode result file: %w", err)
	}
	if err := f.Validate(); err != nil {
		return nil, err
	}
	if err := f.upgrade(); err != nil {
		return nil, err
	}
	return f, nil
}

// ReadFile reads and checks the result file at path, as Decode does.
func ReadFile(path string) (*File, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	defer fh.Close()
	f, err := Decode(fh)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return f, nil
}

// WriteFile writes f, indented, to path atomically: to a temporary file in
// the same directory, synced to disk, then renamed over path. A reader sees
// the old file or the new one, never a part; a crash leaves at worst a
// stray temporary file (named path's base + ".tmp" + digits). The file is
// given mode 0644, and a missing directory is created.
func WriteFile(path string, f *File) error {
	if err := atomicfile.Write(path, func(w io.Writer) error { return WriteJSON(w, f, true) }); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return nil
}

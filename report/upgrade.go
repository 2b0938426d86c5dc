package report

import "fmt"

// upgrade brings a checked file of an older schema to SchemaVersion: every
// distribution's numbers are recomputed from its histogram, so that a file
// of any version shows the percentiles this version reports for it.
//
// Schema version 1 encoded latency histograms with a lowest discernible
// value of 1µs (durations below about 1 ms resolved to 512 ns) and stored
// percentiles of rank floor(p/100 × n + 0.5); version 2 encodes them at 1 ns
// and stores nearest-rank percentiles. stats.DecodeLatency converts a
// version 1 histogram, each value at the top of its bucket, as version 1
// reported it.
func (f *File) upgrade() error {
	if f.SchemaVersion >= SchemaVersion {
		return nil
	}
	for i := range f.Scenarios {
		sc := &f.Scenarios[i]
		for j := range sc.Results {
			r := &sc.Results[j]
			for _, slot := range r.Metrics.distSlots() {
				d := *slot
				if d == nil {
					continue
				}
				up, err := d.Recompute()
				if err != nil {
					return fmt.Errorf("report: upgrade result file from schema version %d: scenario %q, %s/%s: %w",
						f.SchemaVersion, sc.Name, r.Provider, r.Model, err)
				}
				*slot = up
			}
		}
	}
	f.SchemaVersion = SchemaVersion
	return nil
}

// Recompute returns a new Distribution with d's numbers and encoding
// recomputed from d's histogram by this version's definitions (nearest-rank
// percentiles; latency histograms re-encoded at 1 ns), and d's Clamped count
// kept. A distribution written by an earlier schema version reads as this
// version reports it; one written by this version comes back unchanged. It
// is an error when the histogram does not decode.
func (d *Distribution) Recompute() (*Distribution, error) {
	var (
		up  *Distribution
		err error
	)
	if d.IsLatency() {
		l, derr := d.Latency()
		if derr != nil {
			return nil, derr
		}
		up, err = LatencyDistribution(l)
	} else {
		v, derr := d.Values()
		if derr != nil {
			return nil, derr
		}
		up, err = ValuesDistribution(v, d.Unit)
	}
	if err != nil {
		return nil, err
	}
	up.Clamped = d.Clamped
	return up, nil
}

package lens

import (
	"math/rand/v2"
	"time"
)

// arrivals yields the intended send times of an open-loop run, as offsets
// from its start: those of the schedule (Rate, Arrivals, RampUp) or of the
// Trace. It numbers the whole run's arrivals from 0 and yields only those
// that fall to the scenario's Shard, so that every shard walks the same
// schedule and the shards' arrivals together are exactly that schedule.
type arrivals struct {
	sched *schedule // nil when replaying a trace
	trace []TraceRequest
	speed float64
	shard Shard
	n     int64         // the whole run's arrivals; 0: all within d
	d     time.Duration // 0 with n: no time limit
	k     int64         // the whole-run number of the next arrival
}

// newArrivals returns the arrivals of sc's open loop: n of them (when n is
// 0, those due before d; a trace with neither is replayed whole).
func newArrivals(sc *Scenario, n int64, d time.Duration) *arrivals {
	a := &arrivals{shard: sc.Shard, n: n, d: d}
	if len(sc.Trace) > 0 {
		a.trace, a.speed = sc.Trace, sc.TraceSpeed
		if a.speed == 0 {
			a.speed = 1
		}
		if a.n == 0 || a.n > int64(len(a.trace)) {
			a.n = int64(len(a.trace))
		}
		return a
	}
	a.sched = &schedule{
		rate:    sc.Rate,
		ramp:    sc.RampUp.Seconds(),
		poisson: sc.Arrivals == ArrivalsPoisson,
		rng:     rand.New(rand.NewPCG(sc.Seed, 0x6f70656e)),
	}
	return a
}

// next returns the offset of the shard's next arrival and, in a trace
// replay, its trace entry; ok is false when there are no more.
func (a *arrivals) next() (off time.Duration, tr *TraceRequest, ok bool) {
	for {
		k := a.k
		if a.n > 0 && k >= a.n {
			return 0, nil, false
		}
		if a.trace != nil {
			tr = &a.trace[k]
			off = time.Duration(float64(tr.At) / a.speed)
		} else {
			off = a.sched.next()
		}
		if a.d > 0 && off >= a.d {
			return 0, nil, false
		}
		a.k++
		if a.shard.owns(k) {
			return off, tr, true
		}
	}
}

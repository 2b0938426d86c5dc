package lens

import (
	"fmt"
	"strconv"
	"strings"
)

// Shard selects one part of a run that several machines (or processes)
// share: shard Index of Count, counting from 0. The zero value, and any
// Count of 1, is the whole run.
//
// Every shard is given the same Scenario, with the whole run's Rate,
// Requests and Concurrency, and its own Index; Run then does that shard's
// part of the one run, so that the shards together do exactly what one
// machine would:
//
//   - Open loop (Rate set, or a Trace): the arrivals are those of the whole
//     run, numbered from 0, and shard i sends arrival k when k mod Count is
//     i, at the whole run's intended time. The union of the shards'
//     arrivals is the one-machine schedule, interleaved: each shard sends at
//     Rate/Count, and the request count splits exactly (shards differ by
//     at most one request). Give every shard the same StartAt so that
//     their schedules share an origin.
//   - Closed loop: the Concurrency workers are numbered from 0 and shard i
//     runs the workers whose number mod Count is i; the Requests split the
//     same way as arrivals do. Concurrency must be at least Count.
//
// Warmup requests are sent by every shard (each machine has its own
// connections to warm). A request's Seq is its number in the whole run
// (local number × Count + Index), so that the shards' random choices
// (prompts, lengths) differ and their raw records do not collide when
// merged. Every shard's Result carries the whole run's Rate and
// Concurrency; report.Merge adds the shards' results back together.
type Shard struct {
	Index, Count int
}

// ParseShard parses "i/n" (shard i of n, 0 <= i < n), the form of the
// lens-report run -shard flag.
func ParseShard(s string) (Shard, error) {
	is, ns, ok := strings.Cut(strings.TrimSpace(s), "/")
	if !ok {
		return Shard{}, fmt.Errorf("lens: shard %q: want INDEX/COUNT, such as 0/4", s)
	}
	i, err1 := strconv.Atoi(strings.TrimSpace(is))
	n, err2 := strconv.Atoi(strings.TrimSpace(ns))
	if err1 != nil || err2 != nil {
		return Shard{}, fmt.Errorf("lens: shard %q: want INDEX/COUNT with whole numbers, such as 0/4", s)
	}
	sh := Shard{Index: i, Count: n}
	if n < 1 {
		return Shard{}, fmt.Errorf("lens: shard %q: count must be >= 1, got %d", s, n)
	}
	if err := sh.check(); err != nil {
		return Shard{}, fmt.Errorf("lens: shard %q: %w", s, err)
	}
	return sh, nil
}

// String returns "i/n", or "" for the whole run.
func (s Shard) String() string {
	if !s.Sharded() {
		return ""
	}
	return fmt.Sprintf("%d/%d", s.Index, s.Count)
}

// Sharded reports whether s is a part of a run, not the whole of it.
func (s Shard) Sharded() bool { return s.Count > 1 }

func (s Shard) check() error {
	switch {
	case s.Count < 0:
		return fmt.Errorf("count must be >= 1, got %d", s.Count)
	case s.Count == 0 && s.Index != 0:
		return fmt.Errorf("index %d without a count", s.Index)
	case s.Count > 0 && (s.Index < 0 || s.Index >= s.Count):
		return fmt.Errorf("index must be within 0..%d, got %d", s.Count-1, s.Index)
	}
	return nil
}

// Share returns how many of the whole run's n items (requests, workers),
// numbered from 0, fall to the shard: those whose number mod Count is
// Index. The shares of all Count shards add up to n, and differ by at most
// one.
func (s Shard) Share(n int64) int64 {
	if !s.Sharded() {
		return n
	}
	c, i := int64(s.Count), int64(s.Index)
	if n <= i {
		return 0
	}
	return (n - i + c - 1) / c
}

// owns reports whether item k of the whole run falls to the shard.
func (s Shard) owns(k int64) bool {
	return !s.Sharded() || k%int64(s.Count) == int64(s.Index)
}

// global returns the whole-run number of the shard's local item k.
func (s Shard) global(k int64) int64 {
	if !s.Sharded() {
		return k
	}
	return k*int64(s.Count) + int64(s.Index)
}

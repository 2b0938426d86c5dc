package capacity

import (
	"fmt"
	"strings"
)

// String is a step in one line: its load, decision, requests and verdicts
// ("16 users: holds, 100 requests; pass: p95 ttft < 300ms: ...").
func (st Step) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s: ", FormatLoad(st.Load), st.Mode.Unit())
	switch {
	case st.Holds:
		b.WriteString("holds")
	default:
		b.WriteString("does not hold")
	}
	if !st.Conclusive {
		b.WriteString(" (inconclusive: decided by the point estimate)")
	}
	fmt.Fprintf(&b, ", %d requests", st.Requests)
	if st.Detail != "" {
		b.WriteString("; " + st.Detail)
	}
	for _, v := range st.Verdicts {
		b.WriteString("; " + v.String())
	}
	return b.String()
}

// summary says what the search found in one line.
func (r *Result) summary() string {
	u := r.Mode.Unit()
	var b strings.Builder
	switch {
	case r.Capacity == 0:
		fmt.Fprintf(&b, "no load held, down to %s %s", FormatLoad(r.Search.Min), u)
	default:
		fmt.Fprintf(&b, "capacity %s %s", FormatLoad(r.Capacity), u)
	}
	switch r.Limit {
	case LimitMax:
		fmt.Fprintf(&b, ": every load up to the maximum, %s %s, held", FormatLoad(r.Search.Max), u)
	case LimitSLO:
		fmt.Fprintf(&b, "; %s %s broke a gate", FormatLoad(r.Ceiling), u)
	case LimitServerErrors:
		fmt.Fprintf(&b, "; the server errored at %s %s", FormatLoad(r.Ceiling), u)
	case LimitClientRate:
		fmt.Fprintf(&b, "; the client could not send %s %s", FormatLoad(r.Ceiling), u)
	}
	if r.Capacity > 0 && r.Ceiling > 0 && !r.Resolved {
		b.WriteString(" (not resolved within the resolution)")
	}
	fmt.Fprintf(&b, "; %d steps, %d requests", len(r.Steps), r.Requests)
	if n := r.Inconclusive(); n > 0 {
		fmt.Fprintf(&b, ", %d step(s) decided by the point estimate", n)
	}
	return b.String()
}

// String says what the search found in one line: "capacity 33 users; 34
// users broke a gate; 11 steps, 4210 requests".
func (r *Result) String() string { return r.summary() }

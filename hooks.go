package lens

// ChainHooks returns one request hook that calls each non-nil hook of
// hooks in order, from the goroutine that calls it. It adds a hook to a
// Scenario's OnRequest, OnSend or OnAttempt (or a Transport's OnRequest)
// without losing the one already set:
//
//	sc.OnRequest = lens.ChainHooks(sc.OnRequest, mine)
//
// It returns nil when every hook is nil, so that a Scenario without hooks
// still pays nothing for them, and the hook itself when exactly one is
// non-nil. The hooks are copied: changing the slice afterwards changes
// nothing.
func ChainHooks(hooks ...func(*RequestMetrics)) func(*RequestMetrics) {
	var set []func(*RequestMetrics)
	for _, h := range hooks {
		if h != nil {
			set = append(set, h)
		}
	}
	switch len(set) {
	case 0:
		return nil
	case 1:
		return set[0]
	}
	return func(m *RequestMetrics) {
		for _, h := range set {
			h(m)
		}
	}
}

package lens_test

import (
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/llm-latency-lens/lens"
)

// TestChainHooks: the chain calls every non-nil hook once, in order, with
// the same request; no hook at all is nil, so the engine skips it.
func TestChainHooks(t *testing.T) {
	assert.Nil(t, lens.ChainHooks())
	assert.Nil(t, lens.ChainHooks(nil, nil))

	var calls []string
	hook := func(name string) func(*lens.RequestMetrics) {
		return func(m *lens.RequestMetrics) { calls = append(calls, name+":"+strconv.FormatInt(m.Seq, 10)) }
	}
	one := lens.ChainHooks(nil, hook("a"), nil)
	one(&lens.RequestMetrics{Seq: 7})
	assert.Equal(t, []string{"a:7"}, calls)

	calls = nil
	hooks := []func(*lens.RequestMetrics){hook("a"), nil, hook("b"), hook("c")}
	chain := lens.ChainHooks(hooks...)
	hooks[0] = hook("changed")
	chain(&lens.RequestMetrics{Seq: 7})
	assert.Equal(t, []string{"a:7", "b:7", "c:7"}, calls)
}

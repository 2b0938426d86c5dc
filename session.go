package lens

import (
	"context"
	"time"

	"github.com/llm-latency-lens/lens/providers"
)

// Session makes a closed-loop scenario's workers users who hold
// conversations: each worker runs one conversation of Turns requests at a
// time, then starts the next. Each turn's request carries the whole
// conversation so far, every earlier prompt and the answer the server gave
// to it (providers.Request.History), followed by the turn's own prompt (drawn
// as any request's: Prompt, Prompts or PromptTokens), so prompts grow turn
// by turn as a chat's do. Between a turn's end and the next turn's send,
// the user thinks for a time drawn from ThinkTime.
//
// The number of conversations in flight is therefore the Concurrency:
// one per user. Requests counts turns; a conversation cut by the end of the
// run (Requests, Duration) stops where it is. A failed turn keeps its
// prompt and whatever arrived of its answer in the history, and the
// conversation goes on.
type Session struct {
	// Turns is the number of requests per conversation (0: no sessions).
	Turns int

	// ThinkTime draws the pause between one turn's end and the next
	// turn's send, in seconds (nil: no pause).
	ThinkTime Dist
}

// Enabled reports whether s makes the scenario's requests conversations.
func (s Session) Enabled() bool { return s.Turns > 0 }

// conversation is a worker's current session.
type conversation struct {
	id      int64 // the session's number in the run
	turn    int   // the turn of the next request, from 0
	history []providers.Message
	answer  []byte // the current turn's answer, as it arrives
}

// start begins conversation id.
func (c *conversation) start(id int64) {
	c.id, c.turn = id, 0
	clear(c.history)
	c.history = c.history[:0]
	c.answer = c.answer[:0]
}

// think returns the pause before the next turn, drawn with w's source.
func (w *worker) think() time.Duration {
	d := w.sc.Session.ThinkTime
	if d == nil {
		return 0
	}
	s := d.Sample(w.rng)
	if !(s > 0) {
		return 0
	}
	return time.Duration(s * float64(time.Second))
}

// nextTurn readies the worker's next request: it begins a conversation when
// none is under way or the last one has had all its turns, and otherwise
// waits the think time. It reports false when the run ends meanwhile: ctx
// done, or, in a timed run, the deadline passed.
func (w *worker) nextTurn(ctx context.Context, timed bool, deadline time.Time) bool {
	if w.conv == nil {
		w.conv = &conversation{}
		w.conv.start(w.sc.Shard.global(w.sessions.Add(1) - 1))
		return true
	}
	if w.conv.turn >= w.sc.Session.Turns {
		w.conv.start(w.sc.Shard.global(w.sessions.Add(1) - 1))
		return true
	}
	if !sleep(ctx, w.think()) {
		return false
	}
	return !timed || time.Now().Before(deadline)
}

// add closes the turn that sent prompt and got m: the prompt and the answer
// that arrived join the history.
func (c *conversation) add(prompt string, m *RequestMetrics) {
	c.history = append(c.history,
		providers.Message{Role: providers.RoleUser, Content: prompt},
		providers.Message{Role: providers.RoleAssistant, Content: string(c.answer)})
	c.answer = c.answer[:0]
	c.turn++
}

package fake

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

// TestMain fails the run if any test leaves a goroutine behind: every Server
// must stop all of its goroutines in Close.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// sseEvent is one server-sent event as the tests read it.
type sseEvent struct {
	Event, Data string
	At          time.Time // when the blank line that ended it was read
}

// readEvents reads an SSE body to its end with a minimal parser of its own:
// "event:" and "data:" fields with one space, events ended by a blank line,
// LF line endings only. It fails on anything else, including a final event
// with no blank line after it.
func readEvents(t testing.TB, body io.Reader) []sseEvent { return readEventsEOL(t, body, "\n") }

// readEventsCRLF is readEvents for a stream whose every line ends with CRLF,
// as Gemini's do: a bare LF or CR fails.
func readEventsCRLF(t testing.TB, body io.Reader) []sseEvent { return readEventsEOL(t, body, "\r\n") }

func readEventsEOL(t testing.TB, body io.Reader, eol string) []sseEvent {
	t.Helper()
	br := bufio.NewReader(body)
	var (
		events []sseEvent
		ev     sseEvent
		open   bool
	)
	for {
		line, err := br.ReadString('\n')
		if err == io.EOF {
			require.Empty(t, line, "bytes after the last line end")
			require.False(t, open, "event not ended by a blank line")
			return events
		}
		require.NoError(t, err)
		text, ok := strings.CutSuffix(line, eol)
		require.True(t, ok, "line %q does not end with %q", line, eol)
		require.NotContains(t, text, "\r", "stray CR in line %q", line)
		switch {
		case text == "":
			require.True(t, open, "blank line with no event")
			ev.At = time.Now()
			events = append(events, ev)
			ev, open = sseEvent{}, false
		case strings.HasPrefix(text, "event: "):
			ev.Event, open = text[len("event: "):], true
		case strings.HasPrefix(text, "data: "):
			require.Empty(t, ev.Data, "two data lines in one event")
			ev.Data, open = text[len("data: "):], true
		default:
			t.Fatalf("unexpected SSE line %q", line)
		}
	}
}

// post sends body as JSON to the fake at base+path.
func post(t testing.TB, client *http.Client, url, body string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json") // as openai-go sends, even when streaming
	resp, err := client.Do(req)
	require.NoError(t, err)
	return resp
}

// readAll reads and closes resp's body.
func readAll(t testing.TB, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return string(b)
}

// postRejected POSTs body to url and checks that the answer is a 400 of the
// content type given; it returns the answer's body.
func postRejected(t *testing.T, client *http.Client, url, body, contentType string) string {
	t.Helper()
	resp := post(t, client, url, body)
	got := readAll(t, resp)
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	assert.Equal(t, contentType, resp.Header.Get("Content-Type"))
	return got
}

// streamed serves one streaming request: a server of cfg, recording,
// answers body POSTed to path by send. The answer must be a 200 stream of
// contentType, not cached and of no set length. It returns the response,
// its body read, the body and the server's one record.
func streamed(t *testing.T, cfg Config, send func(testing.TB, *http.Client, string, string) *http.Response,
	path, body, contentType string) (*http.Response, string, Record) {
	t.Helper()
	cfg.Record = true
	s := NewServer(cfg)
	defer s.Close()
	resp := send(t, s.Client(), s.URL+path, body)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, contentType, resp.Header.Get("Content-Type"))
	assert.Equal(t, "no-cache", resp.Header.Get("Cache-Control"))
	assert.Equal(t, int64(-1), resp.ContentLength)
	raw := readAll(t, resp)
	recs := s.Records()
	require.Len(t, recs, 1)
	return resp, raw, recs[0]
}

// sum returns the sum of counts.
func sum(counts []int) int {
	n := 0
	for _, c := range counts {
		n += c
	}
	return n
}

// quote returns s as a JSON string, by encoding/json.
func quote(s string) string {
	b, err := json.Marshal(s)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// decode unmarshals a JSON object.
func decode(t testing.TB, s string) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal([]byte(s), &m), "JSON: %s", s)
	return m
}

func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }

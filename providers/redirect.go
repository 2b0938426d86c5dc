package providers

import (
	"net/http"
	"strconv"
	"strings"
)

// The redirect policy of every request that carries a provider's
// credentials: no redirect is followed, to the same origin or another one.
//
// Go's http.Client, following a redirect to another host, drops only the
// Authorization, Www-Authenticate and Cookie headers: X-Api-Key,
// X-Goog-Api-Key, Api-Key and any custom header would go on to whatever
// host the Location names. A 301, 302 or 303 would also turn the POST into
// a GET without a body, whose answer says nothing about the API. And a
// followed redirect times two exchanges as one. So a redirect ends the
// request with a *RedirectError that names where the endpoint pointed;
// set the endpoint to that URL, if it is the right one.

// CheckRedirect is the redirect policy for a client that sends a
// provider's requests: it follows no redirect. Set it as an http.Client's
// CheckRedirect; the client then returns the 3xx response itself, which
// Redirected turns into a *RedirectError.
func CheckRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// RedirectError is the error of a request that its endpoint answered with
// a redirect (a 3xx status), which is never followed.
type RedirectError struct {
	// StatusCode is the response's status: 301, 302, 303, 307, 308, ...
	StatusCode int

	// Location is where the response pointed, resolved against the
	// request's URL, without its user information, query and fragment
	// (which may carry credentials). Empty when the response had no valid
	// Location header.
	Location string
}

func (e *RedirectError) Error() string {
	var b strings.Builder
	b.WriteString("redirect not followed: ")
	b.WriteString(strconv.Itoa(e.StatusCode))
	if t := http.StatusText(e.StatusCode); t != "" {
		b.WriteString(" ")
		b.WriteString(t)
	}
	if e.Location != "" {
		b.WriteString(" to ")
		b.WriteString(e.Location)
	}
	b.WriteString(" (a redirect would carry the credentials on; use the final URL as the endpoint)")
	return b.String()
}

// Redirected returns a *RedirectError when resp is a redirect (a 3xx
// status), and nil otherwise, a nil resp included.
//
// It has two uses. After http.Client.Do with CheckRedirect, it turns the
// unfollowed redirect into an error. In an http.RoundTripper that wraps
// another (an instrumenting transport under a client whose redirect
// policy is not this one), Redirected(req.Response) is non-nil exactly
// when the client is following a redirect: returning that error from
// RoundTrip keeps the credentials from going on, whatever the client's
// CheckRedirect.
func Redirected(resp *http.Response) error {
	if resp == nil || resp.StatusCode < 300 || resp.StatusCode > 399 {
		return nil
	}
	e := &RedirectError{StatusCode: resp.StatusCode}
	if loc, err := resp.Location(); err == nil {
		loc.User, loc.RawQuery, loc.ForceQuery, loc.Fragment, loc.RawFragment = nil, "", false, "", ""
		e.Location = secrets{req: resp.Request}.redact(loc.String())
	}
	return e
}

// noRedirects returns client, or a copy of it, that follows no redirect
// (http.DefaultClient's transport when client is nil).
func noRedirects(client *http.Client) *http.Client {
	if client == nil {
		return &http.Client{CheckRedirect: CheckRedirect}
	}
	c := *client
	c.CheckRedirect = CheckRedirect
	return &c
}

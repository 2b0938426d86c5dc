package providers

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// defaultAzureAPIVersion is the api-version of the deployments surface when
// Azure.APIVersion is empty: the GA version the wire formats were checked
// against.
const defaultAzureAPIVersion = "2024-10-21"

// Azure is the codec of Azure OpenAI chat completions. It has two surfaces:
//
//   - deployments (the default): POST
//     {BaseURL}/openai/deployments/{model}/chat/completions?api-version={APIVersion},
//     where the Model of a Request is the deployment name, which the body
//     does not repeat;
//   - v1 (V1 set): POST {BaseURL}/openai/v1/chat/completions with "model"
//     (the deployment name) in the body and no api-version.
//
// Auth is the "api-key" header, or "Authorization: Bearer" with an Entra ID
// token when BearerToken is set.
//
// The stream is OpenAI's chat chunk format, decoded by the same code as
// OpenAI's, with Azure's differences: a first chunk with "choices":[] and
// id "" that carries prompt_filter_results; content_filter_results on every
// choice; in asynchronous filter mode, trailing chunks with id "", no delta
// and content_filter_offsets; finish_reason "content_filter" when output was
// filtered; usage only when asked for, which streaming requests do
// ("stream_options":{"include_usage":true}). The filter chunks carry no
// output, so they never count for TTFT or ITL. Errors carry string codes
// ("429", "DeploymentNotFound", "content_filter"); see NewDecoder.
//
// An Azure is safe for concurrent use once configured.
type Azure struct {
	// BaseURL is the resource endpoint, "https://{resource}.openai.azure.com".
	// It is required: there is no default. A trailing "/", "/openai" or
	// "/openai/v1" (as some examples write the endpoint) is ignored.
	BaseURL string

	// APIKey is sent as the "api-key" header. Empty means the
	// AZURE_OPENAI_API_KEY environment variable, read by each NewRequest;
	// when both are empty (and BearerToken too) no auth header is sent.
	APIKey string

	// BearerToken, when set, is a Microsoft Entra ID access token, sent as
	// "Authorization: Bearer <BearerToken>" instead of the api-key header.
	// The token is used as given: obtaining and refreshing it is the
	// caller's.
	BearerToken string

	// APIVersion is the api-version query parameter of the deployments
	// surface. Empty means "2024-10-21". The v1 surface takes none.
	APIVersion string

	// Label names the provider in results and messages; empty means
	// "azure".
	Label string

	// V1 selects the v1 surface, /openai/v1/chat/completions, which takes
	// the deployment name as "model" in the body and no api-version.
	V1 bool

	// Header holds extra headers sent with every request. They replace
	// the codec's own headers of the same name.
	Header http.Header

	// MaxTokensField names the body field that carries Request.MaxTokens:
	// "max_completion_tokens" (the default; reasoning models require it)
	// or "max_tokens" (for api-versions older than 2024-09-01-preview,
	// which do not know max_completion_tokens).
	MaxTokensField string

	// NoStreamUsage leaves "stream_options" out of streaming requests, for
	// api-versions that reject it (those before 2024-09-01-preview). Output
	// tokens are then known only from counting events.
	NoStreamUsage bool
}

var (
	_ Provider    = (*Azure)(nil)
	_ ModelLister = (*Azure)(nil)
)

// Name returns Label, or "azure" when Label is empty.
func (p *Azure) Name() string { return cmp.Or(p.Label, "azure") }

// apiKey returns the key of the api-key header.
func (p *Azure) apiKey() string { return cmp.Or(p.APIKey, os.Getenv("AZURE_OPENAI_API_KEY")) }

// secret returns the credential requests carry, for redaction.
func (p *Azure) secret() string { return cmp.Or(p.BearerToken, p.apiKey()) }

// errAzureBaseURL is an empty Azure.BaseURL.
var errAzureBaseURL = errors.New(`BaseURL is required: the resource endpoint, as in "https://{resource}.openai.azure.com"`)

// base returns the resource endpoint without a trailing "/", "/openai" or
// "/openai/v1".
func (p *Azure) base() (string, error) {
	b := strings.TrimRight(p.BaseURL, "/")
	if b == "" {
		return "", errAzureBaseURL
	}
	b = strings.TrimSuffix(b, "/openai/v1")
	b = strings.TrimSuffix(b, "/openai")
	return b, nil
}

// apiVersion returns the api-version of the deployments surface.
func (p *Azure) apiVersion() string { return cmp.Or(p.APIVersion, defaultAzureAPIVersion) }

// chatURL returns the chat completions URL for the deployment model.
func (p *Azure) chatURL(model string) (string, error) {
	b, err := p.base()
	if err != nil {
		return "", err
	}
	if p.V1 {
		return endpoint(b, "/openai/v1/chat/completions")
	}
	u, err := endpoint(b, "/openai/deployments/"+url.PathEscape(model)+"/chat/completions")
	if err != nil {
		return "", err
	}
	return u + "?api-version=" + url.QueryEscape(p.apiVersion()), nil
}

// maxTokensField returns the field that carries the output token limit.
func (p *Azure) maxTokensField() (string, error) {
	switch p.MaxTokensField {
	case "", "max_completion_tokens":
		return "max_completion_tokens", nil
	case "max_tokens":
		return "max_tokens", nil
	}
	return "", fmt.Errorf("MaxTokensField %q is neither max_tokens nor max_completion_tokens", p.MaxTokensField)
}

// setAuth sets the auth header: Authorization with BearerToken, else api-key
// with the key, else none.
func (p *Azure) setAuth(req *http.Request) {
	if p.BearerToken != "" {
		req.Header.Set("Authorization", "Bearer "+p.BearerToken)
	} else if key := p.apiKey(); key != "" {
		req.Header.Set("Api-Key", key)
	}
	for k, vs := range p.Header {
		req.Header[http.CanonicalHeaderKey(k)] = append([]string(nil), vs...)
	}
}

// NewRequest builds the POST of r to the deployment r.Model (see Azure for
// the two surfaces). Its headers are the auth header, Content-Type,
// Accept, Accept-Encoding: identity, and Header. The body is OpenAI's chat
// completions body; Request.TopK is not sent, since Azure rejects top_k.
// Request.Extra fields are merged into the body and replace the codec's
// own.
func (p *Azure) NewRequest(ctx context.Context, r *Request) (*http.Request, error) {
	name := p.Name()
	if r == nil {
		return nil, fmt.Errorf("%s: build request: nil Request", name)
	}
	if r.Model == "" {
		return nil, fmt.Errorf("%s: build request: the Model of a Request is the deployment name, and it is empty", name)
	}
	u, err := p.chatURL(r.Model)
	if err != nil {
		return nil, fmt.Errorf("%s: build request: %w", name, err)
	}
	field, err := p.maxTokensField()
	if err != nil {
		return nil, fmt.Errorf("%s: build request: %w", name, err)
	}
	model := ""
	if p.V1 {
		model = r.Model
	}
	body := newOpenAIChatBody(r, model, field, !p.NoStreamUsage)
	body.TopK = nil
	return newPost(ctx, name, u, body, r, p.setAuth)
}

// azureRequestID are the headers that carry Azure's request id, in order of
// preference: apim-request-id is the one Azure support asks for.
var azureRequestID = []string{"Apim-Request-Id", "X-Request-Id", "X-Ms-Request-Id"}

// NewDecoder returns a decoder of Azure chat completion responses, streamed
// or not. It decodes as OpenAI's decoder does (see OpenAI), and adds to
// status errors what Azure's error bodies say: when the error has no type,
// Type is innererror.code ("ResponsibleAIPolicyViolation" for a prompt the
// content filter refused, whose Code is "content_filter"); when the
// response has no retry-after-ms or retry-after header, RetryAfter comes
// from the message's "Please retry after N seconds". RequestID is the
// apim-request-id header (else x-request-id).
func (p *Azure) NewDecoder() Decoder {
	return &azureDecoder{newOpenAIDecoder(p.Name(), secrets{key: p.secret()}, azureRequestID)}
}

// azureDecoder is OpenAI's chat decoder with Azure's error details.
type azureDecoder struct {
	*openAIDecoder
}

// Reset prepares d for resp. See Decoder and Azure.NewDecoder.
func (d *azureDecoder) Reset(resp *http.Response, r *Request) error {
	if resp.StatusCode >= 200 && resp.StatusCode <= 299 {
		return d.openAIDecoder.Reset(resp, r)
	}
	d.sc.req = resp.Request
	return azureStatusError(resp, d.sc, func(resp *http.Response) error {
		return d.openAIDecoder.Reset(resp, r)
	})
}

// azureStatusError runs decode, the shared code that turns resp (a status
// outside 2xx) into an *APIError, on a copy of resp whose body is also
// kept, then adds to the *APIError what only Azure's error bodies say.
func azureStatusError(resp *http.Response, sc secrets, decode func(*http.Response) error) error {
	var raw bytes.Buffer
	tee := *resp
	if resp.Body != nil {
		tee.Body = io.NopCloser(io.TeeReader(resp.Body, &raw))
	}
	err := decode(&tee)
	var ae *APIError
	if errors.As(err, &ae) {
		azureErrorDetails(ae, sc.redactBytes(raw.Bytes()))
	}
	return err
}

// azureErrorDetails fills e's Type from error.innererror.code when it has
// none, and RetryAfter from the message's "retry after N seconds" when no
// header gave it.
func azureErrorDetails(e *APIError, body []byte) {
	if e.Type == "" {
		var c jsonCursor
		c.reset(body)
		if c.object() {
			for c.nextKey() {
				if string(c.key) != "error" || !c.object() {
					c.skip()
					continue
				}
				for c.nextKey() {
					if string(c.key) != "innererror" || !c.object() {
						c.skip()
						continue
					}
					for c.nextKey() {
						if string(c.key) == "code" && e.Type == "" {
							e.Type = c.code()
						} else {
							c.skip()
						}
					}
				}
			}
		}
		if c.done() != nil {
			e.Type = ""
		}
	}
	if e.RetryAfter == 0 {
		e.RetryAfter = retryAfterInMessage(e.Message)
	}
}

// retryAfterInMessage reads the delay of Azure's "Please retry after N
// seconds" (or "N second") in msg; 0 when it has none.
func retryAfterInMessage(msg string) time.Duration {
	const phrase = "retry after "
	i := indexFold(msg, phrase)
	if i < 0 {
		return 0
	}
	rest := msg[i+len(phrase):]
	n := 0
	for n < len(rest) && rest[n] >= '0' && rest[n] <= '9' {
		n++
	}
	if n == 0 || n > 9 {
		return 0
	}
	unit := strings.TrimLeft(rest[n:], " ")
	if len(unit) < len("second") || !strings.EqualFold(unit[:len("second")], "second") {
		return 0
	}
	s, _ := strconv.Atoi(rest[:n])
	return time.Duration(s) * time.Second
}

// NewListModelsRequest builds the request that lists the models of the
// resource: GET {BaseURL}/openai/models?api-version={APIVersion} on the
// deployments surface, GET {BaseURL}/openai/v1/models on the v1 surface,
// with the auth and extra headers NewRequest sends.
//
// Beyond the wire reference, this assumes what Azure's REST reference
// documents: the answer is OpenAI's {"data":[{"id":...}]} list, and it
// lists the models the resource can deploy (base models and fine-tunes),
// not its deployments. The names it returns are therefore model names, not
// necessarily the deployment names a Request needs; listing deployments
// takes the Azure management API, which this codec does not speak. The
// call still checks the endpoint and the credentials.
func (p *Azure) NewListModelsRequest(ctx context.Context) (*http.Request, error) {
	b, err := p.base()
	var req *http.Request
	if err == nil {
		if p.V1 {
			req, err = newGetRequest(ctx, b, "/openai/v1/models")
		} else {
			req, err = newGetRequest(ctx, b, "/openai/models")
			if err == nil {
				req.URL.RawQuery = "api-version=" + url.QueryEscape(p.apiVersion())
			}
		}
	}
	if err != nil {
		return nil, fmt.Errorf("%s: build list-models request: %w", p.Name(), err)
	}
	p.setAuth(req)
	return req, nil
}

// DecodeModels decodes the answer to NewListModelsRequest: the "id" of
// every element of "data", in the server's order, or the *APIError of a
// status outside 2xx.
func (p *Azure) DecodeModels(resp *http.Response) ([]string, error) {
	sc := secrets{key: p.secret(), req: resp.Request}
	if resp.StatusCode >= 200 && resp.StatusCode <= 299 {
		return decodeOpenAIModels(p.Name(), resp, sc, azureRequestID)
	}
	var ids []string
	err := azureStatusError(resp, sc, func(resp *http.Response) error {
		var err error
		ids, err = decodeOpenAIModels(p.Name(), resp, sc, azureRequestID)
		return err
	})
	return ids, err
}

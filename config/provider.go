package config

import (
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strings"

	"github.com/llm-latency-lens/lens/providers"
)

// api is how NewProvider builds the codec of one provider type: a new
// value of codec with BaseURL (generic: URL), Label and Header set, the
// fields its settings set (see setCodec), and the fields that take the
// credential in the API's own scheme.
type api struct {
	codec reflect.Type

	// bearer is the field that takes a bearer token; key the field that
	// takes an API key, which the codec sends in keyHeader.
	bearer, key, keyHeader string
}

// apis are the provider types NewProvider builds, by canonical type.
var apis = map[string]api{
	"openai":            {codec: reflect.TypeFor[providers.OpenAI](), bearer: "APIKey"},
	"openai_compatible": {codec: reflect.TypeFor[providers.OpenAI](), bearer: "APIKey"},
	"responses":         {codec: reflect.TypeFor[providers.OpenAIResponses](), bearer: "APIKey"},
	"anthropic":         {codec: reflect.TypeFor[providers.Anthropic](), key: "APIKey", keyHeader: "x-api-key"},
	"gemini":            {codec: reflect.TypeFor[providers.Gemini](), key: "APIKey", keyHeader: "x-goog-api-key"},
	"vertex":            {codec: reflect.TypeFor[providers.Gemini](), bearer: "AccessToken"},
	"azure":             {codec: reflect.TypeFor[providers.Azure](), bearer: "BearerToken", key: "APIKey", keyHeader: "api-key"},
	"cohere":            {codec: reflect.TypeFor[providers.Cohere](), bearer: "APIKey"},
	"generic":           {codec: reflect.TypeFor[providers.Generic]()},
}

// NewProvider builds the Provider of p for model: a *providers.OpenAI
// (types openai and openai_compatible), *providers.OpenAIResponses,
// *providers.Anthropic, *providers.Gemini (gemini, and vertex with Project
// and Location), *providers.Azure, *providers.Cohere or
// *providers.Generic, with its fields from p's settings. The provider's
// Label is always p.Name.
//
// The credential goes where the API expects it: the API's own bearer or
// key field for the API's own scheme, else a header (Headers, then auth,
// take precedence over the codec's own headers of the same name).
//
// A fake provider is an error: a Builder serves the fake in-process and
// calls NewProvider with a configuration of its wire format pointed at it.
func NewProvider(p Provider, model string) (providers.Provider, error) {
	typ, flavor, err := resolveType(p.Type, p.Name)
	if err != nil {
		return nil, fmt.Errorf("type: %w", err)
	}
	a, ok := apis[typ]
	if !ok {
		if typ == "fake" {
			return nil, errors.New("type fake is served in-process: build it with a config.Builder")
		}
		return nil, fmt.Errorf("type %q has no provider", typ)
	}
	var errs []error
	checkSettings(typ, p.Settings, func(key, msg string) {
		errs = append(errs, fmt.Errorf("%s: %s", joinPath("settings", key), msg))
	})
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	v := reflect.New(a.codec).Elem()
	setCodec(v, p.Settings)
	var hdr http.Header
	for _, k := range sortedKeys(p.Headers) {
		if hdr == nil {
			hdr = http.Header{}
		}
		hdr.Set(k, p.Headers[k].Value())
	}
	endpoint := p.Endpoint
	if endpoint == "" && typ == "openai_compatible" {
		endpoint = localEndpoints[flavor]
	}
	if typ == "generic" {
		v.FieldByName("URL").SetString(endpoint)
		v.FieldByName("APIKey").SetString(p.Auth.Token.Value())
		hdr = genericAuth(p.Auth, hdr)
	} else {
		v.FieldByName("BaseURL").SetString(strings.TrimRight(endpoint, "/"))
		field := func(name string) *string {
			if name == "" {
				return nil
			}
			return v.FieldByName(name).Addr().Interface().(*string)
		}
		t := authTarget{bearer: field(a.bearer), key: field(a.key), keyHeader: a.keyHeader}
		if err := applyAuth(typ, p.Auth, t, &hdr); err != nil {
			errs = append(errs, err)
		}
	}
	v.FieldByName("Label").SetString(p.Name)
	if hdr != nil {
		v.FieldByName("Header").Set(reflect.ValueOf(hdr))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return v.Addr().Interface().(providers.Provider), nil
}

// authTarget is where a codec takes its credential natively: a bearer
// token field, and a key field with the header that carries it.
type authTarget struct {
	bearer    *string
	key       *string
	keyHeader string
}

// applyAuth puts a's token where the codec or the configured header wants
// it.
func applyAuth(typ string, a Auth, t authTarget, hdr *http.Header) error {
	tok := a.Token.Value()
	if tok == "" {
		return nil
	}
	set := func(name, value string) {
		if *hdr == nil {
			*hdr = http.Header{}
		}
		(*hdr).Set(name, value)
	}
	scheme := strings.ToLower(a.Type)
	if scheme == "" {
		if a.Header != "" || t.key != nil {
			scheme = "api_key"
		} else {
			scheme = "bearer"
		}
	}
	switch scheme {
	case "bearer":
		if a.Header == "" || strings.EqualFold(a.Header, "Authorization") {
			if t.bearer != nil {
				*t.bearer = tok
			} else {
				set("Authorization", "Bearer "+tok)
			}
			return nil
		}
		set(a.Header, "Bearer "+tok)
	case "api_key":
		h := a.Header
		if h == "" {
			h = t.keyHeader
		}
		if h == "" {
			return fmt.Errorf("auth.header: required with type api_key: %s takes a bearer token", typ)
		}
		if t.key != nil && strings.EqualFold(h, t.keyHeader) {
			*t.key = tok
			return nil
		}
		set(h, tok)
	default:
		return errors.New("auth.type: want bearer or api_key")
	}
	return nil
}

// genericAuth adds the header that carries the key of a generic provider
// when auth names a scheme: the key itself stands as {{api_key}}, which
// the codec fills.
func genericAuth(a Auth, hdr http.Header) http.Header {
	scheme := strings.ToLower(a.Type)
	if scheme == "" && a.Header != "" {
		scheme = "api_key"
	}
	name, value := "", ""
	switch scheme {
	case "bearer":
		name, value = "Authorization", "Bearer {{api_key}}"
		if a.Header != "" {
			name = a.Header
		}
	case "api_key":
		if a.Header == "" {
			return hdr
		}
		name, value = a.Header, "{{api_key}}"
	default:
		return hdr
	}
	if hdr == nil {
		hdr = http.Header{}
	}
	if hdr.Get(name) == "" {
		hdr.Set(name, value)
	}
	return hdr
}

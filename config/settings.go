package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strconv"
	"strings"
)

// ProviderSettings are the options of one provider type: the value of a
// provider's "settings" key. They are one of *OpenAISettings (types openai
// and openai_compatible), *ResponsesSettings, *AnthropicSettings,
// *VertexSettings, *AzureSettings, *GenericSettings and *FakeSettings;
// types gemini and cohere take none. Load decodes the key into the type
// of the provider's type, so that a key that type does not read is a
// problem with its line, as a wrong value is. A null value is the same as
// leaving the key out.
type ProviderSettings interface {
	// settings seals the interface: the types above are the only
	// ProviderSettings.
	settings()
}

// OpenAISettings are the settings of types openai and openai_compatible.
type OpenAISettings struct {
	// Organization and Project, keys "organization_id" and "project", are
	// sent as the OpenAI-Organization and OpenAI-Project headers.
	Organization string `yaml:"organization_id"`
	Project      string `yaml:"project"`

	// MaxTokensField, key "max_tokens_field", is the request field that
	// carries max_tokens: max_tokens or max_completion_tokens (empty: by
	// host, max_completion_tokens for api.openai.com, max_tokens for any
	// other server).
	MaxTokensField string `yaml:"max_tokens_field"`

	// StreamUsage, key "stream_usage" (nil: true), asks a streamed
	// response for its token usage (stream_options); false is for servers
	// that reject it.
	StreamUsage *bool `yaml:"stream_usage"`
}

// ResponsesSettings are the settings of type responses.
type ResponsesSettings struct {
	// Organization and Project, keys "organization_id" and "project", are
	// sent as the OpenAI-Organization and OpenAI-Project headers.
	Organization string `yaml:"organization_id"`
	Project      string `yaml:"project"`
}

// AnthropicSettings are the settings of type anthropic.
type AnthropicSettings struct {
	// Version, key "version", is the anthropic-version header (empty:
	// "2023-06-01").
	Version string `yaml:"version"`
}

// VertexSettings are the settings of type vertex.
type VertexSettings struct {
	// Project, key "project" (required), is the Google Cloud project.
	Project string `yaml:"project"`

	// Location, key "location" (empty: us-central1), is the Vertex AI
	// location ("europe-west4", "global").
	Location string `yaml:"location"`
}

// AzureSettings are the settings of type azure.
type AzureSettings struct {
	// APIVersion, key "api_version" (empty: "2024-10-21"), is the
	// api-version of the deployments surface.
	APIVersion string `yaml:"api_version"`

	// V1, key "v1", selects the v1 surface, which takes the deployment as
	// the body's model and no api-version.
	V1 bool `yaml:"v1"`

	// MaxTokensField and StreamUsage, keys "max_tokens_field" (empty:
	// max_completion_tokens) and "stream_usage" (nil: true), are as for
	// OpenAISettings; api-versions before 2024-09-01-preview want
	// max_tokens and false.
	MaxTokensField string `yaml:"max_tokens_field"`
	StreamUsage    *bool  `yaml:"stream_usage"`
}

// GenericSettings are the settings of type generic: the fields of
// providers.Generic of the same names, under their snake_case keys. The
// provider's endpoint is the URL, its headers and auth the Header and
// APIKey.
type GenericSettings struct {
	// Method, key "method" (empty: POST).
	Method string `yaml:"method"`

	// APIKeyEnv, key "api_key_env", names the environment variable that
	// holds the key {{api_key}} stands for when auth sets no token.
	APIKeyEnv string `yaml:"api_key_env"`

	// Body, key "body", is the JSON body template: a string as
	// providers.Generic takes it, or a mapping or list (map[string]any,
	// []any) sent as JSON, in which a string that is exactly one
	// placeholder ("{{max_tokens}}") stands bare. Nil: no body.
	Body any `yaml:"body"`

	// Format, key "format": sse (the default), ndjson or json.
	Format string `yaml:"format"`

	// The paths that locate each event's output and usage, keys
	// "text_path", "reasoning_path", "tool_args_path", "special_path",
	// "input_tokens_path", "output_tokens_path", "reasoning_tokens_path"
	// and "cached_tokens_path"; "usage_increments" says the counts are
	// increments.
	TextPath            string `yaml:"text_path"`
	ReasoningPath       string `yaml:"reasoning_path"`
	ToolArgsPath        string `yaml:"tool_args_path"`
	SpecialPath         string `yaml:"special_path"`
	InputTokensPath     string `yaml:"input_tokens_path"`
	OutputTokensPath    string `yaml:"output_tokens_path"`
	ReasoningTokensPath string `yaml:"reasoning_tokens_path"`
	CachedTokensPath    string `yaml:"cached_tokens_path"`
	UsageIncrements     bool   `yaml:"usage_increments"`

	// How the stream ends and errors, keys "finish_path", "done_data",
	// "done_path", "done_value" and "error_path".
	FinishPath string `yaml:"finish_path"`
	DoneData   string `yaml:"done_data"`
	DonePath   string `yaml:"done_path"`
	DoneValue  string `yaml:"done_value"`
	ErrorPath  string `yaml:"error_path"`

	// MaxLineBytes, key "max_line_bytes", caps a line or event, in bytes
	// (0: 32 MiB).
	MaxLineBytes int `yaml:"max_line_bytes"`
}

func (*OpenAISettings) settings()    {}
func (*ResponsesSettings) settings() {}
func (*AnthropicSettings) settings() {}
func (*VertexSettings) settings()    {}
func (*AzureSettings) settings()     {}
func (*GenericSettings) settings()   {}
func (*FakeSettings) settings()      {}

// settingsTypes are the ProviderSettings of each canonical provider type; gemini
// and cohere read none (an empty struct, so that every key is unknown).
var settingsTypes = map[string]reflect.Type{
	"openai":            reflect.TypeFor[OpenAISettings](),
	"openai_compatible": reflect.TypeFor[OpenAISettings](),
	"responses":         reflect.TypeFor[ResponsesSettings](),
	"anthropic":         reflect.TypeFor[AnthropicSettings](),
	"gemini":            reflect.TypeFor[struct{}](),
	"vertex":            reflect.TypeFor[VertexSettings](),
	"azure":             reflect.TypeFor[AzureSettings](),
	"cohere":            reflect.TypeFor[struct{}](),
	"generic":           reflect.TypeFor[GenericSettings](),
	"fake":              reflect.TypeFor[FakeSettings](),
}

// unknownSetting words the problem of a settings key that type typ does
// not read.
func unknownSetting(typ, key string) string {
	return "unknown setting for type " + typ + keyHint(settingsTypes, providerTypes, "setting", typ, key)
}

// keyHint words a hint for key, which the struct of type typ in types
// lacks: the key it may have meant, else the other types of order whose
// struct reads it ("(job is a key of prometheus)"), else nothing.
func keyHint(types map[string]reflect.Type, order []string, noun, typ, key string) string {
	_, names := yamlFields(types[typ])
	if hint := suggest(key, names); hint != "" {
		return hint
	}
	var others []string
	for _, other := range order {
		fields, _ := yamlFields(types[other])
		if _, ok := fields[key]; ok && other != typ {
			others = append(others, other)
		}
	}
	if len(others) == 0 {
		return ""
	}
	return fmt.Sprintf(" (%s is a %s of %s)", key, noun, oneOf(others))
}

// isNil reports whether s is nil or a nil pointer.
func isNil(s any) bool {
	return s == nil || reflect.ValueOf(s).IsNil()
}

// checkSettings reports each problem of the settings s of a provider of
// canonical type typ, by its key below settings ("" for the settings as
// a whole): ProviderSettings of another type, and values out of their range.
func checkSettings(typ string, s ProviderSettings, report func(key, msg string)) {
	if !isNil(s) {
		if want := reflect.PointerTo(settingsTypes[typ]); reflect.TypeOf(s) != want {
			if settingsTypes[typ].NumField() == 0 {
				report("", fmt.Sprintf("type %s takes no settings, got %T", typ, s))
			} else {
				report("", fmt.Sprintf("type %s takes %v, got %T", typ, want, s))
			}
			return
		}
	}
	maxTokensField := func(f string) {
		if f != "" && f != "max_tokens" && f != "max_completion_tokens" {
			report("max_tokens_field", "must be max_tokens or max_completion_tokens")
		}
	}
	switch s := s.(type) {
	case *OpenAISettings:
		if s != nil {
			maxTokensField(s.MaxTokensField)
		}
	case *AzureSettings:
		if s != nil {
			maxTokensField(s.MaxTokensField)
		}
	case *GenericSettings:
		if s == nil {
			break
		}
		if f := s.Format; f != "" && f != "sse" && f != "ndjson" && f != "json" {
			report("format", "must be sse, ndjson or json")
		}
		if _, err := bodyText(s.Body); err != nil {
			report("body", err.Error())
		}
	case *FakeSettings:
		s.server(report)
	}
	if typ == "vertex" {
		if v, _ := s.(*VertexSettings); v == nil || v.Project == "" {
			report("project", "required for vertex: the Google Cloud project")
		}
	}
}

// setCodec sets the fields of codec, a provider of the API of s, from s:
// each field of s sets the codec's field of the same name, but for
// StreamUsage, which sets NoStreamUsage, and Body, written as JSON. s has
// passed checkSettings.
func setCodec(codec reflect.Value, s ProviderSettings) {
	if isNil(s) {
		return
	}
	sv := reflect.ValueOf(s).Elem()
	for i := range sv.NumField() {
		name, x := sv.Type().Field(i).Name, sv.Field(i)
		switch name {
		case "StreamUsage":
			codec.FieldByName("NoStreamUsage").SetBool(!x.IsNil() && !x.Elem().Bool())
		case "Body":
			body, _ := bodyText(x.Interface())
			codec.FieldByName(name).SetString(body)
		default:
			codec.FieldByName(name).Set(x)
		}
	}
}

// bodyText returns a generic provider's body template: a string as it
// is, anything else written as JSON.
func bodyText(body any) (string, error) {
	if s, ok := body.(string); ok || body == nil {
		return s, nil
	}
	var b bytes.Buffer
	if err := writeBody(&b, body); err != nil {
		return "", err
	}
	return b.String(), nil
}

// barePlaceholderRE matches a string that is one placeholder.
var barePlaceholderRE = regexp.MustCompile(`^\{\{\s*[A-Za-z_][A-Za-z0-9_]*\s*\}\}$`)

// writeBody writes a body template given as a mapping or list as JSON. A
// string that is exactly one placeholder ("{{max_tokens}}") is written
// bare, since the codec fills placeholders with JSON values.
func writeBody(b *bytes.Buffer, v any) error {
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case bool, int64, int:
		fmt.Fprint(b, x)
	case float64:
		if !finite(x) {
			return errors.New("not a finite number")
		}
		b.WriteString(strconv.FormatFloat(x, 'g', -1, 64))
	case string:
		if barePlaceholderRE.MatchString(x) {
			b.WriteString(strings.ReplaceAll(x, " ", ""))
			return nil
		}
		enc, _ := json.Marshal(x)
		b.Write(enc)
	case []any:
		b.WriteByte('[')
		for i, it := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			if err := writeBody(b, it); err != nil {
				return err
			}
		}
		b.WriteByte(']')
	case map[string]any:
		b.WriteByte('{')
		for i, k := range sortedKeys(x) {
			if i > 0 {
				b.WriteByte(',')
			}
			enc, _ := json.Marshal(k)
			b.Write(enc)
			b.WriteByte(':')
			if err := writeBody(b, x[k]); err != nil {
				return err
			}
		}
		b.WriteByte('}')
	default:
		return fmt.Errorf("must be a string, or a mapping or list (sent as JSON), not %T", v)
	}
	return nil
}

package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/llm-latency-lens/lens"
	"math"
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/llm-latency-lens/lens/providers"
)

// Run is one cell of a configuration's matrix: a scenario against
// one provider and model, ready for Run.
type Run struct {
	// Scenario is complete: Run(ctx, r.Scenario) runs it.
	Scenario lens.Scenario

	// Provider is the provider's configuration (for reports: Provider.Name,
	// Provider.Type); Model the model.
	Provider Provider
	Model    string

	// Price is the model's price: from the provider's pricing, else from
	// DefaultPricing; nil when neither knows it. Scenario.Price is the
	// same.
	Price *lens.Price
}

// Runs returns the configuration's matrix: one Run per scenario,
// provider and model, scenarios outermost, each in the file's order (a
// scenario with a providers list runs only against those).
//
// build makes each provider and model's Provider; it is called once per
// provider and model, and the Provider it returns is shared by every
// scenario (Providers are safe for concurrent use). Nil means
// NewProvider. Each call of Runs makes one Limiter per provider that
// has a rate_limit and one Gate (execution.max_concurrency), shared by the
// runs it returns, so that runs executed at the same time respect them
// together.
//
// Runs validates c first (an invalid File gives its *Error); a
// build error is returned wrapped with the provider and model.
func (c *File) Runs(build func(pc Provider, model string) (providers.Provider, error)) ([]Run, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if build == nil {
		build = NewProvider
	}
	gate := lens.NewGate(c.Execution.MaxConcurrency)
	limiters := make([]*lens.Limiter, len(c.Providers))
	for i, pc := range c.Providers {
		if rl := pc.RateLimit; rl.RequestsPerSecond > 0 || rl.TokensPerMinute > 0 {
			limiters[i] = lens.NewLimiter(rl.RequestsPerSecond, rl.TokensPerMinute)
		}
	}
	type cell struct{ provider, model int }
	built := map[cell]providers.Provider{}
	var runs []Run
	for _, sc := range c.Workload.Scenarios {
		base := c.scenario(sc)
		for pi, pc := range c.Providers {
			if len(sc.Providers) > 0 && !slices.Contains(sc.Providers, pc.Name) {
				continue
			}
			for mi, model := range pc.Models {
				p, ok := built[cell{pi, mi}]
				if !ok {
					var err error
					p, err = build(pc, model)
					if err == nil && p == nil {
						err = errors.New("no provider built")
					}
					if err != nil {
						return nil, fmt.Errorf("config: %s: providers[%d] (%s), model %s: %w", c.fileName(), pi, pc.Name, model, err)
					}
					built[cell{pi, mi}] = p
				}
				s := base
				s.Provider, s.Model = p, model
				s.Limiter, s.Gate = limiters[pi], gate
				price := pc.price(model)
				s.Price = price
				runs = append(runs, Run{Scenario: s, Provider: pc, Model: model, Price: price})
			}
		}
	}
	return runs, nil
}

// price returns the price of model at pc, or nil.
func (pc Provider) price(model string) *lens.Price {
	if p, ok := pc.Pricing[model]; ok {
		return &p
	}
	table := ""
	switch pc.Type {
	case "openai", "responses":
		table = "openai"
	case "anthropic", "gemini", "vertex", "azure", "cohere":
		table = pc.Type
	}
	if table == "" {
		return nil
	}
	if p, ok := lens.DefaultPricing.Lookup(table, model); ok {
		return &p
	}
	return nil
}

// scenario returns the Scenario of sc, all but its provider, model,
// limiter, gate and price.
func (c *File) scenario(sc Scenario) lens.Scenario {
	w, e := &c.Workload, &c.Execution
	rp := w.RequestParams
	s := lens.Scenario{
		Name:     sc.Name,
		System:   sc.Prompt.System,
		Requests: sc.Requests,
		Duration: toDuration(sc.DurationSecs, time.Second),
		Rate:     sc.RateLimit,
		RampUp:   toDuration(sc.RampUpSecs, time.Second),
		Warmup:   e.WarmupRequests,
		Seed:     e.Seed,
		SLO: lens.SLO{
			TTFT: toDuration(sc.SLO.TTFTMs, time.Millisecond),
			TPOT: toDuration(sc.SLO.TPOTMs, time.Millisecond),
			E2E:  toDuration(sc.SLO.E2EMs, time.Millisecond),
		},
		Retry: lens.Retry{
			MaxAttempts:    e.Retry.MaxAttempts,
			InitialBackoff: toDuration(e.Retry.InitialBackoffMs, time.Millisecond),
			MaxBackoff:     toDuration(e.Retry.MaxBackoffMs, time.Millisecond),
			Multiplier:     e.Retry.Multiplier,
			Jitter:         e.Retry.Jitter,
			MaxRetryAfter:  toDuration(e.Retry.MaxRetryAfterMs, time.Millisecond),
		},
		HTTP: lens.HTTPOptions{
			PoolSize:          e.HTTP.PoolSize,
			ConnectTimeout:    toDuration(firstPositive(sc.Timeouts.ConnectMs, e.Timeouts.ConnectMs, e.HTTP.ConnectTimeoutMs), time.Millisecond),
			KeepAlive:         toDuration(e.HTTP.KeepAliveSecs, time.Second),
			DisableKeepAlives: e.HTTP.DisableKeepAlives,
			DisableHTTP2:      !e.HTTP.HTTP2,
		},
		Timeout:           toDuration(firstPositive(sc.Timeouts.RequestSecs, e.Timeouts.RequestSecs, rp.TimeoutSecs), time.Second),
		FirstTokenTimeout: toDuration(firstPositive(sc.Timeouts.FirstTokenMs, e.Timeouts.FirstTokenMs), time.Millisecond),
		IdleTimeout:       toDuration(firstPositive(sc.Timeouts.IdleMs, e.Timeouts.IdleMs), time.Millisecond),
	}
	if sc.Concurrency != nil {
		s.Concurrency = *sc.Concurrency
	}
	if strings.EqualFold(sc.Arrivals, "poisson") {
		s.Arrivals = lens.ArrivalsPoisson
	}
	if sc.Warmup != nil {
		s.Warmup = *sc.Warmup
	}
	stream := rp.Stream
	if sc.Stream != nil {
		stream = *sc.Stream
	}
	s.NoStream = !stream
	s.Temperature = copyFloat(rp.Temperature)
	if sc.Temperature != nil {
		s.Temperature = copyFloat(sc.Temperature)
	}
	s.TopP = copyFloat(rp.TopP)
	if sc.TopP != nil {
		s.TopP = copyFloat(sc.TopP)
	}
	maxTokens := rp.MaxTokens
	if sc.MaxTokens != nil {
		maxTokens = sc.MaxTokens
	}
	if maxTokens != nil {
		if maxTokens.Kind == "fixed" {
			s.MaxTokens = int(math.Round(maxTokens.A))
		} else {
			s.MaxTokensDist = maxTokens.Dist()
		}
	}
	p := sc.Prompt
	switch {
	case p.Template != "":
		for _, t := range w.Prompts {
			if t.Name == p.Template {
				s.Prompt, _, _ = fillTemplate(t.Template, p.Variables)
				break
			}
		}
	case p.Text != "":
		s.Prompt, _, _ = fillTemplate(p.Text, p.Variables)
	case p.Set != "":
		for _, set := range w.PromptSets {
			if set.Name == p.Set {
				s.Prompts = append([]string(nil), set.Prompts...)
				break
			}
		}
	case p.Tokens != nil:
		s.PromptTokens = p.Tokens.Dist()
	}
	return s
}

func firstPositive(vs ...float64) float64 {
	for _, v := range vs {
		if v > 0 {
			return v
		}
	}
	return 0
}

func copyFloat(p *float64) *float64 {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

// NewProvider builds the Provider of pc for model: a
// *providers.OpenAI (types openai and openai_compatible, Label = name),
// *providers.OpenAIResponses, *providers.Anthropic, *providers.Gemini
// (gemini, and vertex with Project and Location), *providers.Azure,
// *providers.Cohere or *providers.Generic (its fields from settings). The
// provider's name is always the configuration's name.
//
// The credential goes where the API expects it: the API's own bearer or
// key field for the API's own scheme, else a header (Headers, then auth,
// take precedence over the codec's own headers of the same name).
//
// A fake provider is an error: a Builder serves the fake in-process and
// calls NewProvider with a configuration of its wire format pointed at it.
func NewProvider(pc Provider, model string) (providers.Provider, error) {
	typ, flavor, err := resolveType(pc.Type, pc.Name)
	if err != nil {
		return nil, fmt.Errorf("type: %w", err)
	}
	endpoint := pc.Endpoint
	if endpoint == "" && typ == "openai_compatible" {
		endpoint = localEndpoints[flavor]
	}
	if typ != "generic" {
		endpoint = strings.TrimRight(endpoint, "/")
	}
	var hdr http.Header
	for _, k := range sortedKeys(pc.Headers) {
		if hdr == nil {
			hdr = http.Header{}
		}
		hdr.Set(k, pc.Headers[k].Value())
	}
	setting := func(key string) (string, error) {
		s, err := pc.SettingString(key)
		if err != nil {
			return "", fmt.Errorf("settings.%s: %w", key, err)
		}
		return s, nil
	}
	var errs []error
	str := func(key string) string {
		s, err := setting(key)
		if err != nil {
			errs = append(errs, err)
		}
		return s
	}
	boolean := func(key string, def bool) bool {
		v, ok, err := pc.SettingBool(key)
		if err != nil {
			errs = append(errs, fmt.Errorf("settings.%s: %w", key, err))
		}
		if !ok {
			return def
		}
		return v
	}

	var p providers.Provider
	var target authTarget
	var setHeader func(http.Header)
	switch typ {
	case "openai", "openai_compatible":
		o := &providers.OpenAI{
			BaseURL: endpoint, Label: pc.Name,
			Organization:   str("organization_id"),
			Project:        str("project"),
			MaxTokensField: str("max_tokens_field"),
			NoStreamUsage:  !boolean("stream_usage", true),
		}
		target = authTarget{bearer: &o.APIKey}
		setHeader = func(h http.Header) { o.Header = h }
		p = o
	case "responses":
		o := &providers.OpenAIResponses{
			BaseURL: endpoint, Label: pc.Name,
			Organization: str("organization_id"),
			Project:      str("project"),
		}
		target = authTarget{bearer: &o.APIKey}
		setHeader = func(h http.Header) { o.Header = h }
		p = o
	case "anthropic":
		a := &providers.Anthropic{BaseURL: endpoint, Label: pc.Name, Version: str("version")}
		target = authTarget{key: &a.APIKey, keyHeader: keyHeaders[typ]}
		setHeader = func(h http.Header) { a.Header = h }
		p = a
	case "gemini":
		g := &providers.Gemini{BaseURL: endpoint, Label: pc.Name}
		target = authTarget{key: &g.APIKey, keyHeader: keyHeaders[typ]}
		setHeader = func(h http.Header) { g.Header = h }
		p = g
	case "vertex":
		g := &providers.Gemini{BaseURL: endpoint, Label: pc.Name, Project: str("project"), Location: str("location")}
		if g.Project == "" {
			errs = append(errs, errors.New("settings.project: required for vertex"))
		}
		target = authTarget{bearer: &g.AccessToken}
		setHeader = func(h http.Header) { g.Header = h }
		p = g
	case "azure":
		a := &providers.Azure{
			BaseURL: endpoint, Label: pc.Name,
			APIVersion:     str("api_version"),
			V1:             boolean("v1", false),
			MaxTokensField: str("max_tokens_field"),
			NoStreamUsage:  !boolean("stream_usage", true),
		}
		target = authTarget{bearer: &a.BearerToken, key: &a.APIKey, keyHeader: keyHeaders[typ]}
		setHeader = func(h http.Header) { a.Header = h }
		p = a
	case "cohere":
		co := &providers.Cohere{BaseURL: endpoint, Label: pc.Name}
		target = authTarget{bearer: &co.APIKey}
		setHeader = func(h http.Header) { co.Header = h }
		p = co
	case "generic":
		g := &providers.Generic{Label: pc.Name, URL: endpoint, APIKey: pc.Auth.Token.Value()}
		if err := setGenericFields(g, pc); err != nil {
			errs = append(errs, err)
		}
		hdr = genericAuth(pc.Auth, hdr)
		g.Header = hdr
		return g, errors.Join(errs...)
	case "fake":
		return nil, errors.New("type fake is served in-process: build it with a config.Builder")
	default:
		return nil, fmt.Errorf("type %q has no provider", typ)
	}
	if err := applyAuth(typ, pc.Auth, target, &hdr); err != nil {
		errs = append(errs, err)
	}
	setHeader(hdr)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return p, nil
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

// ---- settings ----

// Setting returns the setting key and whether it is set (present and not
// null).
func (pc Provider) Setting(key string) (any, bool) {
	v, ok := pc.Settings[key]
	return v, ok && v != nil
}

// SettingString returns a string setting ("" when unset). A number or
// boolean is returned as written; a list or mapping is an error.
func (pc Provider) SettingString(key string) (string, error) {
	v, ok := pc.Setting(key)
	if !ok {
		return "", nil
	}
	return settingString(v)
}

// SettingBool returns a boolean setting and whether it is set. The
// strings "true" and "false" (from ${ENV}) are booleans too.
func (pc Provider) SettingBool(key string) (v, ok bool, err error) {
	x, ok := pc.Setting(key)
	if !ok {
		return false, false, nil
	}
	v, err = settingBool(x)
	return v, err == nil, err
}

// SettingInt returns a whole-number setting and whether it is set. A
// string holding a whole number (from ${ENV}) is one too.
func (pc Provider) SettingInt(key string) (int, bool, error) {
	x, ok := pc.Setting(key)
	if !ok {
		return 0, false, nil
	}
	v, err := settingInt(x)
	return v, err == nil, err
}

// SettingNumber returns a number setting and whether it is set.
func (pc Provider) SettingNumber(key string) (float64, bool, error) {
	x, ok := pc.Setting(key)
	if !ok {
		return 0, false, nil
	}
	f, ok := toNumber(x)
	if !ok {
		return 0, false, errors.New("must be a number")
	}
	return f, true, nil
}

// SettingDist returns a distribution setting (see ParseDist), nil when
// unset.
func (pc Provider) SettingDist(key string) (*Dist, error) {
	x, ok := pc.Setting(key)
	if !ok {
		return nil, nil
	}
	d, err := parseDist(x)
	if err != nil {
		return nil, err
	}
	return &d, nil
}

func settingString(v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case bool:
		return strconv.FormatBool(x), nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	case int:
		return strconv.Itoa(x), nil
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64), nil
	}
	return "", errors.New("must be a string")
}

func settingBool(v any) (bool, error) {
	switch x := v.(type) {
	case bool:
		return x, nil
	case string:
		switch strings.ToLower(strings.TrimSpace(x)) {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
	}
	return false, errors.New("must be true or false")
}

func settingInt(v any) (int, error) {
	switch x := v.(type) {
	case int64:
		if int64(int(x)) == x {
			return int(x), nil
		}
	case int:
		return x, nil
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1<<53 {
			return int(x), nil
		}
	case string:
		if i, err := strconv.Atoi(strings.TrimSpace(x)); err == nil {
			return i, nil
		}
	}
	return 0, errors.New("must be a whole number")
}

// checkSetting checks that a setting's value has its kind.
func checkSetting(v any, kind settingKind) error {
	if v == nil {
		return nil
	}
	var err error
	switch kind {
	case kindString:
		_, err = settingString(v)
	case kindBool:
		_, err = settingBool(v)
	case kindInt:
		_, err = settingInt(v)
	case kindNumber:
		if _, ok := toNumber(v); !ok {
			err = errors.New("must be a number")
		}
	case kindDist:
		var d Dist
		d, err = parseDist(v)
		if err == nil {
			if msg := d.problem(0); msg != "" {
				err = errors.New(msg)
			}
		}
	case kindBody:
		switch v.(type) {
		case map[string]any, []any:
		default:
			_, err = settingString(v)
			if err != nil {
				err = errors.New("must be a string, or a mapping or list (sent as JSON)")
			}
		}
	case kindStrings:
		list, ok := v.([]any)
		if !ok {
			return errors.New("must be a list of strings")
		}
		for _, it := range list {
			if _, e := settingString(it); e != nil {
				return errors.New("must be a list of strings")
			}
		}
	}
	return err
}

// ---- generic ----

// genericSkipped are the fields of providers.Generic that come from
// elsewhere than settings: the name, endpoint, auth.token and headers.
var genericSkipped = map[string]bool{"Label": true, "URL": true, "APIKey": true, "Header": true}

type genericField struct {
	index int
	kind  settingKind
}

// genericFields maps the snake_case names of providers.Generic's
// settable fields to the fields.
var genericFields = sync.OnceValue(func() map[string]genericField {
	out := map[string]genericField{}
	t := reflect.TypeFor[providers.Generic]()
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() || genericSkipped[f.Name] {
			continue
		}
		var kind settingKind
		switch f.Type.Kind() {
		case reflect.String:
			kind = kindString
			if f.Name == "Body" {
				kind = kindBody
			}
		case reflect.Bool:
			kind = kindBool
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			kind = kindInt
		case reflect.Float32, reflect.Float64:
			kind = kindNumber
		case reflect.Slice:
			if f.Type.Elem().Kind() != reflect.String {
				continue
			}
			kind = kindStrings
		default:
			continue
		}
		out[snakeCase(f.Name)] = genericField{index: i, kind: kind}
	}
	return out
})

func genericSettingKinds() map[string]settingKind {
	out := map[string]settingKind{}
	for k, f := range genericFields() {
		out[k] = f.kind
	}
	return out
}

// setGenericFields sets g's fields from pc's settings.
func setGenericFields(g *providers.Generic, pc Provider) error {
	fields := genericFields()
	v := reflect.ValueOf(g).Elem()
	var errs []error
	for _, key := range sortedKeys(pc.Settings) {
		x, ok := pc.Setting(key)
		if !ok {
			continue
		}
		f, known := fields[key]
		if !known {
			errs = append(errs, fmt.Errorf("settings.%s: unknown setting for type generic", key))
			continue
		}
		if err := checkSetting(x, f.kind); err != nil {
			errs = append(errs, fmt.Errorf("settings.%s: %w", key, err))
			continue
		}
		fv := v.Field(f.index)
		switch f.kind {
		case kindString:
			s, _ := settingString(x)
			fv.SetString(s)
		case kindBody:
			switch x.(type) {
			case map[string]any, []any:
				var b bytes.Buffer
				if err := writeBody(&b, x); err != nil {
					errs = append(errs, fmt.Errorf("settings.%s: %w", key, err))
					continue
				}
				fv.SetString(b.String())
			default:
				s, _ := settingString(x)
				fv.SetString(s)
			}
		case kindBool:
			b, _ := settingBool(x)
			fv.SetBool(b)
		case kindInt:
			i, _ := settingInt(x)
			fv.SetInt(int64(i))
		case kindNumber:
			n, _ := toNumber(x)
			fv.SetFloat(n)
		case kindStrings:
			list := x.([]any)
			ss := reflect.MakeSlice(fv.Type(), len(list), len(list))
			for i, it := range list {
				s, _ := settingString(it)
				ss.Index(i).SetString(s)
			}
			fv.Set(ss)
		}
	}
	return errors.Join(errs...)
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
		return fmt.Errorf("cannot write %T as JSON", v)
	}
	return nil
}

// snakeCase converts a Go field name to its settings key: TextPath →
// text_path, APIKeyEnv → api_key_env.
func snakeCase(s string) string {
	rs := []rune(s)
	var b strings.Builder
	for i, r := range rs {
		if unicode.IsUpper(r) {
			prevLower := i > 0 && (unicode.IsLower(rs[i-1]) || unicode.IsDigit(rs[i-1]))
			nextLower := i > 0 && i+1 < len(rs) && unicode.IsUpper(rs[i-1]) && unicode.IsLower(rs[i+1])
			if prevLower || nextLower {
				b.WriteByte('_')
			}
			b.WriteRune(unicode.ToLower(r))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

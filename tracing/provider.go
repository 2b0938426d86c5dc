package tracing

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// DefaultServiceName is the service.name of the spans when neither
// Options.ServiceName nor OTEL_SERVICE_NAME says otherwise.
const DefaultServiceName = "lens"

// Options configure the OTLP/HTTP exporter of NewProvider. Every field left
// empty falls back on the standard OTEL_EXPORTER_OTLP_* environment
// variables, then on the SDK's defaults (http://localhost:4318/v1/traces).
type Options struct {
	// Endpoint is the collector's base URL ("http://localhost:4318"), to
	// which /v1/traces is added, as OTEL_EXPORTER_OTLP_ENDPOINT; or, when
	// it already ends in /v1/traces, the full traces URL.
	Endpoint string

	// Headers are sent with every export (an API key of a tracing
	// vendor, for one). They are never printed.
	Headers map[string]string

	// ServiceName is the resource's service.name (default
	// OTEL_SERVICE_NAME, else DefaultServiceName).
	ServiceName string
}

// EnvConfigured reports whether the environment names an OTLP endpoint for
// traces: OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT
// is set (and OTEL_TRACES_EXPORTER is not "none").
func EnvConfigured() bool {
	if strings.TrimSpace(os.Getenv("OTEL_TRACES_EXPORTER")) == "none" {
		return false
	}
	return os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || os.Getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != ""
}

// NewProvider returns a TracerProvider that batches every span to an
// OTLP/HTTP (protobuf) endpoint. Shut it down when the run ends: Shutdown
// exports what is still buffered. An endpoint that is not an http or https
// URL is an error; a collector that cannot be reached is not (exports are
// retried by the SDK, then dropped with an error from the OpenTelemetry
// error handler), so a run never fails for its traces.
func NewProvider(ctx context.Context, o Options) (*sdktrace.TracerProvider, error) {
	var opts []otlptracehttp.Option
	if o.Endpoint != "" {
		u, err := url.Parse(o.Endpoint)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("tracing: endpoint %q: want an http:// or https:// URL", redactURL(o.Endpoint))
		}
		if !strings.HasSuffix(u.Path, "/v1/traces") {
			u.Path = strings.TrimSuffix(u.Path, "/") + "/v1/traces"
		}
		opts = append(opts, otlptracehttp.WithEndpointURL(u.String()))
	}
	if len(o.Headers) > 0 {
		opts = append(opts, otlptracehttp.WithHeaders(o.Headers))
	}
	exp, err := otlptracehttp.New(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("tracing: OTLP exporter: %w", err)
	}
	name := o.ServiceName
	if name == "" {
		name = os.Getenv("OTEL_SERVICE_NAME")
	}
	if name == "" {
		name = DefaultServiceName
	}
	res, err := resource.Merge(resource.Default(),
		resource.NewSchemaless(attribute.String("service.name", name)))
	if err != nil && !errors.Is(err, resource.ErrPartialResource) {
		return nil, fmt.Errorf("tracing: resource: %w", err)
	}
	return sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res)), nil
}

// redactURL drops a URL's user information, which may hold a secret.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable)"
	}
	return u.Redacted()
}

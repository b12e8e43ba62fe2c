package telemetry

import (
	"context"
	"fmt"
	"os"
	"strings"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// DefaultServiceName is service.name when OTEL_SERVICE_NAME is not set.
const DefaultServiceName = "jessy-api"

// newExporter creates the OTLP/HTTP span exporter; a variable so a test can
// see whether SetupTracing creates one.
var newExporter = func(ctx context.Context) (sdktrace.SpanExporter, error) { return otlptracehttp.New(ctx) }

// ExportEnabled reports whether the environment asks for trace export: the
// standard OTEL_EXPORTER_OTLP_ENDPOINT (or its traces-only variant) is set to
// something other than blanks and OTEL_SDK_DISABLED is not "true" (as jessy-core
// decides).
func ExportEnabled(getenv func(string) string) bool {
	if strings.EqualFold(strings.TrimSpace(getenv("OTEL_SDK_DISABLED")), "true") {
		return false
	}
	return strings.TrimSpace(getenv("OTEL_EXPORTER_OTLP_ENDPOINT")) != "" ||
		strings.TrimSpace(getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")) != ""
}

// SetupTracing sets the global propagator to W3C TraceContext and Baggage,
// always: an incoming traceparent then reaches jessy-core and the logs even
// when nothing is exported. Only when ExportEnabled(os.Getenv) does it also
// create an OTLP/HTTP exporter (configured by the standard OTEL_EXPORTER_OTLP_*
// variables) behind a batch span processor (OTEL_BSP_*), and install that SDK
// provider globally; service.name is OTEL_SERVICE_NAME, else "jessy-api".
// Otherwise it returns a nil provider: no exporter, no SDK, the global tracer
// stays OpenTelemetry's no-op one. Shut a non-nil provider down on exit: that
// flushes the spans still queued.
func SetupTracing(ctx context.Context, version string) (*sdktrace.TracerProvider, error) {
	otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}))
	if !ExportEnabled(os.Getenv) {
		return nil, nil
	}
	exporter, err := newExporter(ctx)
	if err != nil {
		return nil, fmt.Errorf("otlp trace exporter: %w", err)
	}
	res, err := resource.New(ctx,
		resource.WithAttributes(semconv.ServiceName(DefaultServiceName), semconv.ServiceVersion(version)),
		resource.WithFromEnv(), // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES win over the defaults above
		resource.WithTelemetrySDK(),
		resource.WithSchemaURL(semconv.SchemaURL),
	)
	if err != nil {
		_ = exporter.Shutdown(ctx)
		return nil, fmt.Errorf("otel resource: %w", err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exporter), sdktrace.WithResource(res))
	otel.SetTracerProvider(tp)
	return tp, nil
}

// TraceID is the hex trace id of the span in ctx, or "" without a valid one.
func TraceID(ctx context.Context) string {
	if sc := trace.SpanContextFromContext(ctx); sc.HasTraceID() {
		return sc.TraceID().String()
	}
	return ""
}

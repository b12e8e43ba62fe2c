package telemetry

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// countExporters counts the exporters SetupTracing creates during the test
// and restores the global tracer provider and propagator afterwards.
func countExporters(t *testing.T) *atomic.Int32 {
	t.Helper()
	var n atomic.Int32
	orig := newExporter
	newExporter = func(ctx context.Context) (sdktrace.SpanExporter, error) {
		n.Add(1)
		return orig(ctx)
	}
	tp, prop := otel.GetTracerProvider(), otel.GetTextMapPropagator()
	t.Cleanup(func() {
		newExporter = orig
		otel.SetTracerProvider(tp)
		otel.SetTextMapPropagator(prop)
	})
	return &n
}

func TestExportEnabled(t *testing.T) {
	for _, c := range []struct {
		env  map[string]string
		want bool
	}{
		{nil, false},
		{map[string]string{"OTEL_SERVICE_NAME": "x"}, false},
		{map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": " "}, false},
		{map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, true},
		{map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces"}, true},
		{map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318", "OTEL_SDK_DISABLED": "TRUE"}, false},
		{map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318", "OTEL_SDK_DISABLED": "false"}, true},
	} {
		if got := ExportEnabled(func(k string) string { return c.env[k] }); got != c.want {
			t.Errorf("ExportEnabled(%v) = %v, want %v", c.env, got, c.want)
		}
	}
}

func TestSetupTracingWithoutEndpointCreatesNoExporter(t *testing.T) {
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "")
	t.Setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "")
	exporters := countExporters(t)
	otel.SetTracerProvider(noop.NewTracerProvider())
	tp, err := SetupTracing(context.Background(), "test")
	if err != nil || tp != nil {
		t.Fatalf("SetupTracing = %v, %v; want no provider", tp, err)
	}
	if n := exporters.Load(); n != 0 {
		t.Fatalf("%d exporters created, want none", n)
	}
	if _, sdk := otel.GetTracerProvider().(*sdktrace.TracerProvider); sdk {
		t.Fatal("an SDK tracer provider was installed")
	}
	// The propagator is set all the same, so trace context still flows.
	h := http.Header{}
	ctx := trace.ContextWithSpanContext(context.Background(), trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: trace.TraceID{1}, SpanID: trace.SpanID{2}, TraceFlags: trace.FlagsSampled,
	}))
	otel.GetTextMapPropagator().Inject(ctx, propagation.HeaderCarrier(h))
	if h.Get("traceparent") != "00-01000000000000000000000000000000-0200000000000000-01" {
		t.Fatalf("traceparent %q", h.Get("traceparent"))
	}
}

func TestSetupTracingExportsToTheEndpointAndFlushesOnShutdown(t *testing.T) {
	var posts atomic.Int32
	collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		if r.Method == http.MethodPost && r.URL.Path == "/v1/traces" {
			posts.Add(1)
		}
		w.Header().Set("Content-Type", "application/x-protobuf")
	}))
	defer collector.Close()
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", collector.URL)
	// A traces endpoint inherited from the environment would win over the one above: a Dagger engine sets one in
	// every container (its own collector), and so may a developer's shell.
	t.Setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "")
	t.Setenv("OTEL_BSP_SCHEDULE_DELAY", "60000") // only the shutdown flush can send it
	t.Setenv("OTEL_SERVICE_NAME", "api-under-test")
	exporters := countExporters(t)

	tp, err := SetupTracing(context.Background(), "test")
	if err != nil || tp == nil {
		t.Fatalf("SetupTracing = %v, %v; want a provider", tp, err)
	}
	if n := exporters.Load(); n != 1 {
		t.Fatalf("%d exporters created, want 1", n)
	}
	if otel.GetTracerProvider() != trace.TracerProvider(tp) {
		t.Fatal("the provider is not the global one")
	}
	_, span := otel.Tracer("test").Start(context.Background(), "work")
	span.End()
	if err := tp.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if posts.Load() == 0 {
		t.Fatal("shutdown did not flush the span to the collector")
	}
}

func TestTraceID(t *testing.T) {
	if TraceID(context.Background()) != "" {
		t.Error("trace id without a span")
	}
	ctx := trace.ContextWithSpanContext(context.Background(), trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: trace.TraceID{0xab}, SpanID: trace.SpanID{1},
	}))
	if got := TraceID(ctx); got != "ab000000000000000000000000000000" {
		t.Errorf("TraceID = %q", got)
	}
}

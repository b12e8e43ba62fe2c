package telemetry

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

func TestTransportTimesCoreCallsAndInjectsTraceparent(t *testing.T) {
	traceparents := make(chan string, 1)
	core := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		traceparents <- r.Header.Get("traceparent")
		w.WriteHeader(http.StatusTeapot)
	}))
	defer core.Close()
	sr := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(sr))
	m := NewMetrics(nil)
	client := &http.Client{Transport: Tracing{Provider: tp, Propagator: propagation.TraceContext{}}.Transport(http.DefaultTransport, m)}

	ctx := WithCoreRoute(context.Background(), "/layers/{name}")
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, core.URL+"/layers/abc", nil)
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	untagged, _ := http.NewRequest(http.MethodGet, "http://127.0.0.1:1/", nil) // nothing listens on port 1
	if _, err := client.Do(untagged); err == nil {
		t.Fatal("a call to port 1 succeeded")
	}

	spans := sr.Ended()
	if len(spans) != 2 || spans[0].Name() != "GET /layers/{name}" || spans[1].Name() != "GET "+Unmatched {
		t.Fatalf("spans %v", spans)
	}
	if got, want := <-traceparents, spans[0].SpanContext().TraceID().String(); !strings.Contains(got, want) {
		t.Errorf("traceparent %q does not carry trace %s", got, want)
	}
	text := scrape(t, m)
	for _, want := range []string{
		`jessy_core_request_duration_seconds_count{method="GET",route="/layers/{name}",status="418"} 1`,
		`jessy_core_request_duration_seconds_count{method="GET",route="unmatched",status="error"} 1`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("scrape lacks %q:\n%s", want, text)
		}
	}
}

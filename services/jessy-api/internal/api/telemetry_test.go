package api

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

// scrape returns the /metrics text of h.
func scrape(t *testing.T, h http.Handler) string {
	t.Helper()
	rec := do(t, h, "GET", "/metrics", nil)
	if rec.Code != http.StatusOK {
		t.Fatalf("/metrics: status %d: %s", rec.Code, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Fatalf("/metrics: content-type %q", ct)
	}
	return rec.Body.String()
}

// sample returns the value of the series written exactly as series (name and
// labels in the text format's sorted order), or fails.
func sample(t *testing.T, text, series string) string {
	t.Helper()
	for line := range strings.Lines(text) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), series+" "); ok {
			return v
		}
	}
	t.Fatalf("no series %s in:\n%s", series, text)
	return ""
}

func TestMetricsExposesTheJessyNames(t *testing.T) {
	_, core := newFakeCore(t)
	dir := t.TempDir()
	writeLayers(t, dir, map[string][]byte{"a": []byte("12345"), "b": []byte("678")})
	h := newTestHandler(t, core.URL, dir, 0)
	do(t, h, "GET", "/api/health", nil)
	text := scrape(t, h)
	for _, name := range []string{
		"# TYPE jessy_http_requests_total counter",
		"# TYPE jessy_http_request_duration_seconds histogram",
		"# TYPE jessy_layers gauge",
		"# TYPE jessy_layer_bytes gauge",
		"# TYPE jessy_core_request_duration_seconds histogram",
		"# TYPE go_goroutines gauge",
	} {
		if !strings.Contains(text, name+"\n") {
			t.Errorf("/metrics lacks %q", name)
		}
	}
	if got := sample(t, text, "jessy_layers"); got != "2" {
		t.Errorf("jessy_layers = %s, want 2", got)
	}
	if got := sample(t, text, "jessy_layer_bytes"); got != "8" {
		t.Errorf("jessy_layer_bytes = %s, want 8", got)
	}
	if got := sample(t, text, `jessy_http_requests_total{method="GET",route="/api/health",status="200"}`); got != "1" {
		t.Errorf("health requests = %s, want 1", got)
	}
	if got := sample(t, text, `jessy_core_request_duration_seconds_count{method="GET",route="/health",status="200"}`); got != "1" {
		t.Errorf("core /health calls = %s, want 1", got)
	}
	if do(t, h, "POST", "/metrics", nil).Code != http.StatusMethodNotAllowed {
		t.Error("POST /metrics is not 405")
	}
}

func TestMetricsLayerGaugesOnAnEmptyVolume(t *testing.T) {
	h := newTestHandler(t, deadCoreURL(t), t.TempDir(), 0) // no layers folder yet
	text := scrape(t, h)
	if sample(t, text, "jessy_layers") != "0" || sample(t, text, "jessy_layer_bytes") != "0" {
		t.Fatalf("empty volume: %s", text)
	}
}

func TestMetricsCountRequestsUnderTheirPattern(t *testing.T) {
	dir := t.TempDir()
	writeLayers(t, dir, map[string][]byte{"one": []byte("x")})
	h := newTestHandler(t, deadCoreURL(t), dir, 0)
	do(t, h, "GET", "/api/layers/one", nil)
	do(t, h, "GET", "/api/layers/two", nil)   // 404: same route, another status
	do(t, h, "GET", "/api/layers/three", nil) // 404
	do(t, h, "GET", "/no/such/path", nil)
	do(t, h, "DELETE", "/api/layers/one", nil) // 405 from the method-less pattern
	do(t, h, "BREW", "/api/layers/one", nil)   // unknown method: one bounded label
	text := scrape(t, h)

	for series, want := range map[string]string{
		`jessy_http_requests_total{method="GET",route="/api/layers/{name}",status="200"}`:    "1",
		`jessy_http_requests_total{method="GET",route="/api/layers/{name}",status="404"}`:    "2",
		`jessy_http_requests_total{method="GET",route="unmatched",status="404"}`:             "1",
		`jessy_http_requests_total{method="DELETE",route="/api/layers/{name}",status="405"}`: "1",
		`jessy_http_requests_total{method="other",route="/api/layers/{name}",status="405"}`:  "1",
		`jessy_http_request_duration_seconds_count{method="GET",route="/api/layers/{name}"}`: "3",
	} {
		if got := sample(t, text, series); got != want {
			t.Errorf("%s = %s, want %s", series, got, want)
		}
	}
	for _, raw := range []string{"/api/layers/one", "/api/layers/two", "/no/such/path", "BREW"} {
		if strings.Contains(text, `"`+raw+`"`) {
			t.Errorf("raw value %q is a label value:\n%s", raw, text)
		}
	}
	// Two ids, one series per (route, method, status): no line per id.
	if n := strings.Count(text, `jessy_http_requests_total{method="GET",route="/api/layers/{name}"`); n != 2 {
		t.Errorf("%d GET /api/layers/{name} request series, want 2 (200 and 404)", n)
	}
}

func TestMetricsObserveCallsToCore(t *testing.T) {
	fc, core := newFakeCore(t)
	fc.set(func() { fc.maxBytes = 4 })
	h := newTestHandler(t, core.URL, t.TempDir(), 0)
	for _, body := range []string{"abc", "abc", "too large"} {
		do(t, h, "PUT", "/api/layers/x", strings.NewReader(body))
	}
	dead := newTestHandler(t, deadCoreURL(t), t.TempDir(), 0)
	do(t, dead, "PUT", "/api/layers/x", strings.NewReader("abc"))

	text := scrape(t, h)
	for series, want := range map[string]string{
		`jessy_core_request_duration_seconds_count{method="PUT",route="/layers/{name}",status="201"}`: "1",
		`jessy_core_request_duration_seconds_count{method="PUT",route="/layers/{name}",status="200"}`: "1",
		`jessy_core_request_duration_seconds_count{method="PUT",route="/layers/{name}",status="413"}`: "1",
		`jessy_http_requests_total{method="PUT",route="/api/layers/{name}",status="413"}`:             "1",
	} {
		if got := sample(t, text, series); got != want {
			t.Errorf("%s = %s, want %s", series, got, want)
		}
	}
	// Each server has its own registry: the dead-core call shows only in its own scrape.
	if strings.Contains(text, `status="error"`) {
		t.Errorf("the registry is shared between servers:\n%s", text)
	}
	if got := sample(t, scrape(t, dead), `jessy_core_request_duration_seconds_count{method="PUT",route="/layers/{name}",status="error"}`); got != "1" {
		t.Errorf("unreachable core: count %s, want 1", got)
	}
}

// tracedHandler is a handler whose spans go to a recorder, with W3C propagation.
func tracedHandler(t *testing.T, coreURL string, logs *bytes.Buffer) (http.Handler, *tracetest.SpanRecorder) {
	t.Helper()
	sr := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(sr))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	var logger *slog.Logger
	if logs != nil {
		logger = slog.New(slog.NewJSONHandler(logs, nil))
	}
	h := New(Config{CoreURL: coreURL, DataDir: t.TempDir(), CoreTimeout: time.Second}, logger,
		WithTracerProvider(tp), WithPropagator(propagation.TraceContext{}))
	return h, sr
}

func logLines(t *testing.T, buf *bytes.Buffer) []map[string]any {
	t.Helper()
	var lines []map[string]any
	sc := bufio.NewScanner(buf)
	for sc.Scan() {
		lines = append(lines, decode(t, sc.Bytes()))
	}
	return lines
}

func TestTraceSpansAndPropagationToCore(t *testing.T) {
	fc, core := newFakeCore(t)
	var logs bytes.Buffer
	h, sr := tracedHandler(t, core.URL, &logs)
	if rec := do(t, h, "PUT", "/api/layers/traced", strings.NewReader("payload")); rec.Code != http.StatusCreated {
		t.Fatalf("PUT: %d %s", rec.Code, rec.Body)
	}

	spans := sr.Ended()
	if len(spans) != 2 {
		t.Fatalf("want 2 spans (api server, core client), got %d: %v", len(spans), spanNames(spans))
	}
	var server, client sdktrace.ReadOnlySpan
	for _, s := range spans {
		switch s.SpanKind() {
		case trace.SpanKindServer:
			server = s
		case trace.SpanKindClient:
			client = s
		}
	}
	if server == nil || client == nil {
		t.Fatalf("want a server and a client span, got %v", spanNames(spans))
	}
	if server.Name() != "PUT /api/layers/{name}" || client.Name() != "PUT /layers/{name}" {
		t.Errorf("span names: server %q, client %q", server.Name(), client.Name())
	}
	traceID := server.SpanContext().TraceID()
	if client.SpanContext().TraceID() != traceID || client.Parent().SpanID() != server.SpanContext().SpanID() {
		t.Errorf("client span is not the server span's child: %v / %v", client.Parent(), server.SpanContext())
	}

	tps := fc.seenTraceparents()
	want := fmt.Sprintf("00-%s-%s-01", traceID, client.SpanContext().SpanID())
	if len(tps) != 1 || tps[0] != want {
		t.Errorf("core got traceparent %q, want [%s]", tps, want)
	}

	lines := logLines(t, &logs)
	if len(lines) != 1 || lines[0]["trace_id"] != traceID.String() || lines[0]["route"] != "/api/layers/{name}" {
		t.Errorf("log lines %v, want one with trace_id %s", lines, traceID)
	}
}

func TestTraceContinuesAnIncomingTraceparent(t *testing.T) {
	fc, core := newFakeCore(t)
	h, sr := tracedHandler(t, core.URL, nil)
	const incoming = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	req := httptest.NewRequest("GET", "/api/health", nil)
	req.Header.Set("traceparent", incoming)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("health: %d", rec.Code)
	}
	for _, s := range sr.Ended() {
		if s.SpanContext().TraceID().String() != "4bf92f3577b34da6a3ce929d0e0e4736" {
			t.Errorf("span %q left the incoming trace", s.Name())
		}
	}
	if names := spanNames(sr.Ended()); len(names) != 2 || !contains(names, "GET /api/health") || !contains(names, "GET /health") {
		t.Errorf("spans %v", names)
	}
	if tps := fc.seenTraceparents(); len(tps) != 1 || !strings.HasPrefix(tps[0], "00-4bf92f3577b34da6a3ce929d0e0e4736-") {
		t.Errorf("core got %q", tps)
	}
}

func TestTraceNoSpanForScrapesAndMethodOnlyNameWhenUnmatched(t *testing.T) {
	h, sr := tracedHandler(t, deadCoreURL(t), nil)
	do(t, h, "GET", "/metrics", nil)
	do(t, h, "GET", "/nowhere", nil)
	if names := spanNames(sr.Ended()); len(names) != 1 || names[0] != "GET" {
		t.Errorf("spans %v, want only [GET] for the unmatched path", names)
	}
}

func TestLogsCarryTheTraceIdWithoutAnSDK(t *testing.T) {
	// No tracer provider (as without OTEL_EXPORTER_OTLP_ENDPOINT): no spans,
	// yet the incoming trace id reaches the logs and core.
	fc, core := newFakeCore(t)
	var logs bytes.Buffer
	h := New(Config{CoreURL: core.URL, DataDir: t.TempDir()}, slog.New(slog.NewJSONHandler(&logs, nil)),
		WithPropagator(propagation.TraceContext{}))
	const incoming = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
	req := httptest.NewRequest("GET", "/api/health", nil)
	req.Header.Set("traceparent", incoming)
	h.ServeHTTP(httptest.NewRecorder(), req)
	do(t, h, "GET", "/api/layers", nil) // no trace: no trace_id

	lines := logLines(t, &logs)
	if len(lines) != 2 || lines[0]["trace_id"] != "0af7651916cd43dd8448eb211c80319c" {
		t.Fatalf("log lines %v", lines)
	}
	if _, ok := lines[1]["trace_id"]; ok {
		t.Errorf("untraced request logged a trace_id: %v", lines[1])
	}
	if tps := fc.seenTraceparents(); len(tps) != 1 || tps[0] != incoming {
		t.Errorf("core got %q, want the incoming %s", tps, incoming)
	}
}

func spanNames(spans []sdktrace.ReadOnlySpan) []string {
	names := make([]string, len(spans))
	for i, s := range spans {
		names[i] = s.Name()
	}
	return names
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

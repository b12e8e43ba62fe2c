package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/jessy-ci/jessy-api/internal/api"
)

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func testConfig(t *testing.T, coreURL string) api.Config {
	t.Helper()
	env := map[string]string{
		"JESSY_API_PORT":        "3000",
		"JESSY_BIND_HOST":       "127.0.0.1",
		"JESSY_CORE_URL":        coreURL,
		"JESSY_DATA_DIR":        t.TempDir(),
		"JESSY_CORE_TIMEOUT_MS": "500",
	}
	cfg, err := api.ConfigFromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	cfg.Port = freePort(t)
	return cfg
}

// serve starts run() and returns a stop function that cancels it and returns its error.
func serve(t *testing.T, cfg api.Config) func() error {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, cfg, slog.New(slog.NewJSONHandler(io.Discard, nil))) }()
	deadline := time.Now().Add(5 * time.Second)
	for {
		conn, err := net.Dial("tcp", cfg.Addr())
		if err == nil {
			conn.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("api did not listen on %s: %v", cfg.Addr(), err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return func() error {
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(20 * time.Second):
			t.Fatal("run did not return after its context was cancelled")
			return nil
		}
	}
}

func TestRunServesUntilCancelledAndProbeFollowsHealth(t *testing.T) {
	core := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"status":"ok"}`)
	}))
	defer core.Close()
	cfg := testConfig(t, core.URL)
	stop := serve(t, cfg)
	if code := probe(cfg); code != 0 {
		t.Errorf("probe with a healthy core = %d, want 0", code)
	}
	if err := stop(); err != nil {
		t.Errorf("run returned %v after cancel, want nil", err)
	}
	if code := probe(cfg); code != 1 {
		t.Errorf("probe after shutdown = %d, want 1", code)
	}
}

func TestProbeFailsWhenCoreIsDown(t *testing.T) {
	cfg := testConfig(t, "http://127.0.0.1:9")
	stop := serve(t, cfg)
	defer func() { _ = stop() }()
	if code := probe(cfg); code != 1 {
		t.Errorf("probe with core down = %d, want 1 (api answers 503)", code)
	}
}

func TestRunReportsAPortInUse(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	cfg := testConfig(t, "http://127.0.0.1:9")
	cfg.Port = l.Addr().(*net.TCPAddr).Port
	if err := run(context.Background(), cfg, slog.New(slog.NewJSONHandler(io.Discard, nil))); err == nil {
		t.Error("run on a busy port returned nil, want an error")
	}
}

func TestRunServesMetrics(t *testing.T) {
	cfg := testConfig(t, "http://127.0.0.1:9")
	stop := serve(t, cfg)
	defer func() { _ = stop() }()
	res, err := http.Get("http://" + cfg.Addr() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.Contains(string(body), "jessy_layers 0") {
		t.Fatalf("/metrics: %d %s", res.StatusCode, body)
	}
}

func TestFlushTracesExportsQueuedSpans(t *testing.T) {
	logger := slog.New(slog.NewJSONHandler(io.Discard, nil))
	flushTraces(nil, logger) // no export: nothing to do

	exp := &countingExporter{}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp, sdktrace.WithBatchTimeout(time.Hour)))
	_, span := tp.Tracer("test").Start(context.Background(), "last request")
	span.End()
	if n := exp.spans.Load(); n != 0 {
		t.Fatalf("%d spans exported before the flush", n)
	}
	flushTraces(tp, logger)
	if n := exp.spans.Load(); n != 1 {
		t.Fatalf("%d spans exported by the flush, want 1", n)
	}
}

// countingExporter counts the spans exported to it (tracetest's in-memory
// exporter forgets them on Shutdown).
type countingExporter struct{ spans atomic.Int64 }

func (e *countingExporter) ExportSpans(_ context.Context, spans []sdktrace.ReadOnlySpan) error {
	e.spans.Add(int64(len(spans)))
	return nil
}

func (e *countingExporter) Shutdown(context.Context) error { return nil }

func TestFirstSet(t *testing.T) {
	if firstSet("", "b", "c") != "b" || firstSet("", "") != "" {
		t.Error("firstSet")
	}
}

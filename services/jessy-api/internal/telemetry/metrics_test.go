package telemetry

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func scrape(t *testing.T, m *Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("scrape: %d %s", rec.Code, rec.Body)
	}
	return rec.Body.String()
}

func TestMetricsObserve(t *testing.T) {
	m := NewMetrics(func() (int, int64, error) { return 3, 4096, nil })
	m.ObserveRequest("/api/layers/{name}", "GET", 200, 20*time.Millisecond)
	m.ObserveRequest("/api/layers/{name}", "GET", 200, 30*time.Millisecond)
	m.ObserveCore("/health", "GET", "error", time.Second)
	text := scrape(t, m)
	for _, want := range []string{
		`jessy_http_requests_total{method="GET",route="/api/layers/{name}",status="200"} 2`,
		`jessy_http_request_duration_seconds_bucket{method="GET",route="/api/layers/{name}",le="0.025"} 1`,
		`jessy_http_request_duration_seconds_sum{method="GET",route="/api/layers/{name}"} 0.05`,
		`jessy_core_request_duration_seconds_count{method="GET",route="/health",status="error"} 1`,
		"jessy_layers 3\n",
		"jessy_layer_bytes 4096\n",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("scrape lacks %q", want)
		}
	}
}

func TestMetricsUnreadableVolumeLeavesOnlyTheGaugesOut(t *testing.T) {
	m := NewMetrics(func() (int, int64, error) { return 0, 0, errors.New("permission denied") })
	m.ObserveRequest("/api/health", "GET", 200, time.Millisecond)
	text := scrape(t, m)
	if strings.Contains(text, "jessy_layers ") || !strings.Contains(text, "jessy_http_requests_total{") {
		t.Fatalf("scrape:\n%s", text)
	}
	if strings.Contains(scrape(t, NewMetrics(nil)), "jessy_layers") {
		t.Fatal("a nil LayerStats exposes gauges")
	}
}

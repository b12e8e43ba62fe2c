package api

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
)

// Benchmarks call the handler in-process (no api socket); the health
// benchmark still makes a real loopback round trip to a fake core.

func benchServe(b *testing.B, h http.Handler, method, target string, body []byte, want int) {
	b.Helper()
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		var req *http.Request
		if body != nil {
			req = httptest.NewRequest(method, target, bytes.NewReader(body))
		} else {
			req = httptest.NewRequest(method, target, nil)
		}
		h.ServeHTTP(rec, req)
		if rec.Code != want {
			b.Fatalf("%s %s: status %d, want %d: %s", method, target, rec.Code, want, rec.Body)
		}
	}
}

func BenchmarkHealth(b *testing.B) {
	_, core := newFakeCore(b)
	h := newTestHandler(b, core.URL, b.TempDir(), 0)
	benchServe(b, h, "GET", "/api/health", nil, http.StatusOK)
}

func BenchmarkGetLayer4KiB(b *testing.B) {
	dir := b.TempDir()
	writeLayers(b, dir, map[string][]byte{"layer4k": bytes.Repeat([]byte("j"), 4096)})
	h := newTestHandler(b, deadCoreURL(b), dir, 0)
	b.SetBytes(4096)
	benchServe(b, h, "GET", "/api/layers/layer4k", nil, http.StatusOK)
}

func BenchmarkListLayers(b *testing.B) {
	dir := b.TempDir()
	layers := make(map[string][]byte, 100)
	for i := range 100 {
		layers[fmt.Sprintf("layer-%03d", i)] = []byte("x")
	}
	writeLayers(b, dir, layers)
	h := newTestHandler(b, deadCoreURL(b), dir, 0)
	benchServe(b, h, "GET", "/api/layers", nil, http.StatusOK)
}

func BenchmarkPutLayer4KiB(b *testing.B) {
	fc, core := newFakeCore(b)
	fc.set(func() { fc.layers["bench"] = nil }) // every PUT replaces: 200
	h := newTestHandler(b, core.URL, b.TempDir(), 0)
	b.SetBytes(4096)
	benchServe(b, h, "PUT", "/api/layers/bench", bytes.Repeat([]byte("j"), 4096), http.StatusOK)
}

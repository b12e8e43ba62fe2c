package api

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// fakeCore is a minimal in-memory stand-in for jessy-core's HTTP contract.
type fakeCore struct {
	mu           sync.Mutex
	layers       map[string][]byte
	puts         int
	maxBytes     int64    // 0 = unlimited
	healthStatus int      // 0 = 200
	healthBlock  bool     // block /health until the client gives up
	traceparents []string // the traceparent header of every request, in order
}

func newFakeCore(t testing.TB) (*fakeCore, *httptest.Server) {
	t.Helper()
	fc := &fakeCore{layers: map[string][]byte{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, r *http.Request) {
		fc.mu.Lock()
		status, block := fc.healthStatus, fc.healthBlock
		fc.mu.Unlock()
		if block {
			<-r.Context().Done()
			return
		}
		if status != 0 && status != http.StatusOK {
			coreJSON(w, status, map[string]any{"status": "degraded", "reason": "test"})
			return
		}
		coreJSON(w, http.StatusOK, map[string]any{"status": "ok", "service": "jessy-core", "version": "fake"})
	})
	mux.HandleFunc("PUT /layers/{name}", func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			coreJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
			return
		}
		fc.mu.Lock()
		defer fc.mu.Unlock()
		fc.puts++
		if fc.maxBytes > 0 && int64(len(body)) > fc.maxBytes {
			coreJSON(w, http.StatusRequestEntityTooLarge, map[string]string{"error": "core: layer too large"})
			return
		}
		name := r.PathValue("name")
		status := http.StatusCreated
		if _, ok := fc.layers[name]; ok {
			status = http.StatusOK
		}
		fc.layers[name] = body
		coreJSON(w, status, map[string]any{"name": name, "size": len(body)})
	})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fc.set(func() { fc.traceparents = append(fc.traceparents, r.Header.Get("traceparent")) })
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return fc, srv
}

// seenTraceparents returns the traceparent headers received so far.
func (fc *fakeCore) seenTraceparents() []string {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	return append([]string(nil), fc.traceparents...)
}

// set changes the fake's behaviour under its lock.
func (fc *fakeCore) set(f func()) {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	f()
}

func (fc *fakeCore) putCount() int {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	return fc.puts
}

func coreJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// deadCoreURL returns a loopback URL on which nothing listens.
func deadCoreURL(t testing.TB) string {
	t.Helper()
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	return url
}

// writeLayers creates <dir>/layers/<name>.layer files.
func writeLayers(t testing.TB, dir string, layers map[string][]byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Join(dir, "layers"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, data := range layers {
		if err := os.WriteFile(filepath.Join(dir, "layers", name+".layer"), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func do(t testing.TB, h http.Handler, method, target string, body io.Reader) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, target, body))
	return rec
}

func decode(t testing.TB, data []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatalf("response is not a JSON object: %v: %q", err, data)
	}
	return m
}

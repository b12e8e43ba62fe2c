package api

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func newTestHandler(t testing.TB, coreURL, dataDir string, maxBytes int64) http.Handler {
	t.Helper()
	return New(Config{
		CoreURL:       coreURL,
		DataDir:       dataDir,
		MaxLayerBytes: maxBytes,
		CoreTimeout:   200 * time.Millisecond,
		Version:       "test",
	}, nil)
}

func TestHealthOK(t *testing.T) {
	_, core := newFakeCore(t)
	h := newTestHandler(t, core.URL, t.TempDir(), 0)
	rec := do(t, h, "GET", "/api/health", nil)
	if rec.Code != http.StatusOK {
		t.Fatalf("status = %d, body %s", rec.Code, rec.Body)
	}
	var got healthResponse
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got.Status != "ok" || got.Service != "jessy-api" || got.Version != "test" ||
		got.Core.Status != "ok" || got.Core.LatencyMS == nil || got.Core.Error != "" {
		t.Fatalf("unexpected health: %s", rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Fatalf("content-type = %q", ct)
	}
}

func TestHealthDegraded(t *testing.T) {
	cases := map[string]func(t *testing.T) string{
		"core down": func(t *testing.T) string { return deadCoreURL(t) },
		"core non-200": func(t *testing.T) string {
			fc, core := newFakeCore(t)
			fc.set(func() { fc.healthStatus = http.StatusServiceUnavailable })
			return core.URL
		},
		"core too slow": func(t *testing.T) string {
			fc, core := newFakeCore(t)
			fc.set(func() { fc.healthBlock = true })
			return core.URL
		},
	}
	for name, setup := range cases {
		t.Run(name, func(t *testing.T) {
			h := newTestHandler(t, setup(t), t.TempDir(), 0)
			start := time.Now()
			rec := do(t, h, "GET", "/api/health", nil)
			if elapsed := time.Since(start); elapsed > 2*time.Second {
				t.Fatalf("health took %v, want the 200ms core timeout to apply", elapsed)
			}
			if rec.Code != http.StatusServiceUnavailable {
				t.Fatalf("status = %d, body %s", rec.Code, rec.Body)
			}
			var got healthResponse
			if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
				t.Fatal(err)
			}
			if got.Status != "degraded" || got.Service != "jessy-api" || got.Core.Status != "unreachable" ||
				got.Core.Error == "" || got.Core.LatencyMS != nil {
				t.Fatalf("unexpected health: %s", rec.Body)
			}
		})
	}
}

func TestListLayers(t *testing.T) {
	dir := t.TempDir()
	writeLayers(t, dir, map[string][]byte{"b-2.0": []byte("bb"), "a": []byte("aaa"), "empty": nil})
	// Things that are not layers must be ignored.
	for _, p := range []string{"layers/notes.txt", "layers/UPPER.layer", "tmp/c.layer", "VERSION"} {
		_ = os.MkdirAll(filepath.Dir(filepath.Join(dir, p)), 0o755)
		if err := os.WriteFile(filepath.Join(dir, p), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "layers", "dir.layer"), 0o755); err != nil {
		t.Fatal(err)
	}
	h := newTestHandler(t, deadCoreURL(t), dir, 0)
	rec := do(t, h, "GET", "/api/layers", nil)
	if rec.Code != http.StatusOK {
		t.Fatalf("status = %d, body %s", rec.Code, rec.Body)
	}
	var got layerList
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	want := []Layer{{"a", 3}, {"b-2.0", 2}, {"empty", 0}}
	if len(got.Layers) != len(want) {
		t.Fatalf("layers = %+v, want %+v", got.Layers, want)
	}
	for i := range want {
		if got.Layers[i] != want[i] {
			t.Fatalf("layers = %+v, want %+v", got.Layers, want)
		}
	}
}

func TestListLayersEmptyVolume(t *testing.T) {
	h := newTestHandler(t, deadCoreURL(t), t.TempDir(), 0) // no layers/ directory yet
	rec := do(t, h, "GET", "/api/layers", nil)
	if rec.Code != http.StatusOK || strings.TrimSpace(rec.Body.String()) != `{"layers":[]}` {
		t.Fatalf("got %d %s", rec.Code, rec.Body)
	}
}

func TestGetLayer(t *testing.T) {
	dir := t.TempDir()
	data := bytes.Repeat([]byte{0, 1, 2, 0xff}, 1000)
	writeLayers(t, dir, map[string][]byte{"base.v1": data})
	h := newTestHandler(t, deadCoreURL(t), dir, 0)

	rec := do(t, h, "GET", "/api/layers/base.v1", nil)
	if rec.Code != http.StatusOK || !bytes.Equal(rec.Body.Bytes(), data) {
		t.Fatalf("status = %d, %d bytes", rec.Code, rec.Body.Len())
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/octet-stream" {
		t.Fatalf("content-type = %q", ct)
	}

	rec = do(t, h, "GET", "/api/layers/missing", nil)
	if rec.Code != http.StatusNotFound || decode(t, rec.Body.Bytes())["error"] != "layer not found" {
		t.Fatalf("missing: %d %s", rec.Code, rec.Body)
	}
	for _, bad := range []string{"Base", "-x", ".hidden", "a%20b", strings.Repeat("a", 65)} {
		rec = do(t, h, "GET", "/api/layers/"+bad, nil)
		if rec.Code != http.StatusBadRequest || decode(t, rec.Body.Bytes())["error"] != "invalid layer name" {
			t.Fatalf("%q: %d %s", bad, rec.Code, rec.Body)
		}
	}
	rec = do(t, h, "GET", "/api/layers/"+strings.Repeat("a", 64), nil)
	if rec.Code != http.StatusNotFound {
		t.Fatalf("64-char name: %d %s", rec.Code, rec.Body)
	}
}

func TestPutForwardsToCore(t *testing.T) {
	fc, core := newFakeCore(t)
	srv := httptest.NewServer(newTestHandler(t, core.URL, t.TempDir(), 1024))
	defer srv.Close()

	for i, want := range []int{http.StatusCreated, http.StatusOK} {
		body := bytes.Repeat([]byte{byte(i)}, 100)
		res := put(t, srv.URL+"/api/layers/app", bytes.NewReader(body))
		if res.status != want {
			t.Fatalf("put %d: status = %d, want %d (%s)", i, res.status, want, res.body)
		}
		m := decode(t, res.body)
		if m["name"] != "app" || m["size"] != float64(100) {
			t.Fatalf("core body not passed through: %s", res.body)
		}
		fc.mu.Lock()
		stored := fc.layers["app"]
		fc.mu.Unlock()
		if !bytes.Equal(stored, body) {
			t.Fatalf("core stored %d bytes, want %d", len(stored), len(body))
		}
	}
}

func TestPutCoreErrorPassThrough(t *testing.T) {
	fc, core := newFakeCore(t)
	fc.set(func() { fc.maxBytes = 10 }) // core stricter than the api
	srv := httptest.NewServer(newTestHandler(t, core.URL, t.TempDir(), 1024))
	defer srv.Close()
	res := put(t, srv.URL+"/api/layers/app", strings.NewReader(strings.Repeat("x", 11)))
	if res.status != http.StatusRequestEntityTooLarge || decode(t, res.body)["error"] != "core: layer too large" {
		t.Fatalf("got %d %s", res.status, res.body)
	}
}

func TestPutTooLarge(t *testing.T) {
	fc, core := newFakeCore(t)
	srv := httptest.NewServer(newTestHandler(t, core.URL, t.TempDir(), 8))
	defer srv.Close()
	bodies := map[string]io.Reader{
		"content-length": strings.NewReader("123456789"),
		"chunked":        io.MultiReader(strings.NewReader("12345"), strings.NewReader("6789")), // unknown length
	}
	for name, body := range bodies {
		res := put(t, srv.URL+"/api/layers/app", body)
		if res.status != http.StatusRequestEntityTooLarge || decode(t, res.body)["error"] != "layer too large" {
			t.Fatalf("%s: got %d %s", name, res.status, res.body)
		}
	}
	// Exactly at the limit is fine.
	if res := put(t, srv.URL+"/api/layers/app", strings.NewReader("12345678")); res.status != http.StatusCreated {
		t.Fatalf("at limit: got %d %s", res.status, res.body)
	}
	if n := fc.putCount(); n != 1 {
		t.Fatalf("core saw %d PUTs, want only the one within the limit", n)
	}
}

func TestPutInvalidName(t *testing.T) {
	fc, core := newFakeCore(t)
	h := newTestHandler(t, core.URL, t.TempDir(), 0)
	rec := do(t, h, "PUT", "/api/layers/Not_Valid", strings.NewReader("x"))
	if rec.Code != http.StatusBadRequest || decode(t, rec.Body.Bytes())["error"] != "invalid layer name" {
		t.Fatalf("got %d %s", rec.Code, rec.Body)
	}
	if fc.putCount() != 0 {
		t.Fatal("invalid name reached the core")
	}
}

func TestPutCoreUnreachable(t *testing.T) {
	h := newTestHandler(t, deadCoreURL(t), t.TempDir(), 0)
	rec := do(t, h, "PUT", "/api/layers/app", strings.NewReader("x"))
	if rec.Code != http.StatusBadGateway || decode(t, rec.Body.Bytes())["error"] != "core unreachable" {
		t.Fatalf("got %d %s", rec.Code, rec.Body)
	}
}

func TestUnknownRoutes(t *testing.T) {
	h := newTestHandler(t, deadCoreURL(t), t.TempDir(), 0)
	for _, p := range []string{"/", "/nope", "/api", "/api/layers/a/b", "/layers"} {
		rec := do(t, h, "GET", p, nil)
		if rec.Code != http.StatusNotFound || decode(t, rec.Body.Bytes())["error"] != "not found" {
			t.Fatalf("%s: got %d %s", p, rec.Code, rec.Body)
		}
	}
}

func TestMethodNotAllowed(t *testing.T) {
	h := newTestHandler(t, deadCoreURL(t), t.TempDir(), 0)
	cases := []struct{ method, path, allow string }{
		{"POST", "/api/health", "GET, HEAD"},
		{"DELETE", "/api/layers", "GET, HEAD"},
		{"PUT", "/api/layers", "GET, HEAD"},
		{"DELETE", "/api/layers/app", "GET, HEAD, PUT"},
		{"POST", "/api/layers/app", "GET, HEAD, PUT"},
	}
	for _, c := range cases {
		rec := do(t, h, c.method, c.path, nil)
		if rec.Code != http.StatusMethodNotAllowed || decode(t, rec.Body.Bytes())["error"] != "method not allowed" {
			t.Fatalf("%s %s: got %d %s", c.method, c.path, rec.Code, rec.Body)
		}
		if got := rec.Header().Get("Allow"); got != c.allow {
			t.Fatalf("%s %s: Allow = %q, want %q", c.method, c.path, got, c.allow)
		}
	}
}

func TestRequestLogLine(t *testing.T) {
	var buf bytes.Buffer
	h := New(Config{CoreURL: deadCoreURL(t), DataDir: t.TempDir()}, slog.New(slog.NewJSONHandler(&buf, nil)))
	do(t, h, "GET", "/api/layers/missing", nil)
	sc := bufio.NewScanner(&buf)
	var lines []map[string]any
	for sc.Scan() {
		lines = append(lines, decode(t, sc.Bytes()))
	}
	if len(lines) != 1 {
		t.Fatalf("want one log line, got %d: %s", len(lines), buf.String())
	}
	l := lines[0]
	if l["method"] != "GET" || l["path"] != "/api/layers/missing" || l["status"] != float64(404) {
		t.Fatalf("log line: %v", l)
	}
	if _, ok := l["duration_ms"].(float64); !ok {
		t.Fatalf("log line without duration_ms: %v", l)
	}
}

func TestConfigFromEnv(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	c, err := ConfigFromEnv(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr() != "0.0.0.0:3000" || c.CoreURL != DefaultCoreURL || c.DataDir != "./data" ||
		c.MaxLayerBytes != 16<<20 || c.CoreTimeout != 2*time.Second {
		t.Fatalf("defaults: %+v", c)
	}
	c, err = ConfigFromEnv(env(map[string]string{
		"JESSY_API_PORT": "3100", "JESSY_BIND_HOST": "::1", "JESSY_CORE_URL": "http://core:8080/",
		"JESSY_DATA_DIR": "/data", "JESSY_MAX_LAYER_BYTES": "1024", "JESSY_CORE_TIMEOUT_MS": "150",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr() != "[::1]:3100" || c.CoreURL != "http://core:8080" || c.DataDir != "/data" ||
		c.MaxLayerBytes != 1024 || c.CoreTimeout != 150*time.Millisecond {
		t.Fatalf("overrides: %+v", c)
	}
	for k, v := range map[string]string{
		"JESSY_API_PORT": "0", "JESSY_CORE_URL": "core:8080", "JESSY_MAX_LAYER_BYTES": "-1", "JESSY_CORE_TIMEOUT_MS": "x",
	} {
		if _, err := ConfigFromEnv(env(map[string]string{k: v})); err == nil {
			t.Errorf("%s=%q accepted", k, v)
		}
	}
}

type putResult struct {
	status int
	body   []byte
}

func put(t testing.TB, url string, body io.Reader) putResult {
	t.Helper()
	req, err := http.NewRequest(http.MethodPut, url, body)
	if err != nil {
		t.Fatal(err)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return putResult{res.StatusCode, b}
}

//go:build integration

// Integration tests against a RUNNING jessy-core:
//
//	JESSY_CORE_URL=http://127.0.0.1:8080 JESSY_DATA_DIR=/path/to/core/data \
//	    go test -tags integration ./...
//
// JESSY_DATA_DIR must be the core's own data volume (the api reads it directly).
// The core's limit is JESSY_CORE_MAX_LAYER_BYTES, else JESSY_MAX_LAYER_BYTES (the
// pipeline gives core and tests the same env), else the 16 MiB default. Layer names are unique per run and removed afterwards.
package api

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

const integrationAPILimit = 64 << 10 // the api's own limit in these tests

type integration struct {
	coreURL string
	dataDir string
	api     *httptest.Server
}

func newIntegration(t *testing.T) *integration {
	t.Helper()
	coreURL := strings.TrimRight(os.Getenv("JESSY_CORE_URL"), "/")
	dataDir := os.Getenv("JESSY_DATA_DIR")
	if coreURL == "" || dataDir == "" {
		t.Fatalf("integration tests need a running jessy-core: set JESSY_CORE_URL (e.g. http://127.0.0.1:8080) "+
			"and JESSY_DATA_DIR (the core's data volume); got JESSY_CORE_URL=%q JESSY_DATA_DIR=%q", coreURL, dataDir)
	}
	return newIntegrationWithLimit(t, coreURL, dataDir, integrationAPILimit)
}

func newIntegrationWithLimit(t *testing.T, coreURL, dataDir string, limit int64) *integration {
	t.Helper()
	h := New(Config{CoreURL: coreURL, DataDir: dataDir, MaxLayerBytes: limit, CoreTimeout: 2 * time.Second, Version: "it"}, nil)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &integration{coreURL: coreURL, dataDir: dataDir, api: srv}
}

// layerName returns a fresh name and deletes that layer through the core at the end.
func (it *integration) layerName(t *testing.T) string {
	t.Helper()
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "it-" + hex.EncodeToString(b[:])
	t.Cleanup(func() {
		if res, err := it.call(http.MethodDelete, it.coreURL+"/layers/"+name, nil); err == nil &&
			res.status != http.StatusNoContent && res.status != http.StatusNotFound {
			t.Errorf("cleanup of %s: core answered %d %s", name, res.status, res.body)
		}
	})
	return name
}

func (it *integration) call(method, url string, body []byte) (putResult, error) {
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, url, r)
	if err != nil {
		return putResult{}, err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return putResult{}, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return putResult{res.StatusCode, b}, err
}

func (it *integration) mustCall(t *testing.T, method, url string, body []byte) putResult {
	t.Helper()
	res, err := it.call(method, url, body)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	return res
}

func (it *integration) listed(t *testing.T, name string) (Layer, bool) {
	t.Helper()
	res := it.mustCall(t, "GET", it.api.URL+"/api/layers", nil)
	var list layerList
	if res.status != http.StatusOK || json.Unmarshal(res.body, &list) != nil {
		t.Fatalf("list: %d %s", res.status, res.body)
	}
	for _, l := range list.Layers {
		if l.Name == name {
			return l, true
		}
	}
	return Layer{}, false
}

func TestIntegrationHealth(t *testing.T) {
	it := newIntegration(t)
	res := it.mustCall(t, "GET", it.api.URL+"/api/health", nil)
	var h healthResponse
	if res.status != http.StatusOK || json.Unmarshal(res.body, &h) != nil || h.Status != "ok" || h.Core.Status != "ok" {
		t.Fatalf("health with real core: %d %s", res.status, res.body)
	}
}

func TestIntegrationPutThenReadBack(t *testing.T) {
	it := newIntegration(t)
	name := it.layerName(t)
	data := make([]byte, 10_000)
	_, _ = rand.Read(data)

	res := it.mustCall(t, "PUT", it.api.URL+"/api/layers/"+name, data)
	if res.status != http.StatusCreated {
		t.Fatalf("put via api: %d %s", res.status, res.body)
	}
	if m := decode(t, res.body); m["name"] != name || m["size"] != float64(len(data)) {
		t.Fatalf("put via api: core answer not passed through: %s", res.body)
	}
	// The api reads the shared volume directly; the file is there.
	if fi, err := os.Stat(filepath.Join(it.dataDir, "layers", name+".layer")); err != nil || fi.Size() != int64(len(data)) {
		t.Fatalf("layer file on volume: %v %v (is JESSY_DATA_DIR the core's volume?)", fi, err)
	}
	if res := it.mustCall(t, "GET", it.api.URL+"/api/layers/"+name, nil); res.status != 200 || !bytes.Equal(res.body, data) {
		t.Fatalf("get via api: %d, %d bytes", res.status, len(res.body))
	}
	if res := it.mustCall(t, "GET", it.coreURL+"/layers/"+name, nil); res.status != 200 || !bytes.Equal(res.body, data) {
		t.Fatalf("get via core: %d, %d bytes", res.status, len(res.body))
	}
	if l, ok := it.listed(t, name); !ok || l.Size != int64(len(data)) {
		t.Fatalf("list via api: %v %v", l, ok)
	}
	// Replace: core says 200, the api reads the new content.
	res = it.mustCall(t, "PUT", it.api.URL+"/api/layers/"+name, []byte("v2"))
	if res.status != http.StatusOK {
		t.Fatalf("replace via api: %d %s", res.status, res.body)
	}
	if res := it.mustCall(t, "GET", it.api.URL+"/api/layers/"+name, nil); res.status != 200 || string(res.body) != "v2" {
		t.Fatalf("get after replace: %d %q", res.status, res.body)
	}
}

func TestIntegrationInvalidName(t *testing.T) {
	it := newIntegration(t)
	for _, method := range []string{"PUT", "GET"} {
		res := it.mustCall(t, method, it.api.URL+"/api/layers/Bad_Name", []byte("x"))
		if res.status != http.StatusBadRequest || decode(t, res.body)["error"] != "invalid layer name" {
			t.Fatalf("%s invalid name: %d %s", method, res.status, res.body)
		}
	}
	// The core applies the same rule.
	if res := it.mustCall(t, "PUT", it.coreURL+"/layers/Bad_Name", []byte("x")); res.status != http.StatusBadRequest {
		t.Fatalf("core accepted an invalid name: %d %s", res.status, res.body)
	}
}

func TestIntegrationOversize(t *testing.T) {
	it := newIntegration(t)

	t.Run("api limit", func(t *testing.T) {
		name := it.layerName(t)
		res := it.mustCall(t, "PUT", it.api.URL+"/api/layers/"+name, make([]byte, integrationAPILimit+1))
		if res.status != http.StatusRequestEntityTooLarge || decode(t, res.body)["error"] != "layer too large" {
			t.Fatalf("oversize via api: %d %s", res.status, res.body)
		}
		if res := it.mustCall(t, "GET", it.coreURL+"/layers/"+name, nil); res.status != http.StatusNotFound {
			t.Fatalf("oversize layer reached the core: %d", res.status)
		}
	})

	t.Run("core limit passes through", func(t *testing.T) {
		coreLimit := int64(DefaultMaxLayerBytes)
		for _, key := range []string{"JESSY_CORE_MAX_LAYER_BYTES", "JESSY_MAX_LAYER_BYTES"} {
			if v := os.Getenv(key); v != "" {
				n, err := strconv.ParseInt(v, 10, 64)
				if err != nil {
					t.Fatalf("%s=%q: %v", key, v, err)
				}
				coreLimit = n
				break
			}
		}
		loose := newIntegrationWithLimit(t, it.coreURL, it.dataDir, coreLimit+1024) // api lets it through
		name := it.layerName(t)
		res := it.mustCall(t, "PUT", loose.api.URL+"/api/layers/"+name, make([]byte, coreLimit+1))
		if res.status != http.StatusRequestEntityTooLarge {
			t.Fatalf("core 413 not passed through: %d %s", res.status, res.body)
		}
		if _, ok := decode(t, res.body)["error"]; !ok {
			t.Fatalf("core 413 body without error key: %s", res.body)
		}
	})
}

func TestIntegrationDeleteViaCoreThen404(t *testing.T) {
	it := newIntegration(t)
	name := it.layerName(t)
	if res := it.mustCall(t, "PUT", it.api.URL+"/api/layers/"+name, []byte("short-lived")); res.status != http.StatusCreated {
		t.Fatalf("put via api: %d %s", res.status, res.body)
	}
	if res := it.mustCall(t, "DELETE", it.coreURL+"/layers/"+name, nil); res.status != http.StatusNoContent {
		t.Fatalf("delete via core: %d %s", res.status, res.body)
	}
	res := it.mustCall(t, "GET", it.api.URL+"/api/layers/"+name, nil)
	if res.status != http.StatusNotFound || decode(t, res.body)["error"] != "layer not found" {
		t.Fatalf("get after delete: %d %s", res.status, res.body)
	}
	if _, ok := it.listed(t, name); ok {
		t.Fatalf("%s still listed after delete", name)
	}
}

// Package api implements the HTTP surface of jessy-api: a thin front for
// jessy-core that serves reads straight from the shared data volume
// (read-only) and forwards writes to the core.
package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/jessy-ci/jessy-api/internal/telemetry"
)

// coreWriteTimeout bounds a forwarded PUT (upload of up to MaxLayerBytes plus
// the core's atomic write).
const coreWriteTimeout = 30 * time.Second

// maxCoreResponseBytes caps what we relay from the core's (small, JSON) answers.
const maxCoreResponseBytes = 1 << 20

var layerName = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)

// ValidLayerName reports whether name follows the rules shared with jessy-core.
func ValidLayerName(name string) bool { return layerName.MatchString(name) }

// Layer is one entry of a layer listing (same shape as jessy-core's).
type Layer struct {
	Name string `json:"name"`
	Size int64  `json:"size"`
}

type layerList struct {
	Layers []Layer `json:"layers"`
}

type coreStatus struct {
	Status    string   `json:"status"`
	LatencyMS *float64 `json:"latency_ms,omitempty"`
	Error     string   `json:"error,omitempty"`
}

type healthResponse struct {
	Status  string     `json:"status"`
	Service string     `json:"service"`
	Version string     `json:"version"`
	Core    coreStatus `json:"core"`
}

type server struct {
	cfg     Config
	client  *http.Client
	log     *slog.Logger
	metrics *telemetry.Metrics
}

// Option changes how New instruments the handler.
type Option func(*telemetry.Tracing)

// WithTracerProvider makes a server span per request and a client span per
// call to core with tp. Without it New makes no spans (nothing is exported, so
// none are paid for) but still passes an incoming trace context on to the
// logs and to core.
func WithTracerProvider(tp trace.TracerProvider) Option {
	return func(t *telemetry.Tracing) { t.Provider = tp }
}

// WithPropagator reads and writes trace context with p instead of
// OpenTelemetry's global propagator.
func WithPropagator(p propagation.TextMapPropagator) Option {
	return func(t *telemetry.Tracing) { t.Propagator = p }
}

// New returns the complete jessy-api handler: routes, GET /metrics (a
// registry of its own), request logging and metrics, trace context passed on
// to core and, WithTracerProvider, spans. A nil logger discards logs.
// Zero-valued config fields get the defaults.
func New(cfg Config, logger *slog.Logger, opts ...Option) http.Handler {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if cfg.CoreURL == "" {
		cfg.CoreURL = DefaultCoreURL
	}
	cfg.CoreURL = strings.TrimRight(cfg.CoreURL, "/")
	if cfg.DataDir == "" {
		cfg.DataDir = DefaultDataDir
	}
	if cfg.MaxLayerBytes <= 0 {
		cfg.MaxLayerBytes = DefaultMaxLayerBytes
	}
	if cfg.CoreTimeout <= 0 {
		cfg.CoreTimeout = DefaultCoreTimeout
	}
	if cfg.Version == "" {
		cfg.Version = "dev"
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 32
	// With "Expect: 100-continue" core can refuse a body (413) before it is sent; without it the refusal
	// races the upload and the client sees a broken pipe instead of core's answer.
	tr.ExpectContinueTimeout = time.Second
	var tracing telemetry.Tracing
	for _, o := range opts {
		o(&tracing)
	}
	s := &server{cfg: cfg, log: logger}
	s.metrics = telemetry.NewMetrics(s.layerStats)
	s.client = &http.Client{Transport: tracing.Transport(tr, s.metrics)}

	mux := http.NewServeMux()
	mux.Handle("GET /metrics", s.metrics.Handler())
	mux.HandleFunc("GET /api/health", s.health)
	mux.HandleFunc("GET /api/layers", s.listLayers)
	mux.HandleFunc("GET /api/layers/{name}", s.getLayer)
	mux.HandleFunc("PUT /api/layers/{name}", s.putLayer)
	// Method-less patterns are less specific than the ones above, so they
	// only catch the wrong methods on known paths.
	mux.Handle("/metrics", methodNotAllowed("GET, HEAD"))
	mux.Handle("/api/health", methodNotAllowed("GET, HEAD"))
	mux.Handle("/api/layers", methodNotAllowed("GET, HEAD"))
	mux.Handle("/api/layers/{name}", methodNotAllowed("GET, HEAD, PUT"))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "not found", "path": r.URL.Path})
	})
	// Tracing is outermost so that the log line sees the trace id; logRequests hands
	// the mux the same *http.Request, on which the mux sets the route Pattern.
	return tracing.Handler(s.logRequests(mux))
}

func (s *server) health(w http.ResponseWriter, r *http.Request) {
	resp := healthResponse{Status: "ok", Service: "jessy-api", Version: s.cfg.Version}
	latency, err := s.pingCore(r.Context())
	if err != nil {
		resp.Status = "degraded"
		resp.Core = coreStatus{Status: "unreachable", Error: err.Error()}
		writeJSON(w, http.StatusServiceUnavailable, resp)
		return
	}
	ms := math.Round(float64(latency.Microseconds())) / 1000
	resp.Core = coreStatus{Status: "ok", LatencyMS: &ms}
	writeJSON(w, http.StatusOK, resp)
}

// pingCore calls the core's GET /health within CoreTimeout; anything but a
// 200 in time is an error.
func (s *server) pingCore(ctx context.Context) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(telemetry.WithCoreRoute(ctx, "/health"), s.cfg.CoreTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.cfg.CoreURL+"/health", nil)
	if err != nil {
		return 0, err
	}
	start := time.Now()
	res, err := s.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	// Drain a bounded amount so the connection can be reused.
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	if res.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("core answered %d", res.StatusCode)
	}
	return time.Since(start), nil
}

func (s *server) layerPath(name string) string {
	return filepath.Join(s.cfg.DataDir, "layers", name+".layer")
}

// readLayers lists <data>/layers/*.layer (valid names, regular files); no
// layers folder yet is an empty list.
func (s *server) readLayers() ([]Layer, error) {
	entries, err := os.ReadDir(filepath.Join(s.cfg.DataDir, "layers"))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	layers := make([]Layer, 0, len(entries))
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), ".layer")
		if !ok || !e.Type().IsRegular() || !ValidLayerName(name) {
			continue
		}
		info, err := e.Info()
		if err != nil { // removed since ReadDir
			continue
		}
		layers = append(layers, Layer{Name: name, Size: info.Size()})
	}
	return layers, nil
}

// layerStats feeds the jessy_layers and jessy_layer_bytes gauges on each scrape.
func (s *server) layerStats() (int, int64, error) {
	layers, err := s.readLayers()
	var total int64
	for _, l := range layers {
		total += l.Size
	}
	return len(layers), total, err
}

func (s *server) listLayers(w http.ResponseWriter, r *http.Request) {
	layers, err := s.readLayers()
	if err != nil {
		s.log.Error("list layers", "error", err)
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "cannot read layers"})
		return
	}
	sort.Slice(layers, func(i, j int) bool { return layers[i].Name < layers[j].Name })
	writeJSON(w, http.StatusOK, layerList{Layers: layers})
}

func (s *server) getLayer(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if !ValidLayerName(name) {
		invalidName(w, name)
		return
	}
	f, err := os.Open(s.layerPath(name)) // O_RDONLY: the volume is never written here
	if errors.Is(err, fs.ErrNotExist) {
		layerNotFound(w, name)
		return
	}
	if err != nil {
		s.log.Error("open layer", "name", name, "error", err)
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "cannot read layer"})
		return
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil || !info.Mode().IsRegular() {
		layerNotFound(w, name)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	http.ServeContent(w, r, "", info.ModTime(), f)
}

func (s *server) putLayer(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if !ValidLayerName(name) {
		invalidName(w, name)
		return
	}
	limit := s.cfg.MaxLayerBytes
	if r.ContentLength > limit {
		tooLarge(w, limit)
		return
	}
	// Buffer the whole (bounded) body so an oversize upload never reaches the core.
	var buf bytes.Buffer
	if r.ContentLength > 0 {
		buf.Grow(int(r.ContentLength))
	}
	if _, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, limit)); err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			tooLarge(w, limit)
			return
		}
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "cannot read request body", "detail": err.Error()})
		return
	}

	ctx, cancel := context.WithTimeout(telemetry.WithCoreRoute(r.Context(), "/layers/{name}"), coreWriteTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, s.cfg.CoreURL+"/layers/"+name, bytes.NewReader(buf.Bytes()))
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "cannot build core request"})
		return
	}
	req.Header.Set("Content-Type", "application/octet-stream")
	if len(buf.Bytes()) > 0 {
		req.Header.Set("Expect", "100-continue")
	}
	res, err := s.client.Do(req)
	if err != nil {
		s.log.Warn("core unreachable", "op", "put", "name", name, "error", err)
		writeJSON(w, http.StatusBadGateway, map[string]string{"error": "core unreachable", "detail": err.Error()})
		return
	}
	defer res.Body.Close()
	// Pass the core's answer (success or error) through unchanged.
	ct := res.Header.Get("Content-Type")
	if ct == "" {
		ct = "application/json"
	}
	w.Header().Set("Content-Type", ct)
	w.WriteHeader(res.StatusCode)
	_, _ = io.Copy(w, io.LimitReader(res.Body, maxCoreResponseBytes))
}

func methodNotAllowed(allow string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", allow)
		writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "method not allowed", "method": r.Method})
	})
}

func invalidName(w http.ResponseWriter, name string) {
	writeJSON(w, http.StatusBadRequest, map[string]string{
		"error": "invalid layer name", "name": name, "rule": layerName.String(),
	})
}

func layerNotFound(w http.ResponseWriter, name string) {
	writeJSON(w, http.StatusNotFound, map[string]string{"error": "layer not found", "name": name})
}

func tooLarge(w http.ResponseWriter, limit int64) {
	writeJSON(w, http.StatusRequestEntityTooLarge, map[string]any{"error": "layer too large", "limit": limit})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

package telemetry

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics is one server's Prometheus registry and instruments. Each server
// owns its own registry (not prometheus.DefaultRegisterer), so two servers in
// one process (tests) count apart. The jessy_* names and label names are the
// same as jessy-core's.
type Metrics struct {
	registry *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	core     *prometheus.HistogramVec
}

// NewMetrics registers the HTTP and core-call instruments, the layer gauges
// (read from layers on each scrape, see layers.go) and the Go runtime and
// process collectors on a fresh registry.
func NewMetrics(layers LayerStats) *Metrics {
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "jessy_http_requests_total",
			Help: "HTTP requests served, by route pattern, method and status code.",
		}, []string{"route", "method", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "jessy_http_request_duration_seconds",
			Help:    "Time to serve an HTTP request, by route pattern and method.",
			Buckets: prometheus.DefBuckets,
		}, []string{"route", "method"}),
		core: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "jessy_core_request_duration_seconds",
			Help: "Time of jessy-api's calls to jessy-core until the response headers, by core route pattern, " +
				"method and status code (\"error\" when no response came).",
			Buckets: prometheus.DefBuckets,
		}, []string{"route", "method", "status"}),
	}
	m.registry.MustRegister(
		m.requests, m.duration, m.core,
		newLayersCollector(layers),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return m
}

// Handler serves the registry in the Prometheus text (or negotiated) format.
// A collector that fails (an unreadable volume) is left out of the scrape
// instead of failing all of it.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}

// ObserveRequest counts one served request; route and method must already be
// label values (Route, Method).
func (m *Metrics) ObserveRequest(route, method string, status int, d time.Duration) {
	m.requests.WithLabelValues(route, method, strconv.Itoa(status)).Inc()
	m.duration.WithLabelValues(route, method).Observe(d.Seconds())
}

// ObserveCore records one call to jessy-core; status is the code, or "error".
func (m *Metrics) ObserveCore(route, method, status string, d time.Duration) {
	m.core.WithLabelValues(route, method, status).Observe(d.Seconds())
}

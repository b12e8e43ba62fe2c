package telemetry

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// Tracing picks the tracer provider and propagator of the HTTP
// instrumentation. Without a Provider (export off: SetupTracing returned nil)
// no span is made and otelhttp is left out entirely, so requests cost what
// they did before tracing; the propagator (nil: OpenTelemetry's global one,
// which SetupTracing sets) still carries an incoming trace context on to the
// logs and to jessy-core.
type Tracing struct {
	Provider   trace.TracerProvider
	Propagator propagation.TextMapPropagator
}

func (t Tracing) propagator() propagation.TextMapPropagator {
	if t.Propagator != nil {
		return t.Propagator
	}
	return otel.GetTextMapPropagator() // forwards to whatever is set later
}

func (t Tracing) options() []otelhttp.Option {
	return []otelhttp.Option{
		otelhttp.WithTracerProvider(t.Provider),
		otelhttp.WithPropagators(t.propagator()),
		otelhttp.WithMeterProvider(noop.NewMeterProvider()), // metrics are Prometheus' (metrics.go)
	}
}

// Handler wraps next with a server span per request (otelhttp), continuing
// the trace of an incoming traceparent. After routing the span is renamed
// "METHOD /route" from r.Pattern (e.g. "GET /api/layers/{name}"; just the
// method when unmatched): the ServeMux inside must receive the very
// *http.Request passed to next (no r.WithContext in between), since it sets
// Pattern on it. Scrapes of /metrics make no spans. Without a Provider it only
// extracts the incoming trace context.
func (t Tracing) Handler(next http.Handler) http.Handler {
	if t.Provider == nil {
		return extractOnly{next: next, prop: t.propagator()}
	}
	opts := append(t.options(),
		otelhttp.WithSpanNameFormatter(serverSpanName),
		otelhttp.WithFilter(func(r *http.Request) bool { return r.URL.Path != "/metrics" }),
	)
	return otelhttp.NewHandler(next, "jessy-api", opts...)
}

func serverSpanName(_ string, r *http.Request) string {
	method := Method(r.Method)
	if route := Route(r.Pattern); route != Unmatched {
		return method + " " + route
	}
	return method
}

// Transport wraps base for the calls to jessy-core: jessy_core_request_duration_seconds
// observed in m, the traceparent (and baggage) headers injected, and with a
// Provider a client span per call (otelhttp) named "METHOD /core/route".
// Callers name the core route pattern of each request with WithCoreRoute.
func (t Tracing) Transport(base http.RoundTripper, m *Metrics) http.RoundTripper {
	timed := &coreTimer{base: base, metrics: m}
	if t.Provider == nil {
		return injectOnly{base: timed, prop: t.propagator()}
	}
	opts := append(t.options(), otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string {
		return Method(r.Method) + " " + CoreRoute(r.Context())
	}))
	return otelhttp.NewTransport(timed, opts...)
}

// extractOnly puts an incoming trace context (and baggage) into the request's
// context; a request without one passes through untouched.
type extractOnly struct {
	next http.Handler
	prop propagation.TextMapPropagator
}

func (e extractOnly) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if ctx := e.prop.Extract(r.Context(), propagation.HeaderCarrier(r.Header)); ctx != r.Context() {
		r = r.WithContext(ctx)
	}
	e.next.ServeHTTP(w, r)
}

// injectOnly writes the trace context of a request's context into its
// headers (on a copy of the request, as a RoundTripper must not change it).
type injectOnly struct {
	base http.RoundTripper
	prop propagation.TextMapPropagator
}

func (i injectOnly) RoundTrip(r *http.Request) (*http.Response, error) {
	ctx := r.Context()
	if trace.SpanContextFromContext(ctx).IsValid() || baggage.FromContext(ctx).Len() > 0 {
		r = r.Clone(ctx)
		i.prop.Inject(ctx, propagation.HeaderCarrier(r.Header))
	}
	return i.base.RoundTrip(r)
}

type coreRouteKey struct{}

// WithCoreRoute names the jessy-core route pattern (e.g. "/layers/{name}") of
// the requests made with ctx, for the span name and the route label.
func WithCoreRoute(ctx context.Context, pattern string) context.Context {
	return context.WithValue(ctx, coreRouteKey{}, pattern)
}

// CoreRoute is the pattern set by WithCoreRoute, or Unmatched.
func CoreRoute(ctx context.Context) string {
	if p, ok := ctx.Value(coreRouteKey{}).(string); ok && p != "" {
		return p
	}
	return Unmatched
}

// coreTimer times a round trip to jessy-core until its response headers.
type coreTimer struct {
	base    http.RoundTripper
	metrics *Metrics
}

func (c *coreTimer) RoundTrip(r *http.Request) (*http.Response, error) {
	start := time.Now()
	res, err := c.base.RoundTrip(r)
	status := "error"
	if err == nil {
		status = strconv.Itoa(res.StatusCode)
	}
	c.metrics.ObserveCore(CoreRoute(r.Context()), Method(r.Method), status, time.Since(start))
	return res, err
}

// Package telemetry holds jessy-api's Prometheus metrics and OpenTelemetry
// tracing: the registry and its collectors (metrics.go, layers.go), the
// bounded label values (route.go), the tracer provider set up from the
// standard OTEL_* environment (tracing.go) and the instrumented server
// handler and core client (http.go).
package telemetry

import (
	"net/http"
	"strings"
)

// Unmatched is the route label of a request that no specific pattern
// matched: ServeMux's catch-all "/" or no pattern at all.
const Unmatched = "unmatched"

// OtherMethod is the method label of any method outside the standard set (as
// jessy-core labels it), so a client cannot grow the label set with made-up
// methods.
const OtherMethod = "other"

// Route turns a ServeMux pattern (r.Pattern, e.g. "GET /api/layers/{name}")
// into the route label: the path part only ("/api/layers/{name}"), as
// jessy-core labels its routes. Never the raw path, so the label set is the
// set of registered patterns plus Unmatched.
func Route(pattern string) string {
	if _, path, ok := strings.Cut(pattern, " "); ok { // "[METHOD ][HOST]/PATH"
		pattern = strings.TrimLeft(path, " \t")
	}
	if i := strings.IndexByte(pattern, '/'); i > 0 { // a host part
		pattern = pattern[i:]
	}
	if pattern == "" || pattern == "/" {
		return Unmatched
	}
	return pattern
}

// Method is the method label: the standard methods as they are, anything else OtherMethod.
func Method(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return m
	}
	return OtherMethod
}

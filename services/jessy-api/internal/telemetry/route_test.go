package telemetry

import "testing"

func TestRoute(t *testing.T) {
	for pattern, want := range map[string]string{
		"GET /api/layers/{name}":    "/api/layers/{name}",
		"/api/layers/{name}":        "/api/layers/{name}",
		"PUT  /api/layers/{name}":   "/api/layers/{name}",
		"GET example.com/api/x":     "/api/x",
		"example.com/api/{rest...}": "/api/{rest...}",
		"GET /":                     Unmatched,
		"/":                         Unmatched,
		"":                          Unmatched,
	} {
		if got := Route(pattern); got != want {
			t.Errorf("Route(%q) = %q, want %q", pattern, got, want)
		}
	}
}

func TestMethod(t *testing.T) {
	for _, m := range []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE"} {
		if Method(m) != m {
			t.Errorf("Method(%q) = %q", m, Method(m))
		}
	}
	for _, m := range []string{"get", "BREW", "", "PROPFIND"} {
		if Method(m) != OtherMethod {
			t.Errorf("Method(%q) = %q, want %q", m, Method(m), OtherMethod)
		}
	}
}

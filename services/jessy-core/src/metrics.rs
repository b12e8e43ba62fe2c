//! Prometheus metrics, served as text by `GET /metrics`.
//!
//! Each router owns its own [`Metrics`] (its own registry, not the process-wide default one), so
//! tests and several routers in one process never share counters. Label values are bounded: the
//! route is the router's pattern (`/layers/{name}`) or [`UNMATCHED`], the method one of a fixed
//! set or `other`, the status a number.

use crate::storage::Store;
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, Opts, Registry, TextEncoder,
};
use std::sync::Mutex;

/// The `route` label of requests that matched no route (404 fallback).
pub const UNMATCHED: &str = "unmatched";

/// Content type of the Prometheus text exposition format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The service's metric families and the registry they are exposed from.
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    duration: HistogramVec,
    layers: IntGauge,
    layer_bytes: IntGauge,
    /// Serializes store scans, so a slower scan never overwrites the gauges with older figures.
    scan: Mutex<()>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let requests = IntCounterVec::new(
            Opts::new("jessy_http_requests_total", "HTTP requests served."),
            &["route", "method", "status"],
        )
        .expect("valid counter");
        let duration = HistogramVec::new(
            HistogramOpts::new(
                "jessy_http_request_duration_seconds",
                "Time to produce the response, in seconds.",
            ),
            &["route", "method"],
        )
        .expect("valid histogram");
        let layers = IntGauge::new("jessy_layers", "Layers stored.").expect("valid gauge");
        let layer_bytes =
            IntGauge::new("jessy_layer_bytes", "Bytes of layer data stored.").expect("valid gauge");
        let registry = Registry::new();
        for collector in [
            Box::new(requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(duration.clone()),
            Box::new(layers.clone()),
            Box::new(layer_bytes.clone()),
        ] {
            registry.register(collector).expect("unique metric names");
        }
        Metrics {
            registry,
            requests,
            duration,
            layers,
            layer_bytes,
            scan: Mutex::new(()),
        }
    }

    /// Counts one finished request. `route` must already be a pattern or [`UNMATCHED`].
    pub fn observe_request(&self, route: &str, method: &str, status: u16, seconds: f64) {
        let method = method_label(method);
        self.requests
            .with_label_values(&[route, method, &status.to_string()])
            .inc();
        self.duration
            .with_label_values(&[route, method])
            .observe(seconds);
    }

    /// Sets the storage gauges from a scan of the volume (both 0 when it is unavailable).
    /// Called at start and after every write and delete; blocking (it reads the layers folder).
    pub fn refresh_store(&self, store: &Store) {
        let _guard = self.scan.lock().unwrap_or_else(|e| e.into_inner());
        let (count, bytes) = store
            .list_layers()
            .map(|layers| (layers.len(), layers.iter().map(|l| l.size).sum::<u64>()))
            .unwrap_or((0, 0));
        self.layers.set(i64::try_from(count).unwrap_or(i64::MAX));
        self.layer_bytes
            .set(i64::try_from(bytes).unwrap_or(i64::MAX));
    }

    /// All metrics in the Prometheus text format.
    pub fn render(&self) -> String {
        let mut out = Vec::new();
        TextEncoder::new()
            .encode(&self.registry.gather(), &mut out)
            .expect("text encoding to memory");
        String::from_utf8(out).expect("the text format is UTF-8")
    }
}

/// The `method` label: standard methods as themselves, anything else as `other`.
pub fn method_label(method: &str) -> &'static str {
    match method {
        "GET" => "GET",
        "HEAD" => "HEAD",
        "PUT" => "PUT",
        "POST" => "POST",
        "DELETE" => "DELETE",
        "PATCH" => "PATCH",
        "OPTIONS" => "OPTIONS",
        "CONNECT" => "CONNECT",
        "TRACE" => "TRACE",
        _ => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_the_four_families() {
        let m = Metrics::new();
        m.observe_request("/layers/{name}", "GET", 200, 0.01);
        m.observe_request("/layers/{name}", "BREW", 418, 0.01);
        let text = m.render();
        assert!(text.contains(
            r#"jessy_http_requests_total{method="GET",route="/layers/{name}",status="200"} 1"#
        ));
        assert!(text.contains(r#"method="other""#), "{text}");
        assert!(text.contains("# TYPE jessy_http_request_duration_seconds histogram"));
        assert!(text.contains("# TYPE jessy_layers gauge\njessy_layers 0"));
        assert!(text.contains("# TYPE jessy_layer_bytes gauge\njessy_layer_bytes 0"));
    }

    #[test]
    fn refresh_counts_layers_and_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path());
        store.ensure_layout().unwrap();
        store.write_layer("a", b"12345").unwrap();
        store.write_layer("b", b"xyz").unwrap();
        let m = Metrics::new();
        m.refresh_store(&store);
        assert_eq!((m.layers.get(), m.layer_bytes.get()), (2, 8));
        m.refresh_store(&Store::new(dir.path().join("missing")));
        assert_eq!((m.layers.get(), m.layer_bytes.get()), (0, 0));
    }
}

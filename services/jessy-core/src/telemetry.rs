//! OpenTelemetry traces: one server span per request, exported over OTLP/HTTP (protobuf) only when
//! `OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is set.
//!
//! Without an endpoint nothing is installed: no exporter, no tracing subscriber, so the request
//! spans are disabled callsites and cost next to nothing. With one, a batch span processor (which
//! reads the standard `OTEL_BSP_*` variables, e.g. `OTEL_BSP_SCHEDULE_DELAY`) posts to
//! `<endpoint>/v1/traces`; [`Telemetry::shutdown`] flushes it. The caller's W3C `traceparent` is
//! honoured either way, so the request log can carry the caller's trace id.

mod http_client;

use crate::config::setting;
use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::{TraceContextExt, TracerProvider as _};
use opentelemetry::{Context, KeyValue};
use opentelemetry_otlp::{Protocol, WithExportConfig, WithHttpConfig};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use opentelemetry_sdk::Resource;
use std::time::Duration;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::Layer;

pub use http_client::TokioHttpClient;

pub const DEFAULT_SERVICE_NAME: &str = "jessy-core";
/// The OTLP exporter's request timeout when `OTEL_EXPORTER_OTLP_TIMEOUT` is unset (the spec's 10 s).
pub const DEFAULT_EXPORT_TIMEOUT: Duration = Duration::from_secs(10);
/// Only spans whose target starts with this are exported (the service's own, not its dependencies').
const SPAN_TARGET_PREFIX: &str = "jessy_core";

/// Tracing configuration from the standard OpenTelemetry environment variables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TelemetryConfig {
    /// Where spans are POSTed: `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` as is, else
    /// `OTEL_EXPORTER_OTLP_ENDPOINT` + `/v1/traces`. `None`: tracing is off.
    pub traces_endpoint: Option<String>,
    /// `OTEL_SERVICE_NAME` (default `jessy-core`).
    pub service_name: String,
    /// `OTEL_EXPORTER_OTLP_TIMEOUT` in milliseconds (default 10 s; malformed values are ignored).
    pub export_timeout: Duration,
}

impl TelemetryConfig {
    pub fn from_env() -> TelemetryConfig {
        TelemetryConfig::from_lookup(|key| std::env::var(key).ok())
    }

    /// Builds the configuration from any key lookup (used by tests). Unset or empty means default.
    pub fn from_lookup<F>(lookup: F) -> TelemetryConfig
    where
        F: Fn(&str) -> Option<String>,
    {
        let get = |key: &str| setting(&lookup, key);
        let disabled = get("OTEL_SDK_DISABLED").is_some_and(|v| v.eq_ignore_ascii_case("true"));
        let traces_endpoint = get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT").or_else(|| {
            get("OTEL_EXPORTER_OTLP_ENDPOINT")
                .map(|base| format!("{}/v1/traces", base.trim_end_matches('/')))
        });
        TelemetryConfig {
            traces_endpoint: traces_endpoint.filter(|_| !disabled),
            service_name: get("OTEL_SERVICE_NAME")
                .unwrap_or_else(|| DEFAULT_SERVICE_NAME.to_string()),
            export_timeout: get("OTEL_EXPORTER_OTLP_TIMEOUT")
                .and_then(|v| v.parse().ok())
                .map(Duration::from_millis)
                .unwrap_or(DEFAULT_EXPORT_TIMEOUT),
        }
    }
}

/// Builds the tracer provider with its OTLP exporter, or `None` when no endpoint is configured.
/// `runtime` drives the exporter's HTTP requests (the batch processor runs on its own thread).
pub fn build_provider(
    config: &TelemetryConfig,
    runtime: tokio::runtime::Handle,
) -> Result<Option<SdkTracerProvider>, String> {
    let Some(endpoint) = &config.traces_endpoint else {
        return Ok(None);
    };
    if !endpoint.starts_with("http://") {
        // The exporter speaks plain HTTP only (no TLS stack in the build): refuse at start rather
        // than drop every batch later.
        return Err(format!(
            "OTLP endpoint {endpoint:?}: only http:// is supported (send to a local collector)"
        ));
    }
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpBinary)
        .with_endpoint(endpoint.clone())
        .with_timeout(config.export_timeout)
        .with_http_client(TokioHttpClient::new(runtime, config.export_timeout))
        .build()
        .map_err(|e| format!("cannot set up the OTLP trace exporter for {endpoint}: {e}"))?;
    let resource = Resource::builder()
        .with_service_name(config.service_name.clone())
        .with_attribute(KeyValue::new("service.version", env!("CARGO_PKG_VERSION")))
        .build();
    Ok(Some(
        SdkTracerProvider::builder()
            .with_resource(resource)
            .with_batch_exporter(exporter)
            .build(),
    ))
}

/// A subscriber that turns the service's spans into OpenTelemetry spans of `provider`.
pub fn subscriber(provider: &SdkTracerProvider) -> impl tracing::Subscriber + Send + Sync {
    let layer = tracing_opentelemetry::layer()
        .with_tracer(provider.tracer(DEFAULT_SERVICE_NAME))
        .with_filter(tracing_subscriber::filter::filter_fn(|meta| {
            meta.target().starts_with(SPAN_TARGET_PREFIX)
        }));
    tracing_subscriber::registry().with(layer)
}

/// The installed tracing pipeline; keep it until the server has stopped, then [`Telemetry::shutdown`].
pub struct Telemetry {
    provider: Option<SdkTracerProvider>,
}

impl Telemetry {
    /// Installs the exporter and the global subscriber when an endpoint is configured; otherwise
    /// installs nothing.
    pub fn init(
        config: &TelemetryConfig,
        runtime: tokio::runtime::Handle,
    ) -> Result<Telemetry, String> {
        let provider = build_provider(config, runtime)?;
        if let Some(provider) = &provider {
            tracing::subscriber::set_global_default(subscriber(provider))
                .map_err(|e| format!("cannot install the trace subscriber: {e}"))?;
        }
        Ok(Telemetry { provider })
    }

    /// Whether spans are exported.
    pub fn is_exporting(&self) -> bool {
        self.provider.is_some()
    }

    /// Exports the spans still buffered and stops the exporter. Blocks: call it outside the async
    /// runtime's workers, while the runtime is still alive (it drives the last export).
    pub fn shutdown(self) -> Result<(), String> {
        match self.provider {
            Some(provider) => provider
                .shutdown()
                .map_err(|e| format!("flushing traces failed: {e}")),
            None => Ok(()),
        }
    }
}

/// The caller's trace context from a W3C `traceparent` (and `tracestate`) header, if any.
pub fn extract_parent(headers: &axum::http::HeaderMap) -> Context {
    TraceContextPropagator::new().extract(&opentelemetry_http::HeaderExtractor(headers))
}

/// The server span of one request, named `<METHOD> <route pattern>`, child of `parent`.
/// A disabled no-op span when no subscriber is installed.
pub fn server_span(method: &str, route: &str, path: &str, parent: &Context) -> tracing::Span {
    let span = tracing::info_span!(
        target: "jessy_core::http",
        "request",
        otel.name = %format_args!("{method} {route}"),
        otel.kind = "server",
        otel.status_code = tracing::field::Empty,
        http.request.method = %method,
        http.route = %route,
        url.path = %path,
        http.response.status_code = tracing::field::Empty,
    );
    if !span.is_disabled() && parent.span().span_context().is_valid() {
        let _ = span.set_parent(parent.clone());
    }
    span
}

/// Records the response status on a server span (5xx marks it as an error, as the conventions say).
pub fn record_status(span: &tracing::Span, status: u16) {
    span.record("http.response.status_code", i64::from(status)); // i64: exported as an int attribute
    if status >= 500 {
        span.record("otel.status_code", "error");
    }
}

/// The trace id to log: the span's when it is exported, else the caller's, else none.
pub fn trace_id(span: &tracing::Span, parent: &Context) -> Option<String> {
    [span.context(), parent.clone()].iter().find_map(|cx| {
        let sc = cx.span().span_context().clone();
        sc.is_valid().then(|| sc.trace_id().to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::lookup_in;

    fn cfg(pairs: &[(&str, &str)]) -> TelemetryConfig {
        TelemetryConfig::from_lookup(lookup_in(pairs))
    }

    #[test]
    fn without_an_endpoint_no_exporter_is_built() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        for config in [
            cfg(&[]),
            cfg(&[("OTEL_EXPORTER_OTLP_ENDPOINT", " ")]),
            cfg(&[
                ("OTEL_SERVICE_NAME", "x"),
                ("OTEL_BSP_SCHEDULE_DELAY", "100"),
            ]),
        ] {
            assert_eq!(config.traces_endpoint, None);
            assert!(build_provider(&config, rt.handle().clone())
                .unwrap()
                .is_none());
            let telemetry = Telemetry::init(&config, rt.handle().clone()).unwrap();
            assert!(!telemetry.is_exporting());
            telemetry.shutdown().unwrap();
        }
    }

    #[test]
    fn endpoint_and_names_follow_the_standard_variables() {
        let c = cfg(&[]);
        assert_eq!(c.service_name, "jessy-core");
        assert_eq!(c.export_timeout, Duration::from_secs(10));
        let c = cfg(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318/"),
            ("OTEL_SERVICE_NAME", "core-a"),
            ("OTEL_EXPORTER_OTLP_TIMEOUT", "2500"),
        ]);
        assert_eq!(
            c.traces_endpoint.as_deref(),
            Some("http://127.0.0.1:4318/v1/traces")
        );
        assert_eq!(c.service_name, "core-a");
        assert_eq!(c.export_timeout, Duration::from_millis(2500));
        let c = cfg(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://a:4318"),
            ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://b:4318/custom"),
        ]);
        assert_eq!(c.traces_endpoint.as_deref(), Some("http://b:4318/custom"));
        let c = cfg(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://a:4318"),
            ("OTEL_SDK_DISABLED", "true"),
        ]);
        assert_eq!(c.traces_endpoint, None);
    }

    #[test]
    fn with_an_endpoint_a_provider_is_built() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let config = cfg(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:9")]);
        let provider = build_provider(&config, rt.handle().clone())
            .unwrap()
            .expect("a provider");
        drop(provider);
        let config = cfg(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "https://collector:4318")]);
        let err = build_provider(&config, rt.handle().clone()).unwrap_err();
        assert!(err.contains("only http://"), "{err}");
    }

    #[test]
    fn trace_id_comes_from_the_callers_traceparent() {
        let mut headers = axum::http::HeaderMap::new();
        assert_eq!(
            trace_id(&tracing::Span::none(), &extract_parent(&headers)),
            None
        );
        headers.insert(
            "traceparent",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
                .parse()
                .unwrap(),
        );
        assert_eq!(
            trace_id(&tracing::Span::none(), &extract_parent(&headers)).as_deref(),
            Some("4bf92f3577b34da6a3ce929d0e0e4736")
        );
    }
}

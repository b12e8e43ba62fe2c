//! Request spans through an in-memory exporter: the caller's `traceparent` makes the service's
//! server span its child.

use axum::body::Body;
use axum::http::Request;
use jessy_core::server::router;
use jessy_core::{telemetry, Store};
use opentelemetry::trace::{SpanId, SpanKind, TraceId};
use opentelemetry::Value;
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};
use tower::ServiceExt;

const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const PARENT_ID: &str = "00f067aa0ba902b7";

fn attribute(span: &SpanData, key: &str) -> Option<Value> {
    span.attributes
        .iter()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| kv.value.clone())
}

#[tokio::test]
async fn server_span_continues_the_callers_trace() {
    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exporter.clone())
        .build();
    let _subscriber = tracing::subscriber::set_default(telemetry::subscriber(&provider));
    let dir = tempfile::tempdir().unwrap();
    let app = router(Store::new(dir.path()), 1024);

    let request = Request::get("/layers/missing")
        .header("traceparent", format!("00-{TRACE_ID}-{PARENT_ID}-01"))
        .body(Body::empty())
        .unwrap();
    assert_eq!(app.clone().oneshot(request).await.unwrap().status(), 404);
    let request = Request::get("/health").body(Body::empty()).unwrap();
    app.oneshot(request).await.unwrap();
    provider.force_flush().unwrap();

    let spans = exporter.get_finished_spans().unwrap();
    let names: Vec<_> = spans.iter().map(|s| s.name.to_string()).collect();
    assert_eq!(names, ["GET /layers/{name}", "GET /health"], "{spans:#?}");

    let child = &spans[0];
    assert_eq!(child.span_kind, SpanKind::Server);
    assert_eq!(
        child.span_context.trace_id(),
        TraceId::from_hex(TRACE_ID).unwrap()
    );
    assert_eq!(child.parent_span_id, SpanId::from_hex(PARENT_ID).unwrap());
    assert!(child.parent_span_is_remote);
    assert_eq!(
        attribute(child, "http.request.method"),
        Some(Value::from("GET"))
    );
    assert_eq!(
        attribute(child, "http.route"),
        Some(Value::from("/layers/{name}"))
    );
    assert_eq!(
        attribute(child, "http.response.status_code"),
        Some(Value::I64(404))
    );

    // Without a traceparent: a new trace, a root span.
    let root = &spans[1];
    assert_ne!(
        root.span_context.trace_id(),
        TraceId::from_hex(TRACE_ID).unwrap()
    );
    assert_eq!(root.parent_span_id, SpanId::INVALID);
}

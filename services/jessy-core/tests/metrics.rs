//! `GET /metrics` through the router in process (each router has its own registry).

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use jessy_core::server::router;
use jessy_core::Store;
use tower::ServiceExt;

async fn send(app: &Router, method: &str, uri: &str, body: &[u8]) -> (StatusCode, String, String) {
    let request = Request::builder()
        .method(method)
        .uri(uri)
        .body(Body::from(body.to_vec()))
        .unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    (
        status,
        content_type,
        String::from_utf8_lossy(&body).to_string(),
    )
}

/// The value of the one sample line `series` (name with its labels, as the text format prints it).
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .map(|v| v.parse().unwrap())
}

fn volume() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::new(dir.path());
    store.ensure_layout().unwrap();
    (dir, store)
}

#[tokio::test]
async fn requests_are_counted_by_route_pattern() {
    let (_dir, store) = volume();
    let app = router(store, 1024);
    for name in ["alpha", "beta"] {
        assert_eq!(
            send(&app, "PUT", &format!("/layers/{name}"), b"x").await.0,
            201
        );
        assert_eq!(
            send(&app, "GET", &format!("/layers/{name}"), b"").await.0,
            200
        );
    }
    assert_eq!(send(&app, "GET", "/layers/gamma", b"").await.0, 404);
    assert_eq!(send(&app, "GET", "/no/such/path", b"").await.0, 404);
    assert_eq!(send(&app, "POST", "/layers/alpha", b"").await.0, 405);

    let (status, content_type, text) = send(&app, "GET", "/metrics", b"").await;
    assert_eq!(status, 200);
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    assert!(
        text.contains("# TYPE jessy_http_requests_total counter"),
        "{text}"
    );
    assert!(text.contains("# TYPE jessy_http_request_duration_seconds histogram"));

    // Two ids, one series.
    let get_ok = r#"jessy_http_requests_total{method="GET",route="/layers/{name}",status="200"}"#;
    assert_eq!(sample(&text, get_ok), Some(2.0), "{text}");
    assert_eq!(
        text.matches(r#"route="/layers/{name}",status="200""#)
            .count(),
        1,
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            r#"jessy_http_requests_total{method="PUT",route="/layers/{name}",status="201"}"#
        ),
        Some(2.0)
    );
    assert_eq!(
        sample(
            &text,
            r#"jessy_http_requests_total{method="GET",route="/layers/{name}",status="404"}"#
        ),
        Some(1.0)
    );
    assert_eq!(
        sample(
            &text,
            r#"jessy_http_requests_total{method="POST",route="/layers/{name}",status="405"}"#
        ),
        Some(1.0)
    );
    assert_eq!(
        sample(
            &text,
            r#"jessy_http_requests_total{method="GET",route="unmatched",status="404"}"#
        ),
        Some(1.0)
    );
    assert_eq!(
        sample(
            &text,
            r#"jessy_http_request_duration_seconds_count{method="GET",route="/layers/{name}"}"#
        ),
        Some(3.0)
    );

    // A raw path never becomes a label value.
    for raw in ["alpha", "beta", "gamma", "/no/such/path"] {
        assert!(!text.contains(raw), "{raw:?} leaked into a label:\n{text}");
    }

    // The scrape itself is counted from the next one on.
    let (_, _, text) = send(&app, "GET", "/metrics", b"").await;
    assert_eq!(
        sample(
            &text,
            r#"jessy_http_requests_total{method="GET",route="/metrics",status="200"}"#
        ),
        Some(1.0)
    );
}

#[tokio::test]
async fn storage_gauges_follow_the_volume() {
    let (_dir, store) = volume();
    store.write_layer("existing", b"abc").unwrap();
    let app = router(store, 1024);
    let gauges = |text: &str| {
        (
            sample(text, "jessy_layers"),
            sample(text, "jessy_layer_bytes"),
        )
    };

    let (_, _, text) = send(&app, "GET", "/metrics", b"").await;
    assert_eq!(
        gauges(&text),
        (Some(1.0), Some(3.0)),
        "layers on the volume at start"
    );

    assert_eq!(send(&app, "PUT", "/layers/new", b"12345").await.0, 201);
    let (_, _, text) = send(&app, "GET", "/metrics", b"").await;
    assert_eq!(gauges(&text), (Some(2.0), Some(8.0)));

    assert_eq!(send(&app, "PUT", "/layers/new", b"1").await.0, 200);
    let (_, _, text) = send(&app, "GET", "/metrics", b"").await;
    assert_eq!(
        gauges(&text),
        (Some(2.0), Some(4.0)),
        "a replaced layer counts once"
    );

    assert_eq!(send(&app, "DELETE", "/layers/existing", b"").await.0, 204);
    let (_, _, text) = send(&app, "GET", "/metrics", b"").await;
    assert_eq!(gauges(&text), (Some(1.0), Some(1.0)));

    // A refused write changes nothing.
    assert_eq!(send(&app, "PUT", "/layers/big", &[0u8; 2048]).await.0, 413);
    let (_, _, text) = send(&app, "GET", "/metrics", b"").await;
    assert_eq!(gauges(&text), (Some(1.0), Some(1.0)));
}

#[tokio::test]
async fn each_router_has_its_own_registry() {
    let (_dir, store) = volume();
    let first = router(store.clone(), 1024);
    let second = router(store, 1024);
    send(&first, "GET", "/health", b"").await;
    let (_, _, text) = send(&second, "GET", "/metrics", b"").await;
    assert!(!text.contains(r#"route="/health""#), "{text}");
}

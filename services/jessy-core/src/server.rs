//! HTTP API: health, layer and metrics endpoints; per request a metric sample, a trace span and a
//! JSON log line; graceful shutdown.

use crate::config::Config;
use crate::log_json;
use crate::metrics::{self, Metrics};
use crate::storage::{Store, StoreError};
use crate::telemetry;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{DefaultBodyLimit, MatchedPath, Path, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Instant;
use tracing::Instrument;

pub const SERVICE: &str = "jessy-core";
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

#[derive(Clone)]
struct AppState {
    store: Store,
    max_layer_bytes: usize,
    metrics: Arc<Metrics>,
}

/// A JSON error response: `{"error": ..., "detail": ...}`.
pub struct ApiError {
    status: StatusCode,
    error: &'static str,
    detail: Option<String>,
}

impl ApiError {
    fn new(status: StatusCode, error: &'static str, detail: impl Into<Option<String>>) -> Self {
        ApiError {
            status,
            error,
            detail: detail.into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = json!({ "error": self.error });
        if let Some(detail) = self.detail {
            body["detail"] = Value::String(detail);
        }
        (self.status, Json(body)).into_response()
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::InvalidName(d) => {
                ApiError::new(StatusCode::BAD_REQUEST, "invalid layer name", d)
            }
            StoreError::Unavailable => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "data volume unavailable",
                None,
            ),
            StoreError::Io(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::PermissionDenied | std::io::ErrorKind::ReadOnlyFilesystem
                ) =>
            {
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "data volume unavailable",
                    e.to_string(),
                )
            }
            StoreError::Io(e) => ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "storage error",
                e.to_string(),
            ),
        }
    }
}

/// Builds the router for a store, with its own metrics registry; the storage gauges start from
/// the layers already on the volume.
pub fn router(store: Store, max_layer_bytes: usize) -> Router {
    let metrics = Arc::new(Metrics::new());
    metrics.refresh_store(&store);
    let state = AppState {
        store,
        max_layer_bytes,
        metrics,
    };
    Router::new()
        .route("/health", get(health))
        .route("/metrics", get(render_metrics))
        .route("/layers", get(list_layers))
        .route(
            "/layers/{name}",
            get(get_layer).put(put_layer).delete(delete_layer),
        )
        .fallback(|| async { ApiError::new(StatusCode::NOT_FOUND, "not found", None) })
        .method_not_allowed_fallback(|| async {
            ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "method not allowed", None)
        })
        .layer(DefaultBodyLimit::max(max_layer_bytes))
        .layer(middleware::from_fn_with_state(state.clone(), observe))
        .with_state(state)
}

/// Wraps every request (routes and fallbacks): a server span child of the caller's `traceparent`,
/// a sample in the request metrics, and one JSON log line with the trace id when there is one.
/// Metrics and spans name the route by its pattern (`/layers/{name}`), never by the raw path.
async fn observe(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or(metrics::UNMATCHED, |m| m.as_str())
        .to_string();
    let parent = telemetry::extract_parent(req.headers());
    let span = telemetry::server_span(method.as_str(), &route, &path, &parent);
    let response = next.run(req).instrument(span.clone()).await;
    let status = response.status().as_u16();
    telemetry::record_status(&span, status);
    let trace_id = telemetry::trace_id(&span, &parent);
    drop(span);
    let elapsed = start.elapsed().as_secs_f64();
    state
        .metrics
        .observe_request(&route, method.as_str(), status, elapsed);
    let ms = elapsed * 1000.0;
    let mut line = json!({
        "msg": "request",
        "method": method.as_str(),
        "route": route,
        "path": path,
        "status": status,
        "duration_ms": (ms * 1000.0).round() / 1000.0,
    });
    if let Some(trace_id) = trace_id {
        line["trace_id"] = json!(trace_id);
    }
    log_json(line);
    response
}

async fn render_metrics(State(state): State<AppState>) -> Response {
    (
        [(header::CONTENT_TYPE, metrics::CONTENT_TYPE)],
        state.metrics.render(),
    )
        .into_response()
}

/// Runs a blocking storage call off the async runtime.
async fn blocking<T, F>(f: F) -> Result<T, ApiError>
where
    F: FnOnce() -> Result<T, StoreError> + Send + 'static,
    T: Send + 'static,
{
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| {
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal error",
                e.to_string(),
            )
        })?
        .map_err(ApiError::from)
}

async fn health(State(state): State<AppState>) -> Response {
    let store = state.store.clone();
    let (probe, layers) = tokio::task::spawn_blocking(move || (store.probe(), store.layer_count()))
        .await
        .unwrap_or_else(|e| (Err(format!("health check failed: {e}")), 0));
    let mut body = json!({
        "status": "ok",
        "service": SERVICE,
        "version": VERSION,
        "layers": layers,
    });
    match probe {
        Ok(()) => (StatusCode::OK, Json(body)).into_response(),
        Err(reason) => {
            body["status"] = json!("degraded");
            body["reason"] = json!(reason);
            (StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response()
        }
    }
}

fn layer_name(path: Result<Path<String>, PathRejection>) -> Result<String, ApiError> {
    let Path(name) = path
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "invalid layer name", e.body_text()))?;
    crate::storage::validate_name(&name)
        .map_err(|d| ApiError::new(StatusCode::BAD_REQUEST, "invalid layer name", d))?;
    Ok(name)
}

async fn list_layers(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let layers = blocking(move || state.store.list_layers()).await?;
    Ok(Json(json!({ "layers": layers })))
}

async fn get_layer(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let name = layer_name(path)?;
    let lookup = name.clone();
    match blocking(move || state.store.read_layer(&lookup)).await? {
        Some(bytes) => {
            Ok(([(header::CONTENT_TYPE, "application/octet-stream")], bytes).into_response())
        }
        None => Err(not_found(&name)),
    }
}

async fn put_layer(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let name = layer_name(path)?;
    let limit = state.max_layer_bytes;
    let body = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "layer too large",
                format!("layer body exceeds JESSY_MAX_LAYER_BYTES ({limit} bytes)"),
            )
        } else {
            ApiError::new(e.status(), "invalid request body", e.body_text())
        }
    })?;
    let size = body.len();
    let target = name.clone();
    let created = blocking(move || {
        let created = state.store.write_layer(&target, &body)?;
        state.metrics.refresh_store(&state.store);
        Ok(created)
    })
    .await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(json!({ "name": name, "size": size }))).into_response())
}

async fn delete_layer(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
) -> Result<StatusCode, ApiError> {
    let name = layer_name(path)?;
    let target = name.clone();
    let deleted = blocking(move || {
        let deleted = state.store.delete_layer(&target)?;
        if deleted {
            state.metrics.refresh_store(&state.store);
        }
        Ok(deleted)
    })
    .await?;
    if deleted {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(not_found(&name))
    }
}

fn not_found(name: &str) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "layer not found",
        format!("no layer named {name:?}"),
    )
}

/// Prepares the volume and serves until SIGTERM or SIGINT.
pub async fn run(config: Config) -> std::io::Result<()> {
    let store = Store::new(&config.data_dir);
    match store.ensure_layout().and_then(|()| store.clean_tmp()) {
        Ok(removed) => {
            if removed > 0 {
                log_json(json!({"msg": "removed stale temp files", "count": removed}));
            }
        }
        Err(e) => log_json(json!({
            "level": "warn",
            "msg": "data volume not ready",
            "data_dir": config.data_dir.display().to_string(),
            "error": e.to_string(),
        })),
    }
    let listener = tokio::net::TcpListener::bind((config.bind_host, config.port)).await?;
    log_json(json!({
        "msg": "starting",
        "service": SERVICE,
        "version": VERSION,
        "addr": listener.local_addr()?.to_string(),
        "data_dir": config.data_dir.display().to_string(),
        "max_layer_bytes": config.max_layer_bytes,
    }));
    axum::serve(listener, router(store, config.max_layer_bytes))
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    log_json(json!({"msg": "stopped", "service": SERVICE}));
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut sig) => {
                sig.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    let signal = tokio::select! {
        _ = ctrl_c => "SIGINT",
        _ = terminate => "SIGTERM",
    };
    log_json(json!({"msg": "shutting down", "signal": signal}));
}

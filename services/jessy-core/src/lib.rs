//! jessy-core: dimensional layers stored as memory-mapped files, served over HTTP.

pub mod cli;
pub mod config;
pub mod healthcheck;
pub mod metrics;
pub mod server;
pub mod storage;
pub mod telemetry;

pub use storage::{init_volume, validate_name, Store, StoreError};

/// Writes one structured JSON log line to stdout, adding `ts` (Unix seconds) and `level`.
pub fn log_json(mut line: serde_json::Value) {
    use std::io::Write;
    if let Some(obj) = line.as_object_mut() {
        let ts = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or_default();
        obj.entry("ts")
            .or_insert_with(|| serde_json::json!((ts * 1000.0).round() / 1000.0));
        obj.entry("level")
            .or_insert_with(|| serde_json::json!("info"));
    }
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

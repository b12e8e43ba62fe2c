//! `--healthcheck`: a minimal HTTP/1.1 GET of `/health` over a plain TcpStream,
//! so container health checks need neither curl nor a shell.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// Returns `Ok(())` when `GET /health` on `127.0.0.1:<port>` answers 200 with status "ok".
pub fn check(port: u16, timeout: Duration) -> Result<(), String> {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let mut stream =
        TcpStream::connect_timeout(&addr, timeout).map_err(|e| format!("connect {addr}: {e}"))?;
    stream
        .set_read_timeout(Some(timeout))
        .and_then(|()| stream.set_write_timeout(Some(timeout)))
        .map_err(|e| e.to_string())?;
    let request = format!(
        "GET /health HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUser-Agent: jessy-core-healthcheck\r\nAccept: application/json\r\nConnection: close\r\n\r\n"
    );
    stream
        .write_all(request.as_bytes())
        .map_err(|e| format!("send: {e}"))?;
    let mut raw = Vec::new();
    stream
        .take(1 << 20)
        .read_to_end(&mut raw)
        .map_err(|e| format!("read: {e}"))?;
    evaluate(&String::from_utf8_lossy(&raw))
}

/// Judges a raw HTTP response: status 200 and a JSON body with `"status":"ok"`.
pub fn evaluate(raw: &str) -> Result<(), String> {
    let status_line = raw.lines().next().unwrap_or_default();
    let code = status_line.split_whitespace().nth(1).unwrap_or_default();
    if !status_line.starts_with("HTTP/1.") || code != "200" {
        return Err(format!("unhealthy response: {status_line:?}"));
    }
    let body = raw
        .split_once("\r\n\r\n")
        .map(|(_, b)| b)
        .unwrap_or_default();
    // Tolerate chunked framing by parsing the outermost JSON object.
    let json = match (body.find('{'), body.rfind('}')) {
        (Some(start), Some(end)) if start < end => &body[start..=end],
        _ => return Err("health response has no JSON body".to_string()),
    };
    let value: serde_json::Value =
        serde_json::from_str(json).map_err(|e| format!("health body is not JSON: {e}"))?;
    match value.get("status").and_then(|s| s.as_str()) {
        Some("ok") => Ok(()),
        other => Err(format!("health status is {other:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::evaluate;

    #[test]
    fn evaluates_responses() {
        let ok = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\r\n{\"status\":\"ok\",\"layers\":0}";
        assert!(evaluate(ok).is_ok());
        let degraded = "HTTP/1.1 503 Service Unavailable\r\n\r\n{\"status\":\"degraded\"}";
        assert!(evaluate(degraded).is_err());
        assert!(evaluate("HTTP/1.1 200 OK\r\n\r\n{\"status\":\"degraded\"}").is_err());
        assert!(evaluate("HTTP/1.1 200 OK\r\n\r\nnot json").is_err());
        assert!(evaluate("").is_err());
    }

    #[test]
    fn closed_port_is_unhealthy() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        assert!(super::check(port, std::time::Duration::from_millis(500)).is_err());
    }
}

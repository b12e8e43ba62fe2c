//! End-to-end tests: start the real binary on a free loopback port with a temp volume.

use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_jessy-core");

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

struct Server {
    child: Child,
    port: u16,
    logs: mpsc::Receiver<String>,
    /// Log lines read while waiting for the start (kept for `terminate`).
    early: Vec<String>,
}

impl Server {
    /// Starts the binary on a free port and waits for its own "starting" line. The port is free when picked, but
    /// tests run in parallel: when another test's server takes it first, this one fails to bind and exits, and
    /// the next free port is tried (a plain connect check would have talked to the other server).
    fn start(data_dir: &Path, extra_env: &[(&str, &str)]) -> Server {
        for _ in 0..5 {
            let port = free_port();
            let mut cmd = Command::new(BIN);
            cmd.env("JESSY_CORE_PORT", port.to_string())
                .env("JESSY_BIND_HOST", "127.0.0.1")
                .env("JESSY_DATA_DIR", data_dir)
                .env_remove("JESSY_MAX_LAYER_BYTES")
                .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
                .env_remove("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
                .stdout(Stdio::piped())
                .stderr(Stdio::inherit());
            for (k, v) in extra_env {
                cmd.env(k, v);
            }
            let mut child = cmd.spawn().expect("spawn jessy-core");
            let stdout = child.stdout.take().unwrap();
            let (tx, logs) = mpsc::channel();
            std::thread::spawn(move || {
                for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                    if tx.send(line).is_err() {
                        break;
                    }
                }
            });
            let deadline = Instant::now() + Duration::from_secs(20);
            let mut early = Vec::new();
            loop {
                match logs.recv_timeout(Duration::from_millis(100)) {
                    Ok(line) => {
                        let started = line.contains(r#""msg":"starting""#);
                        early.push(line);
                        if started {
                            return Server {
                                child,
                                port,
                                logs,
                                early,
                            };
                        }
                    }
                    Err(mpsc::RecvTimeoutError::Timeout) => {
                        assert!(Instant::now() < deadline, "server did not start");
                    }
                    Err(mpsc::RecvTimeoutError::Disconnected) => {
                        let _ = child.wait(); // exited before starting: most likely its port was taken
                        break;
                    }
                }
            }
        }
        panic!("server did not start on any of 5 free ports");
    }

    fn request(&self, method: &str, path: &str, body: &[u8]) -> Response {
        request_with(self.port, method, path, body, &[])
    }

    /// Sends SIGTERM and returns the exit status and all log lines.
    fn terminate(mut self) -> (std::process::ExitStatus, Vec<String>) {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status();
        assert!(
            sent.map(|s| s.success()).unwrap_or(false),
            "kill -TERM failed"
        );
        let deadline = Instant::now() + Duration::from_secs(10);
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            assert!(Instant::now() < deadline, "server ignored SIGTERM");
            std::thread::sleep(Duration::from_millis(50));
        };
        let mut lines = std::mem::take(&mut self.early);
        while let Ok(line) = self.logs.recv_timeout(Duration::from_secs(2)) {
            lines.push(line);
        }
        (status, lines)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Response {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "status {} body is not JSON ({e}): {:?}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Asserts a JSON error object with the given status and `error` text.
    fn assert_error(&self, status: u16, error: &str) -> Value {
        assert_eq!(
            self.status,
            status,
            "body: {:?}",
            String::from_utf8_lossy(&self.body)
        );
        assert!(self
            .header("content-type")
            .unwrap_or("")
            .starts_with("application/json"));
        let json = self.json();
        assert_eq!(json["error"], error, "{json}");
        json
    }
}

/// A tiny HTTP/1.1 client: one request per connection, `Connection: close`.
///
/// A body is sent the way curl sends one: `Expect: 100-continue`, then the body only after `100 Continue`. A server
/// that refuses the request up front (413) answers at once and closes; had the body been written already, the
/// unread bytes would make the kernel reset the connection and drop the 413 before it is read (seen under load).
fn request_with(
    port: u16,
    method: &str,
    path: &str,
    body: &[u8],
    headers: &[(&str, &str)],
) -> Response {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let expect = if body.is_empty() {
        ""
    } else {
        "Expect: 100-continue\r\n"
    };
    let extra: String = headers
        .iter()
        .map(|(k, v)| format!("{k}: {v}\r\n"))
        .collect();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n{extra}{expect}Content-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).unwrap();
    let mut raw = Vec::new();
    if !body.is_empty() {
        let first = read_head(&mut stream, &mut raw);
        if first.starts_with("HTTP/1.1 100") {
            raw.clear();
            stream.write_all(body).unwrap();
        }
    }
    let _ = stream.read_to_end(&mut raw);
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("complete response head");
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    Response {
        status,
        headers,
        body: raw[split + 4..].to_vec(),
    }
}

/// Reads into `raw` until the end of the first response head (or of the stream); returns that head's status line.
fn read_head(stream: &mut TcpStream, raw: &mut Vec<u8>) -> String {
    let mut byte = [0u8; 1];
    while !raw.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte) {
            Ok(1) => raw.push(byte[0]),
            _ => break,
        }
    }
    String::from_utf8_lossy(raw)
        .lines()
        .next()
        .unwrap_or("")
        .to_string()
}

fn run(args: &[&str], port: Option<u16>) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.args(args);
    if let Some(port) = port {
        cmd.env("JESSY_CORE_PORT", port.to_string());
    }
    cmd.output().unwrap()
}

fn volume() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    (dir, data)
}

#[test]
fn layers_crud_and_errors() {
    let (_tmp, data) = volume();
    std::fs::create_dir_all(data.join("tmp")).unwrap();
    std::fs::write(data.join("tmp/.stale.tmp"), b"torn write").unwrap();
    let server = Server::start(&data, &[]);
    assert!(
        !data.join("tmp/.stale.tmp").exists(),
        "stale temp files are cleaned at startup"
    );

    let health = server.request("GET", "/health", b"");
    assert_eq!(health.status, 200);
    let json = health.json();
    assert_eq!(json["status"], "ok");
    assert_eq!(json["service"], "jessy-core");
    assert_eq!(json["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(json["layers"], 0);

    let put = server.request("PUT", "/layers/alpha", b"hello layer");
    assert_eq!(put.status, 201);
    assert_eq!(put.json(), serde_json::json!({"name": "alpha", "size": 11}));
    let put = server.request("PUT", "/layers/alpha", b"hello again!");
    assert_eq!(put.status, 200);
    assert_eq!(put.json()["size"], 12);
    assert_eq!(server.request("PUT", "/layers/empty", b"").status, 201);
    assert_eq!(server.request("PUT", "/layers/0.b_c-d", b"x").status, 201);
    assert!(data.join("layers/alpha.layer").is_file());

    let get = server.request("GET", "/layers/alpha", b"");
    assert_eq!(get.status, 200);
    assert_eq!(get.header("content-type"), Some("application/octet-stream"));
    assert_eq!(get.body, b"hello again!");
    let get = server.request("GET", "/layers/empty", b"");
    assert_eq!(get.status, 200);
    assert!(get.body.is_empty());

    let list = server.request("GET", "/layers", b"");
    assert_eq!(list.status, 200);
    assert_eq!(
        list.json(),
        serde_json::json!({"layers": [
            {"name": "0.b_c-d", "size": 1},
            {"name": "alpha", "size": 12},
            {"name": "empty", "size": 0},
        ]})
    );
    assert_eq!(server.request("GET", "/health", b"").json()["layers"], 3);

    // Invalid names.
    for path in [
        "/layers/Alpha",
        "/layers/.hidden",
        "/layers/..",
        "/layers/a%2Fb",
        "/layers/-x",
        &format!("/layers/{}", "a".repeat(65)),
    ] {
        let json = server
            .request("PUT", path, b"x")
            .assert_error(400, "invalid layer name");
        assert!(json["detail"].is_string(), "{json}");
        server
            .request("GET", path, b"")
            .assert_error(400, "invalid layer name");
        server
            .request("DELETE", path, b"")
            .assert_error(400, "invalid layer name");
    }

    // Missing layers and routes.
    server
        .request("GET", "/layers/missing", b"")
        .assert_error(404, "layer not found");
    server
        .request("DELETE", "/layers/missing", b"")
        .assert_error(404, "layer not found");
    server
        .request("GET", "/nope", b"")
        .assert_error(404, "not found");
    server
        .request("POST", "/layers/alpha", b"")
        .assert_error(405, "method not allowed");

    // Delete.
    let del = server.request("DELETE", "/layers/alpha", b"");
    assert_eq!(del.status, 204);
    assert!(del.body.is_empty());
    server
        .request("GET", "/layers/alpha", b"")
        .assert_error(404, "layer not found");
    assert!(!data.join("layers/alpha.layer").exists());
    assert_eq!(std::fs::read_dir(data.join("tmp")).unwrap().count(), 0);

    // --healthcheck against a healthy server.
    let out = run(&["--healthcheck"], Some(server.port));
    assert_eq!(out.status.code(), Some(0), "{out:?}");

    // Graceful shutdown on SIGTERM, with JSON logs on stdout.
    let (status, logs) = server.terminate();
    assert!(status.success(), "exit status after SIGTERM: {status:?}");
    let lines: Vec<Value> = logs
        .iter()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("log line {l:?}: {e}")))
        .collect();
    assert!(lines.iter().any(|l| l["msg"] == "starting"));
    let req = lines
        .iter()
        .find(|l| l["msg"] == "request" && l["path"] == "/layers/empty" && l["method"] == "PUT")
        .expect("request log line");
    assert_eq!(req["status"], 201);
    assert!(req["duration_ms"].is_number());
    assert!(lines
        .iter()
        .any(|l| l["msg"] == "shutting down" && l["signal"] == "SIGTERM"));
}

#[test]
fn body_limit_is_json_413() {
    let (_tmp, data) = volume();
    let server = Server::start(&data, &[("JESSY_MAX_LAYER_BYTES", "16")]);
    assert_eq!(
        server.request("PUT", "/layers/small", &[1u8; 16]).status,
        201
    );
    let json = server
        .request("PUT", "/layers/big", &[1u8; 64])
        .assert_error(413, "layer too large");
    assert!(json["detail"].as_str().unwrap().contains("16"));
    server
        .request("GET", "/layers/big", b"")
        .assert_error(404, "layer not found");
    assert!(!data.join("layers/big.layer").exists());
}

#[test]
fn health_degraded_without_volume() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("not-mounted");
    let server = Server::start(&data, &[]);

    let health = server.request("GET", "/health", b"");
    assert_eq!(health.status, 503);
    let json = health.json();
    assert_eq!(json["status"], "degraded");
    assert_eq!(json["service"], "jessy-core");
    assert!(
        json["reason"].as_str().unwrap().contains("does not exist"),
        "{json}"
    );
    server
        .request("PUT", "/layers/a", b"x")
        .assert_error(503, "data volume unavailable");
    server
        .request("GET", "/layers", b"")
        .assert_error(503, "data volume unavailable");

    let out = run(&["--healthcheck"], Some(server.port));
    assert_eq!(out.status.code(), Some(1), "{out:?}");

    // The volume appears later: health recovers without a restart.
    std::fs::create_dir(&data).unwrap();
    let health = server.request("GET", "/health", b"");
    assert_eq!(health.status, 200);
    assert_eq!(health.json()["status"], "ok");
    assert!(data.join("layers").is_dir() && data.join("tmp").is_dir());
    let out = run(&["--healthcheck"], Some(server.port));
    assert_eq!(out.status.code(), Some(0), "{out:?}");
}

#[test]
fn healthcheck_fails_when_nothing_listens() {
    let out = run(&["--healthcheck"], Some(free_port()));
    assert_eq!(out.status.code(), Some(1), "{out:?}");
}

#[test]
fn init_volume_cli() {
    let tmp = tempfile::tempdir().unwrap();
    let vol = tmp.path().join("vol");
    let vol_arg = vol.to_str().unwrap();

    let out = run(&["init-volume", vol_arg], None);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(std::fs::read_to_string(vol.join("VERSION")).unwrap(), "1\n");
    assert!(vol.join("layers").is_dir() && vol.join("tmp").is_dir());
    std::fs::write(vol.join("layers/kept.layer"), b"data").unwrap();

    let out = run(&["init-volume", vol_arg], None);
    assert_eq!(out.status.code(), Some(0), "idempotent: {out:?}");
    assert_eq!(
        std::fs::read(vol.join("layers/kept.layer")).unwrap(),
        b"data"
    );

    // Foreign content is refused with exit 2 and a message naming the dir.
    let other = tmp.path().join("other");
    std::fs::create_dir(&other).unwrap();
    std::fs::write(other.join("database.sqlite"), b"x").unwrap();
    let out = run(&["init-volume", other.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(other.to_str().unwrap()), "{stderr}");
    assert!(stderr.contains("expected"), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");

    std::fs::write(vol.join("VERSION"), "7\n").unwrap();
    let out = run(&["init-volume", vol_arg], None);
    assert_eq!(out.status.code(), Some(2), "{out:?}");

    // Bad usage: exit 2 with a one-line usage error.
    for args in [&["init-volume"][..], &["bogus"], &["init-volume", "a", "b"]] {
        let out = run(args, None);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {out:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
        assert!(stderr.contains("usage:"), "{stderr}");
    }
}

const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const TRACEPARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

fn log_lines(logs: &[String]) -> Vec<Value> {
    logs.iter()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("log line {l:?}: {e}")))
        .collect()
}

#[test]
fn metrics_endpoint_and_trace_ids_in_request_logs() {
    let (_tmp, data) = volume();
    let server = Server::start(&data, &[]);
    assert_eq!(
        request_with(
            server.port,
            "GET",
            "/layers/missing",
            b"",
            &[("traceparent", TRACEPARENT)]
        )
        .status,
        404
    );
    assert_eq!(server.request("GET", "/health", b"").status, 200);
    let metrics = server.request("GET", "/metrics", b"");
    assert_eq!(metrics.status, 200);
    assert!(metrics
        .header("content-type")
        .unwrap()
        .starts_with("text/plain"));
    let text = String::from_utf8(metrics.body).unwrap();
    assert!(
        text.contains(
            r#"jessy_http_requests_total{method="GET",route="/layers/{name}",status="404"} 1"#
        ),
        "{text}"
    );
    assert!(!text.contains("missing"), "{text}");

    let (_, logs) = server.terminate();
    let lines = log_lines(&logs);
    let traced = lines
        .iter()
        .find(|l| l["msg"] == "request" && l["path"] == "/layers/missing")
        .expect("request log line");
    assert_eq!(traced["route"], "/layers/{name}");
    assert_eq!(traced["status"], 404);
    assert_eq!(traced["trace_id"], TRACE_ID, "{traced}");
    let untraced = lines
        .iter()
        .find(|l| l["msg"] == "request" && l["path"] == "/health")
        .expect("request log line");
    assert!(
        untraced.get("trace_id").is_none(),
        "no exporter, no traceparent: no trace id ({untraced})"
    );
}

/// A fake OTLP/HTTP collector: answers every request with 200 and hands over (head, body).
fn collector() -> (u16, mpsc::Receiver<(String, Vec<u8>)>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { break };
            let tx = tx.clone();
            std::thread::spawn(move || loop {
                let mut raw = Vec::new();
                read_head(&mut conn, &mut raw);
                if raw.is_empty() {
                    return;
                }
                let head = String::from_utf8_lossy(&raw).to_string();
                let length: usize = head
                    .lines()
                    .find_map(|l| {
                        let (k, v) = l.split_once(':')?;
                        k.eq_ignore_ascii_case("content-length")
                            .then(|| v.trim().parse().ok())?
                    })
                    .unwrap_or(0);
                let mut body = vec![0u8; length];
                if conn.read_exact(&mut body).is_err() {
                    return;
                }
                let _ = conn.write_all(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/x-protobuf\r\nContent-Length: 0\r\n\r\n",
                );
                if tx.send((head, body)).is_err() {
                    return;
                }
            });
        }
    });
    (port, rx)
}

#[test]
fn spans_are_exported_over_otlp_http_and_flushed_on_sigterm() {
    let (_tmp, data) = volume();
    let (port, received) = collector();
    let endpoint = format!("http://127.0.0.1:{port}");
    // The batch delay is far longer than the test: only the flush at shutdown can send the span.
    let server = Server::start(
        &data,
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint),
            ("OTEL_SERVICE_NAME", "core-under-test"),
            ("OTEL_BSP_SCHEDULE_DELAY", "600000"),
        ],
    );
    let put = request_with(
        server.port,
        "PUT",
        "/layers/traced",
        b"x",
        &[("traceparent", TRACEPARENT)],
    );
    assert_eq!(put.status, 201);
    let own = server.request("GET", "/layers/traced", b"");
    assert_eq!(own.status, 200);
    assert!(
        received.recv_timeout(Duration::from_millis(300)).is_err(),
        "exported before the batch delay"
    );

    let (status, logs) = server.terminate();
    assert!(status.success(), "{status:?}");
    let (head, body) = received
        .recv_timeout(Duration::from_secs(5))
        .expect("spans flushed at shutdown");
    assert!(head.starts_with("POST /v1/traces HTTP/1.1\r\n"), "{head}");
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: application/x-protobuf"),
        "{head}"
    );
    let contains = |needle: &[u8]| body.windows(needle.len()).any(|w| w == needle);
    let trace_id: Vec<u8> = (0..16)
        .map(|i| u8::from_str_radix(&TRACE_ID[2 * i..2 * i + 2], 16).unwrap())
        .collect();
    assert!(contains(&trace_id), "the caller's trace id is exported");
    assert!(
        contains(b"core-under-test"),
        "service name from OTEL_SERVICE_NAME"
    );
    assert!(contains(b"PUT /layers/{name}") && contains(b"GET /layers/{name}"));
    assert!(contains(b"http.route") && contains(b"http.response.status_code"));

    let lines = log_lines(&logs);
    assert!(lines.iter().any(
        |l| l["msg"] == "exporting traces" && l["endpoint"] == format!("{endpoint}/v1/traces")
    ));
    let put_line = lines
        .iter()
        .find(|l| l["msg"] == "request" && l["method"] == "PUT")
        .unwrap();
    assert_eq!(put_line["trace_id"], TRACE_ID);
    let get_line = lines
        .iter()
        .find(|l| l["msg"] == "request" && l["method"] == "GET" && l["path"] == "/layers/traced")
        .unwrap();
    let own_trace = get_line["trace_id"].as_str().expect("a local trace id");
    assert_eq!(own_trace.len(), 32);
    assert_ne!(own_trace, TRACE_ID);
}

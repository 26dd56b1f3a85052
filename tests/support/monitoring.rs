//! The monitoring side, for real: a webhook receiver (Python's `http.server`
//! on a 127.0.0.1 port, answering as told: a status code or a hang) and
//! node_exporter with its textfile collector, scraped over HTTP. Each runs
//! in a process group of its own and is stopped by `Drop`.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::{free_port, stop_group};

const RECEIVER: &str = r#"
import http.server, json, os, sys, time
directory, port = sys.argv[1], int(sys.argv[2])
class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        try:
            mode = open(os.path.join(directory, "mode")).read().strip()
        except FileNotFoundError:
            mode = "200"
        with open(os.path.join(directory, "requests.jsonl"), "a") as out:
            out.write(json.dumps({"path": self.path, "type": self.headers.get("Content-Type"), "body": body.decode()}) + "\n")
        if mode == "hang":
            time.sleep(30)
            return
        self.send_response(int(mode))
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")
    def log_message(self, *args):
        pass
http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
"#;

pub(crate) struct Receiver {
    child: Child,
    dir: tempfile::TempDir,
    pub(crate) port: u16,
}

/// One request the receiver got.
#[derive(Debug, Clone)]
pub(crate) struct Received {
    pub(crate) path: String,
    pub(crate) content_type: String,
    pub(crate) body: String,
}

impl Receiver {
    pub(crate) fn start() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("dbops-webhook-")
            .tempdir()
            .unwrap();
        let script = dir.path().join("receiver.py");
        std::fs::write(&script, RECEIVER).unwrap();
        let port = free_port();
        let child = Command::new("python3")
            .arg(&script)
            .arg(dir.path())
            .arg(port.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .expect("python3 starts");
        wait_listening(port);
        Self { child, dir, port }
    }

    /// `200`, `500`, `hang`...: how the next requests are answered.
    pub(crate) fn answer(&self, mode: &str) {
        std::fs::write(self.dir.path().join("mode"), mode).unwrap();
    }

    pub(crate) fn received(&self) -> Vec<Received> {
        let text =
            std::fs::read_to_string(self.dir.path().join("requests.jsonl")).unwrap_or_default();
        text.lines()
            .map(|line| {
                let value: serde_json::Value = serde_json::from_str(line).unwrap();
                Received {
                    path: value["path"].as_str().unwrap().to_string(),
                    content_type: value["type"].as_str().unwrap_or_default().to_string(),
                    body: value["body"].as_str().unwrap().to_string(),
                }
            })
            .collect()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        stop_group(&mut self.child);
    }
}

pub(crate) struct NodeExporter {
    child: Child,
    port: u16,
}

impl NodeExporter {
    /// node_exporter serving only its textfile collector over `directory`.
    pub(crate) fn start(directory: &Path) -> Self {
        let port = free_port();
        let child = Command::new(binary("prometheus-node-exporter"))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--collector.disable-defaults")
            .arg("--collector.textfile")
            .arg(format!(
                "--collector.textfile.directory={}",
                directory.display()
            ))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .expect("prometheus-node-exporter starts");
        wait_listening(port);
        Self { child, port }
    }

    /// `GET /metrics` over HTTP: the body.
    pub(crate) fn scrape(&self) -> String {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        stream
            .write_all(b"GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
            .unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        let (head, body) = response.split_once("\r\n\r\n").unwrap();
        assert!(
            head.starts_with("HTTP/1.0 200") || head.starts_with("HTTP/1.1 200"),
            "{head}"
        );
        body.to_string()
    }
}

impl Drop for NodeExporter {
    fn drop(&mut self) {
        stop_group(&mut self.child);
    }
}

/// A Prometheus tool: `DBOPS_PROMETHEUS_BINDIR`, else PATH.
pub(crate) fn binary(name: &str) -> PathBuf {
    match std::env::var_os("DBOPS_PROMETHEUS_BINDIR") {
        Some(dir) => PathBuf::from(dir).join(name),
        None => PathBuf::from(name),
    }
}

/// `promtool ARGS` with `stdin`: (exit code, stdout + stderr).
pub(crate) fn promtool(args: &[&str], stdin: &str) -> (i32, String) {
    let mut child = Command::new(binary("promtool"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool starts");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// The value of the series written exactly as `series` in exposition text.
pub(crate) fn value(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .map(|v| v.trim().parse().unwrap())
}

fn wait_listening(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "nothing listens on {port}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

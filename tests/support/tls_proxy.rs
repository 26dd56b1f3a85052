//! A TLS-terminating proxy on 127.0.0.1 (Debian's nginx-light, `DBOPS_NGINX` or
//! `/usr/sbin/nginx`) in front of a plain-HTTP server, with a certificate for
//! `localhost` signed by a test CA (`cert`, the one to trust), both made by
//! `openssl`: pgBackRest's S3 client speaks only TLS, and moto only plain HTTP.

use std::net::TcpStream;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::{free_port, run_checked};

pub(crate) struct TlsProxy {
    child: Child,
    _dir: tempfile::TempDir,
    pub(crate) port: u16,
    /// The CA certificate to trust.
    pub(crate) cert: PathBuf,
}

impl TlsProxy {
    pub(crate) fn start(upstream_port: u16) -> Self {
        let dir = tempfile::Builder::new()
            .prefix("dbops-tls-")
            .tempdir()
            .unwrap();
        let path = dir.path();
        // A CA and a certificate it signs for `localhost`: strict verifiers
        // (rustls) refuse a self-signed CA certificate used as the server's.
        let certs = super::certs::Certs::new(path);
        let (server_cert, server_key) = certs.issue("server", "localhost", Some("localhost"));
        std::fs::rename(&server_cert, path.join("server-cert.pem")).unwrap();
        std::fs::rename(&server_key, path.join("key.pem")).unwrap();
        let cert = path.join("cert.pem");
        std::fs::copy(certs.path("ca.crt"), &cert).unwrap();
        // The certificate must be readable by whoever verifies it (pgBackRest runs as `postgres`).
        run_checked(Command::new("chmod").args(["0755"]).arg(path));
        run_checked(Command::new("chmod").args(["0644"]).arg(&cert));
        let port = free_port();
        let conf = format!(
            "daemon off;\npid {p}/nginx.pid;\nerror_log {p}/error.log;\nevents {{}}\nhttp {{\n  access_log off;\n  \
             client_body_temp_path {p}/body;\n  proxy_temp_path {p}/proxy;\n  fastcgi_temp_path {p}/fastcgi;\n  \
             uwsgi_temp_path {p}/uwsgi;\n  scgi_temp_path {p}/scgi;\n  server {{\n    listen 127.0.0.1:{port} ssl;\n    \
             server_name localhost;\n    ssl_certificate {p}/server-cert.pem;\n    ssl_certificate_key {p}/key.pem;\n    \
             client_max_body_size 0;\n    location / {{\n      proxy_pass http://127.0.0.1:{upstream_port};\n      \
             proxy_set_header Host $http_host;\n      proxy_request_buffering off;\n      proxy_buffering off;\n    }}\n  }}\n}}\n",
            p = path.display()
        );
        std::fs::write(path.join("nginx.conf"), conf).unwrap();
        let binary = std::env::var_os("DBOPS_NGINX")
            .map(PathBuf::from)
            .unwrap_or_else(|| "/usr/sbin/nginx".into());
        let child = Command::new(&binary)
            .process_group(0)
            .arg("-p")
            .arg(path)
            .arg("-c")
            .arg(path.join("nginx.conf"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start {}: {e}; run `bash scripts/test.sh`, which installs it",
                    binary.display()
                )
            });
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "nginx did not listen: {}",
                std::fs::read_to_string(path.join("error.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Self {
            child,
            _dir: dir,
            port,
            cert,
        }
    }
}

impl Drop for TlsProxy {
    fn drop(&mut self) {
        // nginx's workers are in its process group: stop them all.
        super::stop_group(&mut self.child);
    }
}

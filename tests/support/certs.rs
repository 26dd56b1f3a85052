//! Certificates for TLS tests, made by `openssl` in a directory of their own:
//! a CA, certificates it signs (servers by DNS name, clients by common name),
//! and an unrelated CA nobody trusts.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::run_checked;

pub(crate) struct Certs {
    pub(crate) dir: PathBuf,
}

fn openssl(args: &[&str], dir: &Path) {
    run_checked(
        Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .stderr(Stdio::null()),
    );
}

impl Certs {
    /// A CA (`ca.crt`) and an untrusted one (`other-ca.crt`) in `dir`.
    pub(crate) fn new(dir: &Path) -> Self {
        std::fs::create_dir_all(dir).unwrap();
        for name in ["ca", "other-ca"] {
            openssl(
                &[
                    "req",
                    "-x509",
                    "-newkey",
                    "rsa:2048",
                    "-nodes",
                    "-days",
                    "2",
                    "-subj",
                    &format!("/CN=dbops test {name}"),
                    "-keyout",
                    &format!("{name}.key"),
                    "-out",
                    &format!("{name}.crt"),
                ],
                dir,
            );
        }
        Self {
            dir: dir.to_path_buf(),
        }
    }

    /// `NAME.crt` and `NAME.key` signed by `ca.crt`, for `cn`, with
    /// `subjectAltName=DNS:<dns>` when given. Keys are mode 0600.
    pub(crate) fn issue(&self, name: &str, cn: &str, dns: Option<&str>) -> (PathBuf, PathBuf) {
        openssl(
            &[
                "req",
                "-new",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-subj",
                &format!("/CN={cn}"),
                "-keyout",
                &format!("{name}.key"),
                "-out",
                &format!("{name}.csr"),
            ],
            &self.dir,
        );
        let ext = self.dir.join(format!("{name}.ext"));
        let san = dns
            .map(|d| format!("subjectAltName=DNS:{d}\n"))
            .unwrap_or_default();
        std::fs::write(&ext, format!("basicConstraints=CA:FALSE\n{san}")).unwrap();
        openssl(
            &[
                "x509",
                "-req",
                "-in",
                &format!("{name}.csr"),
                "-CA",
                "ca.crt",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-days",
                "2",
                "-extfile",
                &format!("{name}.ext"),
                "-out",
                &format!("{name}.crt"),
            ],
            &self.dir,
        );
        let key = self.dir.join(format!("{name}.key"));
        run_checked(Command::new("chmod").arg("0600").arg(&key));
        (self.dir.join(format!("{name}.crt")), key)
    }

    pub(crate) fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
}

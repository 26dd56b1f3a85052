//! TLS to PostgreSQL and pgBouncer with libpq's semantics, so a DSN means what
//! it means to psql: `sslmode` = `disable`, `allow`, `prefer` (the default),
//! `require`, `verify-ca`, `verify-full`; `sslrootcert` (a file, or `system`),
//! `sslcert` + `sslkey`, `sslcrl`. Built on rustls with the `ring` provider.
//!
//! [`TlsSettings::from_dsn`] checks everything that can be checked without a
//! server (unknown mode, missing files, a key without a certificate, a key
//! others may read, `system` with a weaker mode than `verify-full`): those are
//! config errors, reported by `validate`. A certificate the server presents is
//! judged at connect time. Nothing here reads or prints a password.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{
    CertificateDer, CertificateRevocationListDer, PrivateKeyDer, ServerName, UnixTime,
};
use rustls::{CertificateError, DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::dsn::Dsn;
use crate::error::{Error, ErrorKind, Result};

/// libpq's `sslmode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Mode {
    Disable,
    Allow,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl Mode {
    fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "disable" => Mode::Disable,
            "allow" => Mode::Allow,
            "prefer" => Mode::Prefer,
            "require" => Mode::Require,
            "verify-ca" => Mode::VerifyCa,
            "verify-full" => Mode::VerifyFull,
            _ => return None,
        })
    }

    /// Whether a session without TLS is refused.
    pub(crate) fn requires_tls(self) -> bool {
        self >= Mode::Require
    }
}

/// Where trusted roots come from.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Roots {
    None,
    File(PathBuf),
    System,
}

/// What one DSN asks of TLS, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TlsSettings {
    pub(crate) mode: Mode,
    /// How the server's certificate is judged: `require` with a root file is
    /// `verify-ca`, as in libpq.
    verify: Mode,
    roots: Roots,
    client: Option<(PathBuf, PathBuf)>,
    crl: Option<PathBuf>,
}

/// libpq's default files, `~/.postgresql/NAME`, when they exist.
fn default_file(name: &str) -> Option<PathBuf> {
    let home = std::env::var_os("HOME")?;
    let path = Path::new(&home).join(".postgresql").join(name);
    path.is_file().then_some(path)
}

/// An error about a DSN's parameter: names the parameter, never a value of
/// the DSN (not its user, not a path: a misplaced secret may be any of them).
fn config_error(_dsn: &Dsn, message: String) -> Error {
    Error::new(format!("the DSN's {message}")).kind(ErrorKind::Config)
}

fn readable_file(dsn: &Dsn, parameter: &str, path: &Path) -> Result<()> {
    match std::fs::metadata(path) {
        Ok(meta) if meta.is_file() => Ok(()),
        Ok(_) => Err(config_error(
            dsn,
            format!("`{parameter}` is not a regular file"),
        )),
        Err(e) => Err(config_error(
            dsn,
            format!(
                "`{parameter}` file cannot be read: {}",
                crate::util::files::io_reason(&e)
            ),
        )
        .hint(format!("fix the path in the DSN's `{parameter}` parameter"))),
    }
}

impl TlsSettings {
    pub(crate) fn from_dsn(dsn: &Dsn) -> Result<Self> {
        let param = |name: &str| dsn.params.get(name).map(String::as_str);
        let mode = match param("sslmode") {
            None => Mode::Prefer,
            Some(text) => Mode::parse(text).ok_or_else(|| {
                config_error(dsn, "`sslmode` is not an sslmode".to_string()).hint(
                    "use `disable`, `allow`, `prefer`, `require`, `verify-ca` or `verify-full`",
                )
            })?,
        };
        let roots = match param("sslrootcert") {
            Some("system") => Roots::System,
            Some(file) => {
                let path = PathBuf::from(file);
                readable_file(dsn, "sslrootcert", &path)?;
                Roots::File(path)
            }
            None => default_file("root.crt").map_or(Roots::None, Roots::File),
        };
        if roots == Roots::System && mode != Mode::VerifyFull && mode != Mode::Disable {
            return Err(config_error(
                dsn,
                "`sslrootcert=system` needs `sslmode=verify-full`".to_string(),
            )
            .hint("the system's roots vouch for names, not for a private server: add `sslmode=verify-full`, as libpq requires"));
        }
        if mode >= Mode::VerifyCa && roots == Roots::None {
            return Err(config_error(
                dsn,
                "`sslmode` verifies the server's certificate, but no root certificate is given"
                    .to_string(),
            )
            .hint("add `sslrootcert=/path/to/ca.crt` (or `sslrootcert=system` with `verify-full`) to the DSN"));
        }
        let client = match (param("sslcert"), param("sslkey")) {
            (None, None) => default_file("postgresql.crt").zip(default_file("postgresql.key")),
            (Some(cert), Some(key)) => {
                let (cert, key) = (PathBuf::from(cert), PathBuf::from(key));
                readable_file(dsn, "sslcert", &cert)?;
                readable_file(dsn, "sslkey", &key)?;
                check_key_mode(dsn, &key)?;
                Some((cert, key))
            }
            (Some(_), None) => return Err(config_error(
                dsn,
                "`sslcert` is given without `sslkey`".into(),
            )
            .hint("a client certificate needs its private key: add `sslkey=/path/to/client.key`")),
            (None, Some(_)) => {
                return Err(
                    config_error(dsn, "`sslkey` is given without `sslcert`".into()).hint(
                        "add the certificate that goes with the key: `sslcert=/path/to/client.crt`",
                    ),
                )
            }
        };
        let crl = match param("sslcrl") {
            Some(file) => {
                let path = PathBuf::from(file);
                readable_file(dsn, "sslcrl", &path)?;
                Some(path)
            }
            None => None,
        };
        let verify = match (mode, &roots) {
            (Mode::Require, Roots::File(_)) => Mode::VerifyCa,
            (mode, _) => mode,
        };
        Ok(Self {
            mode,
            verify,
            roots,
            client,
            crl,
        })
    }

    /// The rustls connector for this DSN. Reads the certificate files.
    pub(crate) fn connector(&self) -> Result<MakeRustlsConnect> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let verifier: Arc<dyn ServerCertVerifier> = if self.verify >= Mode::VerifyCa {
            let mut store = RootCertStore::empty();
            match &self.roots {
                Roots::File(path) => {
                    for cert in pem_certificates(path, "sslrootcert")? {
                        store.add(cert).map_err(|e| {
                            tls_file_error(
                                path,
                                "sslrootcert",
                                &format!("a root certificate is unusable: {e}"),
                            )
                        })?;
                    }
                }
                Roots::System => {
                    let found = rustls_native_certs::load_native_certs();
                    store.add_parsable_certificates(found.certs);
                }
                Roots::None => {}
            }
            let mut builder =
                WebPkiServerVerifier::builder_with_provider(Arc::new(store), provider.clone());
            if let Some(path) = &self.crl {
                let crls = CertificateRevocationListDer::pem_file_iter(path)
                    .and_then(|i| i.collect::<Result<Vec<_>, _>>())
                    .map_err(|e| tls_file_error(path, "sslcrl", &e.to_string()))?;
                builder = builder.with_crls(crls);
            }
            let webpki = builder.build().map_err(|e| {
                Error::new(format!("cannot build the TLS verifier: {e}")).kind(ErrorKind::Config)
            })?;
            if self.verify == Mode::VerifyFull {
                webpki
            } else {
                Arc::new(ChainOnly(webpki))
            }
        } else {
            Arc::new(AcceptAny(provider.clone()))
        };
        let builder = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| Error::internal(format!("TLS protocol versions: {e}")))?
            .dangerous()
            .with_custom_certificate_verifier(verifier);
        let config = match &self.client {
            None => builder.with_no_client_auth(),
            Some((cert, key)) => {
                let certs = pem_certificates(cert, "sslcert")?;
                let key = PrivateKeyDer::from_pem_file(key)
                    .map_err(|e| tls_file_error(key, "sslkey", &e.to_string()))?;
                builder
                    .with_client_auth_cert(certs, key)
                    .map_err(|e| tls_file_error(cert, "sslcert", &e.to_string()))?
            }
        };
        Ok(MakeRustlsConnect::new(config))
    }
}

/// `sslmode=prefer` without roots, for pgBouncer's admin console on loopback:
/// TLS when pgBouncer offers it (its `client_tls_sslmode` may require it),
/// the certificate unchecked, as libpq's default does.
pub(crate) fn prefer_unverified() -> MakeRustlsConnect {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .expect("ring supports the default protocol versions")
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AcceptAny(provider)))
        .with_no_client_auth();
    MakeRustlsConnect::new(config)
}

fn tls_file_error(_path: &Path, parameter: &str, reason: &str) -> Error {
    Error::new(format!("the DSN's `{parameter}` file: {reason}")).kind(ErrorKind::Config)
}

fn pem_certificates(path: &Path, parameter: &str) -> Result<Vec<CertificateDer<'static>>> {
    let certs = CertificateDer::pem_file_iter(path)
        .and_then(|i| i.collect::<Result<Vec<_>, _>>())
        .map_err(|e| tls_file_error(path, parameter, &e.to_string()))?;
    if certs.is_empty() {
        return Err(tls_file_error(path, parameter, "holds no PEM certificate"));
    }
    Ok(certs)
}

/// libpq refuses a private key others may read: at most 0600 when the key is
/// ours, 0640 when root owns it.
fn check_key_mode(dsn: &Dsn, key: &Path) -> Result<()> {
    use std::os::unix::fs::MetadataExt;
    let Ok(meta) = std::fs::metadata(key) else {
        return Ok(());
    };
    let mode = meta.mode() & 0o777;
    let limit = if meta.uid() == 0 { 0o640 } else { 0o600 };
    if mode & !limit != 0 {
        return Err(config_error(
            dsn,
            format!("`sslkey` file has mode {mode:04o}: others may read the private key"),
        )
        .hint(format!("chmod {limit:04o} the file, as libpq requires")));
    }
    Ok(())
}

/// `require` and `prefer` without roots: encrypted, the peer unauthenticated
/// (libpq's behaviour). The handshake's signatures are still checked.
#[derive(Debug)]
struct AcceptAny(Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAny {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// `verify-ca`: the chain must lead to a trusted root; the name is not checked.
#[derive(Debug)]
struct ChainOnly(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
        {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(query: &str) -> Result<TlsSettings> {
        TlsSettings::from_dsn(&Dsn::parse(&format!("postgres://u:p@h/db{query}")).unwrap())
    }

    #[test]
    fn modes_follow_libpq() {
        assert_eq!(settings("").unwrap().mode, Mode::Prefer);
        assert_eq!(settings("?sslmode=disable").unwrap().mode, Mode::Disable);
        assert!(settings("?sslmode=require").unwrap().mode.requires_tls());
        let error = settings("?sslmode=verify_full").unwrap_err();
        assert!(error.message().contains("`sslmode` is not an sslmode"));
        assert!(!error.message().contains("verify_full"));
        let error = settings("?sslmode=verify-full").unwrap_err();
        assert!(
            error.message().contains("no root certificate is given"),
            "{}",
            error.message()
        );
        let error = settings("?sslmode=require&sslrootcert=system").unwrap_err();
        assert!(error.message().contains("needs `sslmode=verify-full`"));
        assert!(settings("?sslmode=verify-full&sslrootcert=system").is_ok());
        let error = settings("?sslmode=require&sslrootcert=/no/such/ca.crt").unwrap_err();
        assert!(error.message().contains("cannot be read"));
        let error = settings("?sslmode=require&sslkey=/no/such.key").unwrap_err();
        assert!(error
            .message()
            .contains("`sslkey` is given without `sslcert`"));
    }
}

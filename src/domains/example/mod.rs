//! A test-only domain, compiled with the `example-domain` feature: it manages
//! one text file from `[example_domain]`. It exists to prove the recipe in
//! docs/architecture.md: a domain is its own folder, plus one line in
//! `domains/mod.rs`, one field in `config/raw.rs` and entries in
//! `engine/registry.rs`. It never ships in a release build.

pub mod diff;
pub mod raw;
pub mod resolve;

pub use diff::Operation;

use std::path::PathBuf;

/// The file the section declares.
#[derive(Debug, Clone)]
pub struct Desired {
    pub path: PathBuf,
    pub text: String,
}

/// The file as found: its text, or `None` when missing.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Live {
    pub text: Option<String>,
}

pub fn observe(desired: &Desired) -> crate::error::Result<Live> {
    match std::fs::read_to_string(&desired.path) {
        Ok(text) => Ok(Live { text: Some(text) }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Live { text: None }),
        Err(e) => Err(crate::error::Error::new(format!(
            "cannot read `{}`: {}",
            desired.path.display(),
            crate::util::files::io_reason(&e)
        ))),
    }
}

pub fn apply(
    changes: &[&crate::plan::Planned<Operation>],
    sink: &dyn crate::events::EventSink,
) -> crate::error::Result<()> {
    for planned in changes {
        let Operation::Write { path, text } = &planned.operation;
        crate::util::files::write_atomic(path, text.as_bytes(), 0o644, None)?;
        sink.emit(crate::events::Event::new(
            "example.written",
            &planned.change.address,
        ));
    }
    Ok(())
}

//! Where output goes: data meant to be piped on stdout (reports, plans, JSON),
//! everything else on stderr (warnings, errors, progress). Styles are applied
//! only when color is on, and the text reads the same without them.

use std::io::Write;

use crate::diagnostics::Warning;
use crate::error::Errors;

#[derive(Debug, Clone, Copy)]
pub(crate) struct Printer {
    pub(crate) color: bool,
}

impl Printer {
    pub(crate) fn new(color: bool) -> Self {
        Self { color }
    }

    /// Data on stdout, flushed.
    pub(crate) fn out(&self, text: &str) {
        let mut stdout = std::io::stdout().lock();
        let _ = stdout.write_all(text.as_bytes());
        let _ = stdout.flush();
    }

    /// A line for people on stderr.
    pub(crate) fn note(&self, text: &str) {
        let mut stderr = std::io::stderr().lock();
        let _ = writeln!(stderr, "{text}");
    }

    pub(crate) fn warnings(&self, warnings: &[Warning]) {
        let style = console::Style::new()
            .yellow()
            .bold()
            .force_styling(self.color);
        for warning in warnings {
            self.note(&format!("{} {warning}", style.apply_to("warning:")));
        }
    }

    pub(crate) fn errors(&self, errors: &Errors) {
        let style = console::Style::new().red().bold().force_styling(self.color);
        let list = errors.list();
        for error in list {
            self.note(&format!("{} {error}", style.apply_to("error:")));
        }
        if list.len() > 1 {
            self.note(&format!(
                "{} problems found; nothing was changed",
                list.len()
            ));
        }
    }
}

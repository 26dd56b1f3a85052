//! `[example_domain]` resolved.

use super::raw::RawExample;
use super::Desired;
use crate::diagnostics::Resolver;
use crate::error::Result;

pub(crate) fn resolve(raw: &RawExample, r: &Resolver<'_>) -> Result<Desired> {
    if raw.text.chars().any(|c| c.is_control() && c != '\n') {
        return Err(r
            .key(&["example_domain", "text"])
            .error("holds a control character"));
    }
    Ok(Desired {
        path: raw.path.clone().into(),
        text: raw.text.clone(),
    })
}

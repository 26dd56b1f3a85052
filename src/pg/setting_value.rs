//! Setting values and their comparison after normalization by the setting's
//! type and unit, as `pg_settings` describes them: `60s` = `1min` = `60000ms`,
//! `128MB` = `16384` pages of 8kB, `on` = `true` = `yes` = `1`, enum values
//! case-insensitive. Pure: no I/O.

use schemars::JsonSchema;
use serde::Deserialize;

/// A value as written in `[server.settings]`: plain, or a secret reference
/// (`{ env = "..." }`, `{ file = "..." }`) for one that carries a credential.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(untagged)]
pub(crate) enum SettingValue {
    Bool(bool),
    Integer(i64),
    Float(f64),
    Text(String),
    Secret(crate::secret::SecretRef),
}

impl SettingValue {
    /// The text PostgreSQL is given: booleans as `on`/`off`; `None` for a
    /// secret reference, which its section resolves.
    pub(crate) fn to_config_text(&self) -> Option<String> {
        Some(match self {
            SettingValue::Bool(true) => "on".into(),
            SettingValue::Bool(false) => "off".into(),
            SettingValue::Integer(i) => i.to_string(),
            SettingValue::Float(f) => f.to_string(),
            SettingValue::Text(t) => t.clone(),
            SettingValue::Secret(_) => return None,
        })
    }
}

/// The type of a setting, from `pg_settings.vartype`; a type this dbops
/// does not know is compared as text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum VarType {
    Bool,
    Integer,
    Real,
    Enum,
    #[serde(other)]
    String,
}

/// When a setting can change, from `pg_settings.context`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Context {
    /// Fixed when the cluster is created or built.
    Internal,
    /// Needs a server restart.
    Postmaster,
    /// A configuration reload.
    Sighup,
    SuperuserBackend,
    Backend,
    Superuser,
    User,
    /// A context this dbops does not know: treated as a reload.
    #[serde(other)]
    Other,
}

/// What `pg_settings` says about one setting.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Spec {
    pub(crate) name: String,
    pub(crate) vartype: VarType,
    /// `pg_settings.unit`: `8kB`, `kB`, `MB`, `B`, `ms`, `s`, `min`, or none.
    pub(crate) unit: Option<String>,
    pub(crate) enumvals: Vec<String>,
    pub(crate) min: Option<f64>,
    pub(crate) max: Option<f64>,
}

/// A value reduced to what PostgreSQL would store, comparable for equality.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Normalized {
    Bool(bool),
    /// In the setting's own unit, rounded as PostgreSQL rounds integers.
    Number(f64),
    Text(String),
}

impl Normalized {
    pub(crate) fn same_as(&self, other: &Normalized) -> bool {
        match (self, other) {
            (Normalized::Number(a), Normalized::Number(b)) => {
                (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
            }
            (a, b) => a == b,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dimension {
    Memory,
    Time,
}

/// Size of a unit in bytes (memory) or milliseconds (time).
fn unit_factor(unit: &str) -> Option<(Dimension, f64)> {
    let (multiplier, name) = match unit.find(|c: char| !c.is_ascii_digit()) {
        Some(0) | None => (1.0, unit),
        Some(at) => (unit[..at].parse::<f64>().ok()?, &unit[at..]),
    };
    let (dimension, factor) = match name {
        "B" => (Dimension::Memory, 1.0),
        "kB" => (Dimension::Memory, 1024.0),
        "MB" => (Dimension::Memory, 1024.0 * 1024.0),
        "GB" => (Dimension::Memory, 1024.0 * 1024.0 * 1024.0),
        "TB" => (Dimension::Memory, 1024.0 * 1024.0 * 1024.0 * 1024.0),
        "us" => (Dimension::Time, 0.001),
        "ms" => (Dimension::Time, 1.0),
        "s" => (Dimension::Time, 1000.0),
        "min" => (Dimension::Time, 60_000.0),
        "h" => (Dimension::Time, 3_600_000.0),
        "d" => (Dimension::Time, 86_400_000.0),
        _ => return None,
    };
    Some((dimension, multiplier * factor))
}

/// PostgreSQL's boolean spellings: `on`, `off`, and prefixes of `true`,
/// `false`, `yes`, `no`; `1` and `0`.
pub(crate) fn parse_bool(text: &str) -> Option<bool> {
    let t = text.trim().to_ascii_lowercase();
    if t.is_empty() {
        return None;
    }
    match t.as_str() {
        "on" | "1" => return Some(true),
        "off" | "of" | "0" => return Some(false),
        _ => {}
    }
    if "true".starts_with(&t) || "yes".starts_with(&t) {
        Some(true)
    } else if "false".starts_with(&t) || "no".starts_with(&t) {
        Some(false)
    } else {
        None
    }
}

/// Splits `60s` into (60.0, Some("s")); `-1` into (-1.0, None).
fn split_number(text: &str) -> Option<(f64, Option<&str>)> {
    let t = text.trim();
    let end = t
        .char_indices()
        .find(|(i, c)| {
            !(c.is_ascii_digit()
                || *c == '.'
                || ((*c == '-' || *c == '+') && *i == 0)
                || *c == 'e' && *i > 0)
        })
        .map_or(t.len(), |(i, _)| i);
    let number = t[..end].parse::<f64>().ok()?;
    let unit = t[end..].trim();
    Some((number, (!unit.is_empty()).then_some(unit)))
}

/// Normalizes `text` for the setting `spec`, or says why PostgreSQL would refuse it.
pub(crate) fn normalize(spec: &Spec, text: &str) -> Result<Normalized, String> {
    match spec.vartype {
        VarType::Bool => parse_bool(text)
            .map(Normalized::Bool)
            .ok_or_else(|| format!("`{text}` is not a boolean (use `on` or `off`)")),
        VarType::String => Ok(Normalized::Text(text.to_string())),
        VarType::Enum => {
            let lower = text.trim().to_ascii_lowercase();
            if let Some(found) = spec
                .enumvals
                .iter()
                .find(|v| v.eq_ignore_ascii_case(&lower))
            {
                return Ok(Normalized::Text(found.to_ascii_lowercase()));
            }
            // Boolean-valued enums (archive_mode, ...) take boolean spellings too.
            let has = |v: &str| spec.enumvals.iter().any(|e| e == v);
            if has("on") && has("off") {
                if let Some(b) = parse_bool(&lower) {
                    return Ok(Normalized::Text(if b { "on" } else { "off" }.into()));
                }
            }
            Err(format!(
                "`{text}` is not one of {}",
                spec.enumvals
                    .iter()
                    .map(|v| format!("`{v}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        }
        VarType::Integer | VarType::Real => {
            let (number, unit) = split_number(text)
                .ok_or_else(|| format!("`{text}` is not a number{}", unit_hint(spec)))?;
            let mut value = match (unit, spec.unit.as_deref()) {
                (None, _) => number,
                (Some(given), Some(own)) => {
                    let (given_dim, given_factor) = unit_factor(given).ok_or_else(|| {
                        format!(
                            "`{given}` is not a unit PostgreSQL knows{}",
                            unit_hint(spec)
                        )
                    })?;
                    let (own_dim, own_factor) =
                        unit_factor(own).ok_or_else(|| format!("unknown unit `{own}`"))?;
                    if given_dim != own_dim {
                        return Err(format!(
                            "`{text}` is not a {}{}",
                            dimension_name(own_dim),
                            unit_hint(spec)
                        ));
                    }
                    number * given_factor / own_factor
                }
                (Some(given), None) => {
                    return Err(format!(
                        "`{text}` has a unit (`{given}`), but `{}` takes a plain number",
                        spec.name
                    ))
                }
            };
            if spec.vartype == VarType::Integer {
                value = value.round_ties_even();
            }
            if let (Some(min), Some(max)) = (spec.min, spec.max) {
                if value < min || value > max {
                    let unit = spec
                        .unit
                        .as_deref()
                        .map(|u| format!(" (in {u})"))
                        .unwrap_or_default();
                    return Err(format!(
                        "`{text}` is out of range: `{}` accepts {min} to {max}{unit}",
                        spec.name
                    ));
                }
            }
            Ok(Normalized::Number(value))
        }
    }
}

fn dimension_name(dimension: Dimension) -> &'static str {
    match dimension {
        Dimension::Memory => "memory size",
        Dimension::Time => "duration",
    }
}

fn unit_hint(spec: &Spec) -> String {
    match spec.unit.as_deref().and_then(unit_factor) {
        Some((Dimension::Memory, _)) => " (write e.g. `128MB`, `64kB`)".into(),
        Some((Dimension::Time, _)) => " (write e.g. `60s`, `5min`, `250ms`)".into(),
        None => String::new(),
    }
}

/// Parses a duration the way PostgreSQL does (`60s`, `5min`, `1h`, a bare
/// number in `default_unit`) into milliseconds. For lints before connecting.
pub(crate) fn duration_ms(text: &str, default_unit: &str) -> Option<f64> {
    let (number, unit) = split_number(text)?;
    let (dimension, factor) = unit_factor(unit.unwrap_or(default_unit))?;
    (dimension == Dimension::Time).then_some(number * factor)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(vartype: VarType, unit: Option<&str>, min: f64, max: f64) -> Spec {
        Spec {
            name: "x".into(),
            vartype,
            unit: unit.map(str::to_string),
            enumvals: vec![],
            min: Some(min),
            max: Some(max),
        }
    }

    fn same(spec: &Spec, a: &str, b: &str) -> bool {
        normalize(spec, a)
            .unwrap()
            .same_as(&normalize(spec, b).unwrap())
    }

    #[test]
    fn time_settings() {
        // archive_timeout: integer, unit s.
        let s = spec(VarType::Integer, Some("s"), 0.0, 1073741823.0);
        for (a, b, equal) in [
            ("60s", "1min", true),
            ("60s", "60000ms", true),
            ("60", "1min", true),
            ("1h", "3600", true),
            ("1d", "86400s", true),
            ("60s", "61s", false),
            ("1min", "1h", false),
            ("1500ms", "2", true), // rounds half to even, as PostgreSQL
            ("2500ms", "2", true),
        ] {
            assert_eq!(same(&s, a, b), equal, "{a} vs {b}");
        }
        // log_min_duration_statement: integer, unit ms, -1 disables.
        let s = spec(VarType::Integer, Some("ms"), -1.0, 2147483647.0);
        assert!(same(&s, "-1", "-1"));
        assert!(same(&s, "250ms", "250"));
        assert!(same(&s, "1s", "1000"));
        assert!(!same(&s, "1s", "100"));
    }

    #[test]
    fn memory_settings() {
        // shared_buffers: integer, unit 8kB.
        let s = spec(VarType::Integer, Some("8kB"), 16.0, 1073741823.0);
        assert!(same(&s, "128MB", "16384"));
        assert!(same(&s, "1GB", "131072"));
        assert!(same(&s, "131072kB", "128MB"));
        assert!(!same(&s, "128MB", "128"));
        // work_mem: integer, unit kB.
        let s = spec(VarType::Integer, Some("kB"), 64.0, 2147483647.0);
        assert!(same(&s, "4MB", "4096"));
        assert!(!same(&s, "4MB", "4000"));
        assert!(normalize(&s, "60s")
            .unwrap_err()
            .contains("not a memory size"));
    }

    #[test]
    fn boolean_settings() {
        let s = spec(VarType::Bool, None, 0.0, 0.0);
        for spelling in ["on", "ON", "true", "yes", "1", "t", "y", "tru"] {
            assert_eq!(
                normalize(&s, spelling).unwrap(),
                Normalized::Bool(true),
                "{spelling}"
            );
        }
        for spelling in ["off", "false", "no", "0", "f", "n", "of"] {
            assert_eq!(
                normalize(&s, spelling).unwrap(),
                Normalized::Bool(false),
                "{spelling}"
            );
        }
        assert!(normalize(&s, "maybe").is_err());
        assert!(normalize(&s, "o").is_err());
    }

    #[test]
    fn enum_settings() {
        let s = Spec {
            name: "wal_level".into(),
            vartype: VarType::Enum,
            unit: None,
            enumvals: vec!["minimal".into(), "replica".into(), "logical".into()],
            min: None,
            max: None,
        };
        assert!(same(&s, "REPLICA", "replica"));
        assert!(!same(&s, "replica", "logical"));
        assert!(normalize(&s, "archive")
            .unwrap_err()
            .contains("`minimal`, `replica`, `logical`"));
        let archive_mode = Spec {
            enumvals: vec!["always".into(), "on".into(), "off".into()],
            ..s
        };
        assert!(same(&archive_mode, "true", "on"));
        assert!(same(&archive_mode, "On", "yes"));
        assert!(!same(&archive_mode, "always", "on"));
    }

    #[test]
    fn real_settings() {
        // checkpoint_completion_target: real, no unit.
        let s = spec(VarType::Real, None, 0.0, 1.0);
        assert!(same(&s, "0.9", "0.90"));
        assert!(!same(&s, "0.9", "0.09"));
        assert!(normalize(&s, "1.5").unwrap_err().contains("out of range"));
        assert!(normalize(&s, "0.5s")
            .unwrap_err()
            .contains("takes a plain number"));
        // vacuum_cost_delay: real, unit ms.
        let s = spec(VarType::Real, Some("ms"), 0.0, 100.0);
        assert!(same(&s, "2ms", "2"));
        assert!(same(&s, "0.5ms", "500us"));
    }

    #[test]
    fn strings_compare_exactly() {
        let s = spec(VarType::String, None, 0.0, 0.0);
        assert!(same(
            &s,
            "cp '%p' \"/a b/%f\" && true",
            "cp '%p' \"/a b/%f\" && true"
        ));
        assert!(!same(&s, "wal-g wal-push %p", "wal-g  wal-push %p"));
    }

    #[test]
    fn out_of_range_and_not_numbers() {
        let s = spec(VarType::Integer, None, 1.0, 262143.0);
        assert!(normalize(&s, "0")
            .unwrap_err()
            .contains("out of range: `x` accepts 1 to 262143"));
        assert!(normalize(&s, "lots")
            .unwrap_err()
            .contains("is not a number"));
    }

    #[test]
    fn durations_for_lints() {
        assert_eq!(duration_ms("5m", "s"), None);
        assert_eq!(duration_ms("5min", "s"), Some(300_000.0));
        assert_eq!(duration_ms("60", "s"), Some(60_000.0));
    }
}

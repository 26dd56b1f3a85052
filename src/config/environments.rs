//! `[environments.NAME]` and `[rollout]`: one file, several deployments.
//!
//! The shared declarations are the top level; each environment's table
//! overrides what differs. The merge rules, defined here once: tables merge
//! key by key; a value replaces a value; a secret reference (`{ env = ... }`,
//! `{ file = ... }`) is a value; arrays (of tables too: `[[grants]]`,
//! `[[restore_test.checks]]`) are replaced whole; an environment may add a
//! table the top level lacks. Merged values keep the spans where they are
//! written, so every later error names the line of the override itself.
//! This module reads the document only: it never resolves a secret and
//! never opens a connection.

use toml_edit::{Document, Item, Key, Table, TableLike, Value};

use crate::error::{Error, Location};
use crate::util::suggest::did_you_mean;

use super::source::SourceFile;

/// The key of the environments' tables.
pub(crate) const ENVIRONMENTS: &str = "environments";
/// The key of the staged apply's order.
pub(crate) const ROLLOUT: &str = "rollout";

/// The longest environment name: it becomes part of Kubernetes object names
/// (63 characters, with `dbops-` and the job's word around it).
const MAX_NAME: usize = 40;

/// The environments a file declares, in file order, and its rollout stages.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Environments {
    pub(crate) names: Vec<String>,
    /// `[rollout] order`: stages of one or more environments each.
    pub(crate) rollout: Option<Vec<Vec<String>>>,
}

impl Environments {
    pub(crate) fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// The names, for a hint: `` `staging`, `prod` ``.
    pub(crate) fn listed(&self) -> String {
        self.names
            .iter()
            .map(|n| format!("`{n}`"))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// `name` if declared, else an error naming the ones that are.
    pub(crate) fn check(&self, name: &str, file: &str) -> Result<(), Error> {
        if self.names.iter().any(|n| n == name) {
            return Ok(());
        }
        if self.names.is_empty() {
            return Err(Error::config(format!(
                "unknown environment `{name}`: `{file}` declares no `[environments.NAME]` table"
            ))
            .hint("drop `--environment` (and `DBOPS_ENVIRONMENT`), or declare the environment in the file"));
        }
        let error = Error::config(format!(
            "unknown environment `{name}`: `{file}` declares {}",
            self.listed()
        ));
        Err(
            match did_you_mean(name, self.names.iter().map(String::as_str)) {
                Some(suggestion) => error.hint(suggestion),
                None => error.hint("pass one of the declared names to `--environment`"),
            },
        )
    }
}

/// Reads `[environments]` and `[rollout]`, reporting every problem of their
/// shape: names, sections an override names, the rollout's stages.
/// `sections` are the top-level sections an override may name.
pub(crate) fn declared(
    source: &SourceFile,
    document: &Document<String>,
    sections: &[String],
) -> (Environments, Vec<Error>) {
    let mut errors = Vec::new();
    let mut found = Environments::default();
    let root = document.as_table();
    let locate = |path: &[&str]| source.locate(path);
    if let Some(item) = root.get(ENVIRONMENTS) {
        let Some(table) = item.as_table_like() else {
            errors.push(
                Error::config("`environments` must be a table of tables: `[environments.NAME]`")
                    .at(locate(&[ENVIRONMENTS])),
            );
            return (found, errors);
        };
        for (name, entry) in table.iter() {
            let at = locate(&[ENVIRONMENTS, name]);
            if let Err(error) = check_name(name) {
                errors.push(error.at(at.clone()).key(format!("{ENVIRONMENTS}.{name}")));
                continue;
            }
            let Some(overrides) = entry.as_table_like() else {
                errors.push(
                    Error::config(format!(
                        "environment `{name}` must be a table of overrides: `[environments.{name}.postgres]`"
                    ))
                    .at(at),
                );
                continue;
            };
            for (section, _) in overrides.iter() {
                if sections.iter().any(|s| s == section) {
                    continue;
                }
                let at = locate(&[ENVIRONMENTS, name, section]);
                errors.push(unknown_section(name, section, sections).at(at));
            }
            found.names.push(name.to_string());
        }
    }
    if let Some(item) = root.get(ROLLOUT) {
        match rollout(item, &found, &source.name, &locate) {
            Ok(order) => found.rollout = Some(order),
            Err(mut more) => errors.append(&mut more),
        }
    }
    (found, errors)
}

/// An override of a section the file format does not have.
fn unknown_section(environment: &str, section: &str, sections: &[String]) -> Error {
    let error = Error::config(format!(
        "environment `{environment}` overrides `{section}`, which is not a section of dbops.toml"
    ))
    .key(format!("{ENVIRONMENTS}.{environment}.{section}"));
    if section == ENVIRONMENTS || section == ROLLOUT {
        return error.hint(format!(
            "`[{section}]` is declared once, at the top level, never inside an environment"
        ));
    }
    match did_you_mean(section, sections.iter().map(String::as_str)) {
        Some(suggestion) => error.hint(suggestion),
        None => error.hint(
            "an environment overrides top-level sections only; `schemas/dbops.schema.json` lists them",
        ),
    }
}

/// Lowercase letters, digits and `-`, starting with a letter: the name goes
/// into Kubernetes object names, systemd unit names, metric labels and file
/// names, and must mean the same in each.
fn check_name(name: &str) -> Result<(), Error> {
    let shaped = name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && !name.ends_with('-')
        && name.len() <= MAX_NAME;
    if shaped {
        return Ok(());
    }
    Err(Error::config(format!(
        "environment name `{}` is not usable: names are lowercase letters, digits and `-`, start with a letter, end with a letter or digit, at most {MAX_NAME} characters",
        crate::error::one_line(name)
    ))
    .hint("the name becomes part of Kubernetes object names, systemd units and metric labels; rename it, e.g. `prod-eu`"))
}

/// `[rollout] order = [["staging"], ["prod-eu", "prod-us"]]`: every declared
/// environment exactly once, no empty stage.
fn rollout(
    item: &Item,
    environments: &Environments,
    file: &str,
    locate: &dyn Fn(&[&str]) -> Option<Location>,
) -> Result<Vec<Vec<String>>, Vec<Error>> {
    let shape = || {
        Error::config(
            "`[rollout] order` must be a list of stages, each a list of environment names: `order = [[\"staging\"], [\"prod-eu\", \"prod-us\"]]`",
        )
    };
    let Some(table) = item.as_table_like() else {
        return Err(vec![shape().at(locate(&[ROLLOUT]))]);
    };
    let mut errors = Vec::new();
    for (key, _) in table.iter() {
        if key != "order" {
            errors.push(
                Error::config(format!(
                    "unknown field `{key}` in `[rollout]`, expected `order`"
                ))
                .at(locate(&[ROLLOUT, key]))
                .key(format!("{ROLLOUT}.{key}")),
            );
        }
    }
    let Some(order) = table.get("order") else {
        errors.push(shape().at(locate(&[ROLLOUT])).key("rollout.order"));
        return Err(errors);
    };
    let Some(stages) = order.as_array() else {
        errors.push(shape().at(locate(&[ROLLOUT, "order"])));
        return Err(errors);
    };
    let mut seen: Vec<String> = Vec::new();
    let mut out = Vec::new();
    for (index, stage) in stages.iter().enumerate() {
        let at = stage
            .span()
            .map(|_| ())
            .and(locate(&[ROLLOUT, "order", &index.to_string()]));
        let names: Option<Vec<&str>> = stage
            .as_array()
            .map(|a| a.iter().map(Value::as_str).collect::<Option<Vec<_>>>())
            .unwrap_or(None);
        let Some(names) = names.filter(|n| !n.is_empty()) else {
            errors.push(shape().at(at).key("rollout.order").hint(format!(
                "stage {} is empty or not a list of names",
                index + 1
            )));
            continue;
        };
        for name in &names {
            if let Err(error) = environments.check(name, file) {
                errors.push(error.at(at.clone()).key("rollout.order"));
            } else if seen.iter().any(|s| s == name) {
                errors.push(
                    Error::config(format!(
                        "environment `{name}` is in `[rollout] order` twice"
                    ))
                    .at(at.clone())
                    .key("rollout.order")
                    .hint("each environment belongs to one stage"),
                );
            } else {
                seen.push(name.to_string());
            }
        }
        out.push(names.iter().map(|n| n.to_string()).collect());
    }
    let missing: Vec<&String> = environments
        .names
        .iter()
        .filter(|n| !seen.contains(n))
        .collect();
    if !missing.is_empty() && errors.is_empty() {
        let list: Vec<String> = missing.iter().map(|n| format!("`{n}`")).collect();
        errors.push(
            Error::config(format!(
                "`[rollout] order` leaves out {}: `apply --all-environments` would never apply it",
                list.join(", ")
            ))
            .at(locate(&[ROLLOUT, "order"]))
            .key("rollout.order")
            .hint("add it to a stage (a stage of its own runs after the ones before it)"),
        );
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// The shared declarations with environment `name`'s overrides merged in:
/// the root every later step reads. `[environments]` and `[rollout]` are
/// left out.
pub(crate) fn merged(document: &Document<String>, name: Option<&str>) -> Table {
    let mut root = document.as_table().clone();
    root.remove(ENVIRONMENTS);
    root.remove(ROLLOUT);
    let overrides = name.and_then(|name| {
        document
            .as_table()
            .get(ENVIRONMENTS)
            .and_then(Item::as_table_like)
            .and_then(|t| t.get(name))
            .and_then(Item::as_table_like)
    });
    if let Some(overrides) = overrides {
        merge(&mut root, overrides);
    }
    root
}

/// Merges `over` into `base`, key by key (the module's rules). A value
/// taken from `over` keeps its key as written there, span included.
fn merge(base: &mut Table, over: &dyn TableLike) {
    for (name, item) in over.iter() {
        let key = over
            .get_key_value(name)
            .map_or_else(|| Key::new(name), |(k, _)| k.clone());
        let both_tables = base
            .get(name)
            .is_some_and(|b| mergeable(b) && mergeable(item));
        if both_tables {
            let target = base.get_mut(name).expect("checked above");
            if let Item::Value(Value::InlineTable(inline)) = target {
                *target = Item::Table(std::mem::take(inline).into_table());
            }
            if let (Item::Table(table), Some(over)) = (target, item.as_table_like()) {
                merge(table, over);
            }
            continue;
        }
        base.remove(name);
        base.insert_formatted(&key, item.clone());
    }
}

/// A table that merges key by key: not a secret reference, not an array.
fn mergeable(item: &Item) -> bool {
    let Some(table) = item.as_table_like() else {
        return false;
    };
    if item.is_array_of_tables() {
        return false;
    }
    super::references::as_reference(table.iter().map(|(k, v)| (k, v.as_value()))).is_none()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn document(text: &str) -> Document<String> {
        Document::parse(text.to_string()).unwrap()
    }

    const FILE: &str = r#"
[postgres]
admin = { env = "DATABASE_ROOT_URL" }

[server.settings]
max_connections = "100"
work_mem = "8MB"

[[grants]]
role = "app"

[[grants]]
role = "report"

[environments.staging.postgres]
admin = { file = "/run/secrets/staging" }

[environments.staging.server.settings]
max_connections = "20"

[[environments.staging.grants]]
role = "only"

[environments.prod.pooler]
listen_port = 6432
"#;

    #[test]
    fn tables_merge_key_by_key_and_arrays_and_references_are_replaced_whole() {
        let doc = document(FILE);
        let staging = merged(&doc, Some("staging"));
        let text = staging.to_string();
        let admin = staging["postgres"]["admin"].as_inline_table().unwrap();
        assert_eq!(admin.len(), 1, "{text}");
        assert_eq!(
            admin.get("file").unwrap().as_str(),
            Some("/run/secrets/staging")
        );
        let settings = staging["server"]["settings"].as_table_like().unwrap();
        assert_eq!(
            settings.get("max_connections").unwrap().as_str(),
            Some("20")
        );
        assert_eq!(settings.get("work_mem").unwrap().as_str(), Some("8MB"));
        let grants = staging["grants"].as_array_of_tables().unwrap();
        assert_eq!(grants.len(), 1);
        assert!(staging.get(ENVIRONMENTS).is_none());
        let prod = merged(&doc, Some("prod"));
        assert_eq!(prod["pooler"]["listen_port"].as_integer(), Some(6432));
        assert_eq!(prod["grants"].as_array_of_tables().unwrap().len(), 2);
    }

    #[test]
    fn merged_values_keep_the_span_of_the_override() {
        let doc = document(FILE);
        let staging = merged(&doc, Some("staging"));
        let span = staging["server"]["settings"]["max_connections"]
            .span()
            .unwrap();
        assert_eq!(&FILE[span], "\"20\"");
        let span = staging["server"]["settings"]["work_mem"].span().unwrap();
        assert_eq!(&FILE[span], "\"8MB\"");
    }

    #[test]
    fn names_sections_and_rollouts_are_checked() {
        let text = format!(
            "{FILE}\n[environments.Bad_Name.postgres]\nx = 1\n[environments.qa.postgress]\nx = 1\n[rollout]\norder = [[\"staging\"], [\"prod\", \"nope\"]]\n"
        );
        let source = SourceFile::new("dbops.toml".into(), text.clone());
        let doc = document(&text);
        let sections: Vec<String> = ["postgres", "server", "grants", "pooler"]
            .map(String::from)
            .to_vec();
        let (found, errors) = declared(&source, &doc, &sections);
        assert_eq!(found.names, ["staging", "prod", "qa"]);
        let messages: Vec<String> = errors.iter().map(ToString::to_string).collect();
        let all = messages.join("\n");
        assert!(
            all.contains("environment name `Bad_Name` is not usable"),
            "{all}"
        );
        assert!(all.contains("overrides `postgress`"), "{all}");
        assert!(all.contains("did you mean `postgres`"), "{all}");
        assert!(all.contains("unknown environment `nope`"), "{all}");
        assert!(all.contains("dbops.toml:"), "{all}");
    }

    #[test]
    fn a_rollout_must_name_every_environment_once() {
        let text = format!("{FILE}\n[rollout]\norder = [[\"staging\"]]\n");
        let source = SourceFile::new("dbops.toml".into(), text.clone());
        let (_, errors) = declared(&source, &document(&text), crate::config::sections());
        assert!(
            errors[0].to_string().contains("leaves out `prod`"),
            "{}",
            errors[0]
        );
        let text = format!("{FILE}\n[rollout]\norder = [[\"staging\", \"prod\"], [\"prod\"]]\n");
        let source = SourceFile::new("dbops.toml".into(), text.clone());
        let (_, errors) = declared(&source, &document(&text), crate::config::sections());
        assert!(errors[0].to_string().contains("twice"), "{}", errors[0]);
        let text = format!("{FILE}\n[rollout]\norder = [[\"staging\"], [\"prod\"]]\n");
        let source = SourceFile::new("dbops.toml".into(), text.clone());
        let (found, errors) = declared(&source, &document(&text), crate::config::sections());
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(
            found.rollout.unwrap(),
            [vec!["staging".to_string()], vec!["prod".to_string()]]
        );
    }
}

//! The shape of the code, checked over its `crate::` paths: the plan depends
//! on nothing, renderers read only the plan, domains never import the config
//! parser or the engine, and no cycle runs through plan, config and the
//! domains. A domain plugs in through the registry touching at most three
//! files outside its own folder, which the example domain proves.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn sources() -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut out = Vec::new();
    let mut stack = vec![root.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path: PathBuf = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let relative = path.strip_prefix(&root).unwrap().display().to_string();
                out.push((relative, std::fs::read_to_string(&path).unwrap()));
            }
        }
    }
    out.sort();
    out
}

/// The unit a file belongs to: a top-level module, or `domains::NAME`.
fn unit_of_file(file: &str) -> String {
    let parts: Vec<&str> = file.trim_end_matches(".rs").split('/').collect();
    match parts.as_slice() {
        ["domains", "mod"] => "domains".into(),
        ["domains", name, ..] => format!("domains::{name}"),
        [first, ..] => first.to_string(),
        [] => unreachable!(),
    }
}

/// The units a file's code refers to through `crate::` paths (tests excluded).
fn references(text: &str) -> BTreeSet<String> {
    let code = match text.find("#[cfg(test)]\nmod tests") {
        Some(at) => &text[..at],
        None => text,
    };
    let mut out = BTreeSet::new();
    for (at, _) in code.match_indices("crate::") {
        let rest = &code[at + "crate::".len()..];
        let first: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if first == "domains" {
            let after = &rest["domains".len()..];
            if let Some(after) = after.strip_prefix("::") {
                let name: String = after
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() {
                    out.insert(format!("domains::{name}"));
                    continue;
                }
            }
            // `use crate::domains::{a, b}`: each listed domain.
            if let Some(list) = after.strip_prefix("::{") {
                for name in list.split('}').next().unwrap_or("").split(',') {
                    let name = name.trim();
                    if !name.is_empty() {
                        out.insert(format!("domains::{name}"));
                    }
                }
                continue;
            }
        }
        if !first.is_empty() {
            out.insert(first);
        }
    }
    out
}

fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (file, text) in sources() {
        let unit = unit_of_file(&file);
        let refs = references(&text);
        let entry = graph.entry(unit.clone()).or_default();
        entry.extend(refs.into_iter().filter(|r| *r != unit));
    }
    graph
}

#[test]
fn the_plan_depends_on_nothing() {
    let graph = graph();
    let plan = &graph["plan"];
    assert!(plan.is_empty(), "plan imports {plan:?}");
}

/// Renderers format data: the plan, and (for `--format json` failures) the
/// error list, itself a leaf that imports nothing.
#[test]
fn renderers_read_only_the_plan_and_errors() {
    let graph = graph();
    let render = &graph["render"];
    assert!(
        render.iter().all(|r| r == "plan" || r == "error"),
        "render imports {render:?}"
    );
    let error = &graph["error"];
    assert!(error.is_empty(), "error imports {error:?}");
}

#[test]
fn domains_never_import_config_the_engine_or_commands() {
    let graph = graph();
    for (unit, refs) in graph.iter().filter(|(u, _)| u.starts_with("domains")) {
        for forbidden in [
            "config", "engine", "commands", "render", "cli", "planfile", "printer",
        ] {
            assert!(
                !refs.contains(forbidden),
                "{unit} imports {forbidden}: {refs:?}"
            );
        }
    }
}

#[test]
fn no_cycle_between_plan_config_and_the_domains() {
    let graph = graph();
    // Depth-first search for a back edge.
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) {
        if done.contains(node) {
            return;
        }
        if let Some(at) = path.iter().position(|n| n == node) {
            panic!("import cycle: {} -> {node}", path[at..].join(" -> "));
        }
        path.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            visit(next, graph, path, done);
        }
        path.pop();
        done.insert(node.to_string());
    }
    let mut done = BTreeSet::new();
    for node in graph.keys() {
        visit(node, &graph, &mut Vec::new(), &mut done);
    }
}

#[test]
fn the_example_domain_touches_three_files_outside_its_folder() {
    let touching: Vec<String> = sources()
        .into_iter()
        .filter(|(file, _)| !file.starts_with("domains/example/"))
        .filter(|(_, text)| {
            text.contains("feature = \"example-domain\"")
                || text.contains("domains::example")
                || text.contains("example_domain")
        })
        .map(|(file, _)| file)
        .collect();
    assert_eq!(
        touching,
        vec!["config/raw.rs", "domains/mod.rs", "engine/registry.rs"],
        "the recipe in docs/architecture.md promises at most three files"
    );
}

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

/// The units a file's code refers to through `crate::` paths (tests
/// excluded): `crate::a::b`, and every path of a group, nested or not
/// (`use crate::{a, domains::{b, c}}`). A path into `domains` names the
/// domain (`domains::b`).
fn references(text: &str) -> BTreeSet<String> {
    let code = match text.find("#[cfg(test)]\nmod tests") {
        Some(at) => &text[..at],
        None => text,
    };
    let mut out = BTreeSet::new();
    for (at, _) in code.match_indices("crate::") {
        for path in paths(&code[at + "crate::".len()..]) {
            match path.as_slice() {
                [first, second, ..] if first == "domains" => {
                    out.insert(format!("domains::{second}"));
                }
                [first, ..] if first != "self" => {
                    out.insert(first.clone());
                }
                _ => {}
            }
        }
    }
    out
}

/// The paths a `use` tree starting at `rest` names, each as its segments.
fn paths(rest: &str) -> Vec<Vec<String>> {
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    if let Some(group) = rest.strip_prefix('{') {
        // Split the group at top-level commas, up to its closing brace.
        let mut depth = 0;
        let mut items = vec![String::new()];
        for c in group.chars() {
            match c {
                '{' => depth += 1,
                '}' if depth == 0 => break,
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    items.push(String::new());
                    continue;
                }
                _ => {}
            }
            items.last_mut().unwrap().push(c);
        }
        return items
            .iter()
            .map(|item| item.trim())
            .filter(|item| !item.is_empty())
            .flat_map(paths)
            .collect();
    }
    let first = ident(rest);
    if first.is_empty() {
        return Vec::new();
    }
    match rest[first.len()..].strip_prefix("::") {
        Some(tail) => {
            let mut nested = paths(tail);
            if nested.is_empty() {
                nested.push(Vec::new());
            }
            for path in &mut nested {
                path.insert(0, first.clone());
            }
            nested
        }
        None => vec![vec![first]],
    }
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
fn the_import_reader_sees_grouped_and_nested_paths() {
    let text = "use crate::{config, domains::{backup, pooler::render}, engine::registry};\nuse crate::plan::Plan;\nfn f() { crate::domains::grants::diff::x(); }\n";
    let found: Vec<String> = references(text).into_iter().collect();
    assert_eq!(
        found,
        vec![
            "config",
            "domains::backup",
            "domains::grants",
            "domains::pooler",
            "engine",
            "plan"
        ]
    );
}

/// The rules below fail on a planted forbidden import: the checker is not
/// vacuous.
#[test]
fn a_planted_forbidden_import_is_caught() {
    let mut graph = graph();
    graph
        .get_mut("domains::pooler")
        .unwrap()
        .extend(references("use crate::{error::Result, engine::registry};"));
    assert!(std::panic::catch_unwind(|| check_domains(&graph)).is_err());
    let mut graph = self::graph();
    graph.get_mut("domains::grants").unwrap().extend(references(
        "use crate::domains::{postgres::desired::DesiredPostgres};",
    ));
    assert!(std::panic::catch_unwind(|| check_domains(&graph)).is_err());
    let mut graph = self::graph();
    graph
        .get_mut("plan")
        .unwrap()
        .extend(references("use crate::{contract::DomainId};"));
    assert!(std::panic::catch_unwind(|| check_plan(&graph)).is_err());
}

fn check_plan(graph: &BTreeMap<String, BTreeSet<String>>) {
    let plan = &graph["plan"];
    assert!(plan.is_empty(), "plan imports {plan:?}");
}

/// Domains import neither the layers above them nor each other: what one
/// needs from another is a fact (`contract::facts`).
fn check_domains(graph: &BTreeMap<String, BTreeSet<String>>) {
    for (unit, refs) in graph.iter().filter(|(u, _)| u.starts_with("domains::")) {
        for forbidden in [
            "config", "engine", "commands", "render", "cli", "planfile", "printer",
        ] {
            assert!(
                !refs.contains(forbidden),
                "{unit} imports {forbidden}: {refs:?}"
            );
        }
        let others: Vec<&String> = refs
            .iter()
            .filter(|r| r.starts_with("domains::") && *r != unit)
            .collect();
        assert!(others.is_empty(), "{unit} reaches into {others:?}");
    }
}

#[test]
fn the_plan_depends_on_nothing() {
    check_plan(&graph());
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
fn domains_never_import_config_the_engine_commands_or_each_other() {
    check_domains(&graph());
}

/// The contract and the neutral modules it stands on know no domain.
#[test]
fn the_contract_knows_no_domain() {
    let graph = graph();
    for unit in [
        "contract",
        "managed_files",
        "s3",
        "pg",
        "events",
        "diagnostics",
        "metrics",
        "notify",
        "drill",
    ] {
        let refs = &graph[unit];
        assert!(
            !refs
                .iter()
                .any(|r| r.starts_with("domains") || r == "engine" || r == "config"),
            "{unit} imports {refs:?}"
        );
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

/// The places outside the example domain's folder that name it, each a
/// run of consecutive lines: `(file, sites)`.
fn example_sites() -> Vec<(String, usize)> {
    let mentions = |line: &str| {
        line.contains("feature = \"example-domain\"")
            || line.contains("domains::example")
            || line.contains("example_domain")
    };
    sources()
        .into_iter()
        .filter(|(file, _)| !file.starts_with("domains/example/"))
        .filter_map(|(file, text)| {
            let mut sites = 0;
            let mut previous = false;
            for line in text.lines() {
                let now = mentions(line);
                if now && !previous {
                    sites += 1;
                }
                previous = now;
            }
            (sites > 0).then_some((file, sites))
        })
        .collect()
}

#[test]
fn the_example_domain_touches_three_files_and_few_sites_outside_its_folder() {
    let sites = example_sites();
    let files: Vec<&str> = sites.iter().map(|(f, _)| f.as_str()).collect();
    assert_eq!(
        files,
        vec!["config/raw.rs", "domains/mod.rs", "engine/registry.rs"],
        "the recipe in docs/architecture.md promises at most three files"
    );
    let total: usize = sites.iter().map(|(_, n)| n).sum();
    assert!(total <= 6, "at most six edit sites: {sites:?}");
}

/// The registry is a table, not glue.
#[test]
fn the_registry_is_short() {
    let registry = sources()
        .into_iter()
        .find(|(file, _)| file == "engine/registry.rs")
        .unwrap()
        .1;
    assert!(
        registry.lines().count() <= 250,
        "engine/registry.rs has grown past 250 lines"
    );
}

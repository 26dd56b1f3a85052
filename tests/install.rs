//! What installing dbops relies on: `rust-version` in Cargo.toml is the real
//! minimum, at least the highest `rust-version` any locked dependency
//! declares (read from `cargo metadata`, so a dependency update that raises
//! it fails here instead of on a user's older toolchain).

fn version(text: &str) -> Vec<u64> {
    text.split('.').map(|n| n.parse().unwrap()).collect()
}

#[test]
fn rust_version_is_at_least_every_locked_dependency_s() {
    let manifest = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml");
    let out = std::process::Command::new(env!("CARGO"))
        .args([
            "metadata",
            "--format-version",
            "1",
            "--locked",
            "--manifest-path",
        ])
        .arg(&manifest)
        .output()
        .expect("cargo runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let metadata: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let packages = metadata["packages"].as_array().unwrap();
    let ours = packages
        .iter()
        .find(|p| p["name"] == "dbops")
        .and_then(|p| p["rust_version"].as_str())
        .expect("Cargo.toml declares rust-version");
    let (name, highest) = packages
        .iter()
        .filter(|p| p["name"] != "dbops")
        .filter_map(|p| Some((p["name"].as_str()?, p["rust_version"].as_str()?)))
        .max_by_key(|(_, v)| version(v))
        .unwrap();
    assert!(
        version(ours) >= version(highest),
        "rust-version = \"{ours}\" is below `{name}`'s {highest}: raise it in Cargo.toml"
    );
}

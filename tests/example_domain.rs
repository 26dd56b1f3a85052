//! The test-only example domain (`--features example-domain`), plugged in
//! through the registry like every real domain: validate counts it, plan shows
//! its change, apply carries it out and logs its event, and the next plan is
//! empty. Run by `scripts/test.sh` in a build with the feature.

use crate::support::deployment::{standard_config, Deployment};

#[test]
fn a_domain_added_by_the_recipe_plans_applies_and_converges() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("motd.txt");
    let config = format!(
        "{}\n[example_domain]\npath = \"{}\"\ntext = \"hello from the registry\\n\"\n",
        standard_config(),
        path.display()
    );
    let d = Deployment::with_config(&config);
    let validate = d.dbops.run(&["validate"]);
    validate.expect_code(0);
    assert!(
        validate.stdout.contains("1 example files"),
        "{}",
        validate.stdout
    );

    let plan = d.plan();
    plan.expect_code(2);
    assert!(
        plan.stdout.contains("+ example_domain.file"),
        "{}",
        plan.stdout
    );

    let apply = d
        .dbops
        .run(&["apply", "--auto-approve", "--log-format", "json"]);
    apply.expect_code(0);
    assert!(
        apply.stderr.contains("\"event\":\"example.written\""),
        "{}",
        apply.stderr
    );
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        "hello from the registry\n"
    );
    d.assert_converged();
}

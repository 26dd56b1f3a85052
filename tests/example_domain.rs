//! The test-only example domain (`--features example-domain`), plugged in
//! through the registry's table like every real domain: validate counts it,
//! plan shows its change (the file lists the roles the role domain says
//! exist: a fact it consumes), `--target example_domain` selects it, apply
//! writes exactly the text it published at plan time and logs its event, the
//! next plan is empty, and a saved plan's fingerprint sees its live state.
//! Run by `scripts/test.sh` in a build with the feature.

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
        validate.stdout.contains("1 example file."),
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

    // Targetable by its word, like any domain: only it is planned.
    let targeted = d
        .dbops
        .run(&["plan", "--target", "example_domain", "--detailed-exitcode"]);
    targeted.expect_code(2);
    assert!(
        targeted.stdout.contains("+ example_domain.file")
            && !targeted.stdout.contains("postgres.role"),
        "{}",
        targeted.stdout
    );
    assert!(
        targeted
            .stderr
            .contains("`--target` is in effect: planning `example_domain` only"),
        "{}",
        targeted.stderr
    );

    let apply = d
        .dbops
        .run(&["apply", "--auto-approve", "--log-format", "json"]);
    apply.expect_code(0);
    assert!(
        apply
            .stderr
            .contains("\"event\":\"file.written\",\"address\":\"example_domain.file\""),
        "{}",
        apply.stderr
    );
    let written = std::fs::read_to_string(&path).unwrap();
    assert!(
        written.starts_with("hello from the registry\n# roles: ") && written.contains("app_user"),
        "{written}"
    );
    d.assert_converged();

    // The saved plan's fingerprint covers the domain without any edit for it.
    d.dbops.run(&["plan", "--out", "saved.plan"]).expect_code(0);
    std::fs::write(&path, "changed by hand\n").unwrap();
    let stale = d.dbops.run(&["apply", "saved.plan"]);
    stale.expect_code(1);
    assert!(
        stale
            .stderr
            .contains("the live state changed since the plan was saved"),
        "{}",
        stale.stderr
    );
}

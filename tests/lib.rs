//! The integration suite: one binary, one module per feature, every test
//! against real servers started on 127.0.0.1 by `support`.

#![expect(
    clippy::too_many_lines,
    reason = "an end-to-end test reads as one story, from the servers it starts to its last assertion"
)]

mod support;

mod adoption;
mod apply_failure;
mod architecture;
mod archiving;
mod backup;
mod backup_copies;
mod backup_guide;
mod backup_runbook;
mod backup_sidecar;
mod bad_input;
mod bucket;
mod ci_workflows;
mod cli;
mod concurrency;
mod docs_tables;
mod drift;
mod dumps;
mod dumps_guide;
mod environments;
#[cfg(feature = "example-domain")]
mod example_domain;
mod examples;
mod grants;
mod guide;
mod hba;
mod hostile_names;
mod install;
mod json_errors;
mod monitoring;
mod outputs;
mod passwords;
mod planfile;
mod pooler;
mod pooler_proven;
mod rendered_grammar;
mod restore_test;
mod roles;
mod roles_absent;
mod round_trips;
mod schedule;
mod secrets;
mod security;
mod settings;
mod target;
mod tls;
mod trust;
mod trust_edges;
mod without_superuser;

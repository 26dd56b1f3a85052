//! Server settings under the contract: `[server.settings]`, plus the settings
//! continuous archiving needs (published by the backup domain while
//! resolving), checked so the file's own settings cannot defeat the backup.
//! Not observed when the file declares no setting.

use std::collections::BTreeMap;

use super::archiving::lint;
use super::desired::{DesiredSettings, Origin};
use super::hba::desired::ApplicationRole;
use super::live::LiveSettings;
use super::raw::RawServer;
use super::{apply, diff, observe, resolve, Operation};
use crate::contract::facts::{
    AdminConnection, Archiving, DeclaredRoles, DeclaredServer, RestartCommand,
};
use crate::contract::{Apply, Domain, DomainId, Facts, Observe};
use crate::diagnostics::Resolver;
use crate::error::{Errors, Result};
use crate::events::EventSink;
use crate::plan::{DomainDiff, Planned};
use crate::util::durations::short;

pub(crate) struct Settings;

/// `[server.hba]`: the application roles (those with a DSN) and the admin
/// come from the role domain's facts.
fn resolve_hba(
    raw: &super::hba::raw::RawHba,
    settings: &mut DesiredSettings,
    facts: &Facts,
    r: &mut Resolver<'_>,
) {
    let (Some(admin), Some(roles)) = (facts.get::<AdminConnection>(), facts.get::<DeclaredRoles>())
    else {
        return;
    };
    let application: Vec<ApplicationRole> = roles
        .0
        .iter()
        .filter_map(|(name, role)| {
            let (dsn, _) = role.dsn.as_ref()?;
            Some(ApplicationRole {
                name: name.clone(),
                database: dsn.database.clone(),
                tls: crate::pg::tls::TlsSettings::from_dsn(dsn)
                    .is_ok_and(|t| t.mode.requires_tls()),
            })
        })
        .collect();
    settings.admin_certificate = admin.dsn.params.contains_key("sslcert");
    settings.hba = super::hba::resolve::resolve(raw, &application, &admin.dsn.user, r);
}

impl Domain for Settings {
    const ID: DomainId = super::ID;
    type Raw<'a> = Option<&'a RawServer>;
    type Desired = DesiredSettings;
    type Live = LiveSettings;
    type Operation = Operation;
    type Inputs = ();
    type Outputs = ();

    fn resolve(
        raw: Option<&RawServer>,
        facts: &mut Facts,
        r: &mut Resolver<'_>,
    ) -> Option<DesiredSettings> {
        let mut settings = resolve::resolve(raw, r);
        if let Some(hba) = raw.and_then(|server| server.hba.as_ref()) {
            resolve_hba(hba, &mut settings, facts, r);
        }
        if let Some(archiving) = facts.get::<Archiving>() {
            resolve::derive(
                &mut settings,
                archiving.settings.clone(),
                Origin::Derived(archiving.section),
            );
            archive_lints(archiving, &settings, r);
        }
        if let Some(command) = &settings.restart_command {
            facts.publish(RestartCommand(command.clone()));
        }
        facts.publish(DeclaredServer {
            settings: settings
                .settings
                .values()
                .map(|s| (s.name.clone(), s.value.clone()))
                .collect(),
            prune: settings.prune,
            hba: settings.hba.as_ref().map(super::hba::render::render),
        });
        (!settings.is_empty()).then_some(settings)
    }

    fn summary(desired: Option<&DesiredSettings>) -> Vec<(&'static str, usize)> {
        vec![("settings", desired.map_or(0, |d| d.settings.len()))]
    }

    async fn observe(desired: &DesiredSettings, context: &Observe<'_>) -> Result<LiveSettings> {
        observe::observe(context.client, desired).await
    }

    fn statements(live: &LiveSettings) -> usize {
        live.statements
    }

    fn inputs(_facts: &Facts) {}

    fn diff(
        desired: &DesiredSettings,
        live: &LiveSettings,
        (): &(),
    ) -> Result<DomainDiff<Operation>, Errors> {
        diff::diff(desired, live)
    }

    async fn apply(
        _desired: &DesiredSettings,
        changes: &[&Planned<Operation>],
        context: &mut Apply<'_>,
        sink: &dyn EventSink,
    ) -> Result<()> {
        apply::apply(context.client, changes, sink).await
    }
}

/// Settings that would defeat the declared backup, each reported at the
/// setting the file writes, or at the section the archiving derives from.
fn archive_lints(archiving: &Archiving, settings: &DesiredSettings, r: &mut Resolver<'_>) {
    let effective: BTreeMap<String, String> = settings
        .settings
        .iter()
        .map(|(k, v)| (k.clone(), v.value.clone()))
        .collect();
    let section = archiving.section.trim_matches(|c| c == '[' || c == ']');
    for finding in lint(&short(archiving.rpo), archiving.rpo, &effective) {
        let key = match settings.settings.get(finding.setting).map(|s| s.origin) {
            Some(Origin::File) => r.key(&["server", "settings", finding.setting]),
            _ => r.key(&[section]),
        };
        if finding.error {
            r.error(key.error(finding.message).hint(format!(
                "fix the setting, or remove `{}` if this server is not backed up",
                archiving.section
            )));
        } else {
            r.warn(key.warning(finding.message));
        }
    }
}

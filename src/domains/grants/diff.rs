//! The grants diff: pure. For each declared scope, every object in it must hold
//! exactly the listed privileges for the role: missing ones are granted, others
//! revoked. Objects the role owns are skipped (an owner's rights are not grants);
//! nothing outside a declared scope is looked at. Changes come out grouped by
//! database, the order apply runs them in (one transaction per database).

use std::collections::{BTreeMap, BTreeSet};

use super::desired::{DesiredGrant, DesiredGrants, Scope};
use super::live::{LiveDatabaseGrants, LiveGrants};
use super::operation::{Operation, Statement, Target, Verb};
use super::privilege::{noun, valid, ObjectKind, Privilege};
use crate::error::{Error, Errors};
use crate::plan::{Action, Address, AttributeChange, Change, DomainDiff, Planned, Value};

/// The one schema a database created by this apply starts with.
const NEW_DATABASE_SCHEMA: &str = "public";

pub(crate) fn address(scope: &Scope) -> Address {
    match &scope.schema {
        // The same address the role domain gives the CONNECT it grants a DSN
        // role: whichever plans it, people see one object.
        None => super::ID
            .address()
            .word("grant")
            .name(&scope.role)
            .name(&scope.database)
            .word("database"),
        Some(schema) => super::ID
            .address()
            .word("grant")
            .name(&scope.role)
            .name(&scope.database)
            .name(schema)
            .word(noun(scope.on)),
    }
}

/// What the diff needs to know about roles, databases and owners, from the
/// facts the role and ownership domains publish.
#[derive(Debug, Clone, Default)]
pub(crate) struct Context {
    /// Roles that exist or will exist after the role changes.
    pub(crate) known_roles: BTreeSet<String>,
    /// Databases the role domain creates in this apply.
    pub(crate) created_databases: BTreeSet<String>,
    /// Databases whose owner this apply changes: (old owner, new owner).
    pub(crate) database_owner_changes: BTreeMap<String, (String, String)>,
    /// Per database, roles whose objects this apply moves, and to whom.
    pub(crate) reassigned: BTreeMap<String, (BTreeSet<String>, String)>,
}

/// The owner an object will have after this apply's ownership changes.
fn owner_after<'a>(owner: &'a str, moves: Option<&'a (BTreeSet<String>, String)>) -> &'a str {
    match moves {
        Some((from, to)) if from.contains(owner) => to,
        _ => owner,
    }
}

pub(crate) fn diff(
    desired: &DesiredGrants,
    live: &LiveGrants,
    context: &Context,
) -> Result<DomainDiff<Operation>, Errors> {
    let mut changes: Vec<(String, Planned<Operation>)> = Vec::new();
    let mut errors = Vec::new();
    for grant in desired.grants.values() {
        let scope = &grant.scope;
        let missing_role = std::iter::once(&scope.role)
            .chain(grant.default_for.iter())
            .find(|role| !context.known_roles.contains(*role));
        if let Some(role) = missing_role {
            errors.push(
                Error::config(format!(
                    "`{}` names role `{role}`, which neither exists nor is declared",
                    address(scope)
                ))
                .hint(format!("declare it as `[roles.{role}]`, or fix the name")),
            );
            continue;
        }
        let empty = LiveDatabaseGrants::default();
        let database = live.databases.get(&scope.database).unwrap_or(&empty);
        if !database.exists && !context.created_databases.contains(&scope.database) {
            errors.push(
                Error::config(format!(
                    "`{}` names database `{}`, which neither exists nor is declared",
                    address(scope),
                    scope.database
                ))
                .hint(format!(
                    "declare it as `[databases.{}]`, or fix the name",
                    scope.database
                )),
            );
            continue;
        }
        match scope_change(grant, database, context) {
            Ok(Some(change)) => changes.push((scope.database.clone(), change)),
            Ok(None) => {}
            Err(error) => errors.push(error),
        }
    }
    if !errors.is_empty() {
        return Err(Errors::new(errors));
    }
    // Stable: scopes keep their order within a database.
    changes.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(DomainDiff {
        changes: changes.into_iter().map(|(_, c)| c).collect(),
        ..DomainDiff::default()
    })
}

fn ordered(on: ObjectKind, set: &BTreeSet<Privilege>) -> Vec<Privilege> {
    let mut list: Vec<Privilege> = valid(on)
        .iter()
        .filter(|p| set.contains(*p))
        .cloned()
        .collect();
    list.extend(set.iter().filter(|p| !valid(on).contains(p)).cloned());
    list
}

fn names(list: &[Privilege]) -> Value {
    Value::List(
        list.iter()
            .map(|p| p.sql().to_string())
            .collect::<Vec<_>>()
            .into(),
    )
}

struct Builder<'a> {
    grant: &'a DesiredGrant,
    attributes: Vec<AttributeChange>,
    statements: Vec<Statement>,
    any_before: bool,
    summary: Vec<String>,
    /// The declared privileges and the empty list, as shared values.
    after: Option<Value>,
    empty: Option<Value>,
}

/// `12400` as `12,400`.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

impl Builder<'_> {
    /// Past [`SUMMARY_AT`] objects, lines that count them by what changes
    /// ("12,400 tables lack SELECT") stand for the list in text.
    fn summarize(&mut self, noun: &str) {
        if self.attributes.len() <= SUMMARY_AT {
            return;
        }
        let want: BTreeSet<String> = self
            .grant
            .privileges
            .iter()
            .map(|p| p.sql().to_string())
            .collect();
        let mut groups: BTreeMap<(Vec<String>, Vec<String>), usize> = BTreeMap::new();
        for attribute in &self.attributes {
            let have: BTreeSet<String> = match &attribute.before {
                Some(Value::List(list)) => list.iter().cloned().collect(),
                _ => BTreeSet::new(),
            };
            let lack = want.difference(&have).cloned().collect();
            let extra = have.difference(&want).cloned().collect();
            *groups.entry((lack, extra)).or_default() += 1;
        }
        let mut lines: Vec<(usize, String)> = groups
            .into_iter()
            .map(|((lack, extra), n)| {
                let what = match (lack.is_empty(), extra.is_empty()) {
                    (false, true) => format!("lack {}", lack.join(", ")),
                    (true, false) => format!("also hold {}", extra.join(", ")),
                    _ => format!(
                        "lack {} and also hold {}",
                        lack.join(", "),
                        extra.join(", ")
                    ),
                };
                (n, format!("{} {noun} {what}", thousands(n)))
            })
            .collect();
        lines.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
        self.summary = lines.into_iter().map(|(_, line)| line).collect();
    }

    /// Compares one object's privileges and records what must change.
    fn object(&mut self, name: &str, target: Target, have: &BTreeSet<Privilege>) {
        self.object_covered(name.into(), target, have, (false, false));
    }

    /// [`Builder::object`], without the grant or the revoke one statement
    /// over the whole schema makes (`covered`: grant, revoke).
    fn object_covered(
        &mut self,
        name: std::sync::Arc<str>,
        target: Target,
        have: &BTreeSet<Privilege>,
        covered: (bool, bool),
    ) {
        let want = &self.grant.privileges;
        let on = self.grant.scope.on;
        if !have.is_empty() {
            self.any_before = true;
        }
        if have == want {
            return;
        }
        let role = &self.grant.scope.role;
        let (grant, revoke) = needs(have, want);
        if grant && !covered.0 {
            let missing: BTreeSet<Privilege> = want.difference(have).cloned().collect();
            self.statements.push(Statement {
                verb: Verb::Grant,
                privileges: ordered(on, &missing),
                target: target.clone(),
                role: role.clone(),
            });
        }
        if revoke && !covered.1 {
            let extra: BTreeSet<Privilege> = have.difference(want).cloned().collect();
            self.statements.push(Statement {
                verb: Verb::Revoke,
                privileges: ordered(on, &extra),
                target,
                role: role.clone(),
            });
        }
        // The declared list is one shared value, however many objects.
        let after = self
            .after
            .get_or_insert_with(|| names(&ordered(on, want)))
            .clone();
        let before = if have.is_empty() {
            self.empty.get_or_insert_with(|| names(&[])).clone()
        } else {
            names(&ordered(on, have))
        };
        self.attributes
            .push(AttributeChange::shared(name, Some(before), Some(after)));
    }
}

/// Whether `have` lacks something of `want`, and holds something more.
fn needs(have: &BTreeSet<Privilege>, want: &BTreeSet<Privilege>) -> (bool, bool) {
    (
        want.iter().any(|p| !have.contains(p)),
        have.iter().any(|p| !want.contains(p)),
    )
}

/// Objects a scope changes past which the text shows a summary.
const SUMMARY_AT: usize = 20;

/// The share of a scope's objects (1 in N) that must need a change before
/// one statement over the whole schema replaces one per object.
const WHOLE_SCHEMA_SHARE: usize = 8;

/// Whether one statement over the whole schema (`ON ALL ... IN SCHEMA`)
/// replaces the grants, and the revokes, one per object, where it does
/// exactly what they do: tables and sequences only (`ALL FUNCTIONS` also
/// takes aggregates and window functions, outside the scope); many objects
/// needing it ([`WHOLE_SCHEMA_SHARE`]); a grant gives the declared
/// privileges, which every object in the scope already holds or gets; a
/// revoke only where no object is, or will be, the role's own (it would
/// take an owner's rights).
fn whole_schema(
    on: ObjectKind,
    (grants, revokes): (usize, usize),
    count: super::live::ScopeCount,
    role_gains_objects: bool,
) -> (bool, bool) {
    if !matches!(on, ObjectKind::Tables | ObjectKind::Sequences) {
        return (false, false);
    }
    let many = |n: usize| n >= 2 && n * WHOLE_SCHEMA_SHARE >= count.total;
    (
        many(grants),
        many(revokes) && count.owned == 0 && !role_gains_objects,
    )
}

fn scope_change(
    grant: &DesiredGrant,
    live: &LiveDatabaseGrants,
    context: &Context,
) -> Result<Option<Planned<Operation>>, Error> {
    let scope = &grant.scope;
    let mut builder = Builder {
        grant,
        attributes: Vec::new(),
        statements: Vec::new(),
        any_before: false,
        summary: Vec::new(),
        after: None,
        empty: None,
    };
    match &scope.schema {
        None => database_scope(&mut builder, live, context),
        Some(schema) => schema_scope(&mut builder, schema, live, context)?,
    }
    if builder.statements.is_empty() {
        return Ok(None);
    }
    let action = if builder.any_before {
        Action::Update
    } else {
        Action::Create
    };
    let mut change = Change::new(address(scope), action);
    change.attributes = builder.attributes;
    change.summary = builder.summary;
    Ok(Some(change.with(Operation {
        database: scope.database.clone(),
        statements: builder.statements,
    })))
}

/// A database-level scope. A new owner takes over every privilege the old
/// one held.
fn database_scope(builder: &mut Builder<'_>, live: &LiveDatabaseGrants, context: &Context) {
    let scope = &builder.grant.scope;
    let role = &scope.role;
    let have: BTreeSet<Privilege> = match context.database_owner_changes.get(&scope.database) {
        Some((old, _)) if old == role => BTreeSet::new(),
        Some((old, new)) if new == role => live
            .database_acl
            .get(role)
            .into_iter()
            .chain(live.database_acl.get(old))
            .flatten()
            .cloned()
            .collect(),
        _ => live.database_acl.get(role).cloned().unwrap_or_default(),
    };
    let target = Target::Database(scope.database.clone());
    builder.object("privileges", target, &have);
}

/// Every object of the scope's kind in `schema`: one statement over the
/// whole schema where that does exactly the same, else one per object.
fn objects_in_schema(
    builder: &mut Builder<'_>,
    schema: &str,
    live: &LiveDatabaseGrants,
    moves: Option<&(BTreeSet<String>, String)>,
) {
    let role = builder.grant.scope.role.clone();
    let on = builder.grant.scope.on;
    let count = live
        .counts
        .get(&(role.clone(), schema.to_string(), on))
        .copied()
        .unwrap_or_default();
    builder.any_before |= count.with_any > 0;
    let in_scope = || {
        live.objects
            .iter()
            .filter(|o| o.schema == schema && o.kind == on && owner_after(&o.owner, moves) != role)
    };
    // Ownership moving away takes the old owner's privileges with it.
    let held = |object: &'_ super::live::LiveObject| -> BTreeSet<Privilege> {
        if object.owner == role {
            BTreeSet::new()
        } else {
            object.acl.get(&role).cloned().unwrap_or_default()
        }
    };
    let want = &builder.grant.privileges;
    let (grants, revokes) = in_scope().fold((0, 0), |(g, r), o| {
        let (grant, revoke) = needs(&held(o), want);
        (g + usize::from(grant), r + usize::from(revoke))
    });
    let role_gains = moves.is_some_and(|(_, to)| *to == role);
    let covered = whole_schema(on, (grants, revokes), count, role_gains);
    // One attribute per object that changes: allocated once, at its size.
    builder.attributes.reserve(grants.max(revokes));
    let all = Target::AllInSchema {
        kind: on,
        schema: schema.to_string(),
    };
    if covered.0 {
        builder.statements.push(Statement {
            verb: Verb::Grant,
            privileges: ordered(on, want),
            target: all.clone(),
            role: role.clone(),
        });
    }
    if covered.1 {
        let extra: BTreeSet<Privilege> = in_scope()
            .flat_map(|o| held(o).into_iter().filter(|p| !want.contains(p)))
            .collect();
        builder.statements.push(Statement {
            verb: Verb::Revoke,
            privileges: ordered(on, &extra),
            target: all,
            role: role.clone(),
        });
    }
    for object in in_scope() {
        let target = Target::Object {
            kind: on,
            target: object.target.clone(),
        };
        builder.object_covered(object.display.clone(), target, &held(object), covered);
    }
}

/// A scope in a schema: the schema itself, or every object of a kind in it
/// (and its default privileges).
fn schema_scope(
    builder: &mut Builder<'_>,
    schema: &str,
    live: &LiveDatabaseGrants,
    context: &Context,
) -> Result<(), Error> {
    let scope = &builder.grant.scope;
    let role = scope.role.clone();
    let on = scope.on;
    let moves = context.reassigned.get(&scope.database);
    let schema_live = live.schemas.get(schema);
    // A database created by this apply starts with only `public`.
    let assumed = schema == NEW_DATABASE_SCHEMA && !live.exists;
    if schema_live.is_none() && !assumed {
        return Err(Error::config(format!(
            "`{}`: schema `{schema}` does not exist in database `{}`",
            address(scope),
            scope.database
        ))
        .hint("create the schema first (for example in a migration); dbops manages privileges, not schemas"));
    }
    if on == ObjectKind::Schema {
        // An owner's entries move with the ownership, like a database's.
        let have: BTreeSet<Privilege> = match schema_live {
            None => BTreeSet::new(),
            Some(s) if s.owner == role && owner_after(&s.owner, moves) != role => BTreeSet::new(),
            Some(s) if s.owner != role && owner_after(&s.owner, moves) == role => s
                .acl
                .get(&role)
                .into_iter()
                .chain(s.acl.get(&s.owner))
                .flatten()
                .cloned()
                .collect(),
            Some(s) => s.acl.get(&role).cloned().unwrap_or_default(),
        };
        builder.object("privileges", Target::Schema(schema.to_string()), &have);
        return Ok(());
    }
    objects_in_schema(builder, schema, live, moves);
    builder.summarize(noun(on));
    let none = BTreeSet::new();
    if let Some(creator) = builder.grant.default_for.clone() {
        let have = live
            .default_acl(&creator, schema, on)
            .and_then(|acl| acl.get(&role))
            .unwrap_or(&none);
        let target = Target::Defaults {
            creator: creator.clone(),
            schema: schema.to_string(),
            kind: on,
        };
        builder.object(
            &format!("default for objects created by {creator}"),
            target,
            have,
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domains::grants::live::{LiveObject, LiveSchema};

    fn privileges(list: &[Privilege]) -> BTreeSet<Privilege> {
        list.iter().cloned().collect()
    }

    fn grant(on: ObjectKind, list: &[Privilege], default_for: Option<&str>) -> DesiredGrant {
        DesiredGrant {
            scope: Scope {
                role: "app_user".into(),
                database: "app".into(),
                schema: (on != ObjectKind::Database).then(|| "public".into()),
                on,
            },
            privileges: privileges(list),
            default_for: default_for.map(str::to_string),
        }
    }

    fn acl(role: &str, list: &[Privilege]) -> BTreeMap<String, BTreeSet<Privilege>> {
        BTreeMap::from([(role.to_string(), privileges(list))])
    }

    fn sql(planned: &Planned<Operation>) -> Vec<String> {
        planned
            .operation
            .statements
            .iter()
            .map(Statement::sql)
            .collect()
    }

    use Privilege::*;

    fn context() -> Context {
        Context {
            known_roles: ["app_user", "migrator"].map(String::from).into(),
            ..Context::default()
        }
    }

    #[test]
    fn tables_get_missing_privileges_and_lose_extra_ones() {
        let mut live = LiveDatabaseGrants {
            exists: true,
            ..Default::default()
        };
        live.schemas.insert(
            "public".into(),
            LiveSchema {
                owner: "pg_database_owner".into(),
                acl: BTreeMap::new(),
            },
        );
        let table = |name: &str, owner: &str, list: &[Privilege]| LiveObject {
            schema: "public".into(),
            kind: ObjectKind::Tables,
            display: format!("public.{name}").into(),
            target: format!("public.{name}"),
            owner: owner.into(),
            acl: acl("app_user", list),
        };
        live.objects = vec![
            table("done", "migrator", &[Select, Insert]),
            table("extra", "migrator", &[Select, Insert, Truncate]),
            table("missing", "migrator", &[]),
            table(
                "owned",
                "app_user",
                &[Select, Insert, Update, Delete, Truncate],
            ),
        ];
        let change = scope_change(
            &grant(ObjectKind::Tables, &[Select, Insert], Some("migrator")),
            &live,
            &context(),
        )
        .unwrap()
        .unwrap();
        assert_eq!(
            change.change.address.to_string(),
            "postgres.grant.app_user.app.public.tables"
        );
        assert_eq!(change.change.action, Action::Update);
        assert_eq!(
            sql(&change),
            vec![
                "REVOKE TRUNCATE ON TABLE public.extra FROM \"app_user\"",
                "GRANT SELECT, INSERT ON TABLE public.missing TO \"app_user\"",
                "ALTER DEFAULT PRIVILEGES FOR ROLE \"migrator\" IN SCHEMA \"public\" GRANT SELECT, INSERT ON TABLES TO \"app_user\"",
            ]
        );
        let names: Vec<&str> = change.change.attributes.iter().map(|a| &*a.name).collect();
        assert_eq!(
            names,
            vec![
                "public.extra",
                "public.missing",
                "default for objects created by migrator"
            ]
        );
    }

    /// `n` tables in `public`, owned by `migrator`, `app_user` holding `have`
    /// on the first `differ` (the exceptions the server ships).
    fn many_tables(total: usize, differ: usize, have: &[Privilege]) -> LiveDatabaseGrants {
        use crate::domains::grants::live::ScopeCount;
        let mut live = LiveDatabaseGrants {
            exists: true,
            ..Default::default()
        };
        live.schemas.insert(
            "public".into(),
            LiveSchema {
                owner: "migrator".into(),
                acl: BTreeMap::new(),
            },
        );
        for i in 0..differ {
            live.objects.push(LiveObject {
                schema: "public".into(),
                kind: ObjectKind::Tables,
                display: format!("public.t{i:05}").into(),
                target: format!("public.t{i:05}"),
                owner: "migrator".into(),
                acl: acl("app_user", have),
            });
        }
        live.counts.insert(
            ("app_user".into(), "public".into(), ObjectKind::Tables),
            ScopeCount {
                total,
                with_any: total - differ,
                owned: 0,
            },
        );
        live
    }

    #[test]
    fn many_tables_lacking_one_grant_take_one_statement_and_a_summary() {
        let want = grant(ObjectKind::Tables, &[Select, Insert], None);
        let change = scope_change(&want, &many_tables(1000, 400, &[Insert]), &context())
            .unwrap()
            .unwrap();
        assert_eq!(
            sql(&change),
            ["GRANT SELECT, INSERT ON ALL TABLES IN SCHEMA \"public\" TO \"app_user\""]
        );
        assert_eq!(change.change.attributes.len(), 400);
        assert_eq!(change.change.summary, ["400 tables lack SELECT"]);
        assert_eq!(change.change.action, Action::Update);
        // A few among many: one statement each, listed in full.
        let change = scope_change(&want, &many_tables(1000, 3, &[Insert]), &context())
            .unwrap()
            .unwrap();
        assert_eq!(sql(&change).len(), 3);
        assert!(change.change.summary.is_empty());
        // Extra privileges on many: one revoke, unless the role owns any.
        let change = scope_change(
            &want,
            &many_tables(1000, 300, &[Select, Insert, Truncate]),
            &context(),
        )
        .unwrap()
        .unwrap();
        assert_eq!(
            sql(&change),
            ["REVOKE TRUNCATE ON ALL TABLES IN SCHEMA \"public\" FROM \"app_user\""]
        );
        assert_eq!(change.change.summary, ["300 tables also hold TRUNCATE"]);
        let mut owned = many_tables(1000, 300, &[Select, Insert, Truncate]);
        owned.counts.values_mut().for_each(|c| c.owned = 1);
        assert_eq!(
            sql(&scope_change(&want, &owned, &context()).unwrap().unwrap()).len(),
            300
        );
        // Sequences too; functions never (`ALL FUNCTIONS` reaches aggregates).
        assert_eq!(thousands(12_400), "12,400");
        assert_eq!(thousands(999), "999");
    }

    #[test]
    fn a_matching_scope_is_no_change() {
        let live = LiveDatabaseGrants {
            exists: true,
            database_acl: acl("app_user", &[Connect, Temporary]),
            ..Default::default()
        };
        assert_eq!(
            scope_change(
                &grant(ObjectKind::Database, &[Connect, Temporary], None),
                &live,
                &context()
            )
            .unwrap(),
            None
        );
        let change = scope_change(
            &grant(ObjectKind::Database, &[Connect], None),
            &live,
            &context(),
        )
        .unwrap()
        .unwrap();
        assert_eq!(
            sql(&change),
            vec!["REVOKE TEMPORARY ON DATABASE \"app\" FROM \"app_user\""]
        );
    }

    #[test]
    fn a_missing_schema_is_an_error_and_a_new_database_has_public() {
        let live = LiveDatabaseGrants {
            exists: true,
            ..Default::default()
        };
        let error = scope_change(
            &grant(ObjectKind::Schema, &[Usage], None),
            &live,
            &context(),
        )
        .unwrap_err();
        assert!(error
            .message()
            .contains("schema `public` does not exist in database `app`"));
        let new = LiveDatabaseGrants::default();
        let change = scope_change(&grant(ObjectKind::Schema, &[Usage], None), &new, &context())
            .unwrap()
            .unwrap();
        assert_eq!(change.change.action, Action::Create);
    }

    #[test]
    fn a_schema_moving_away_from_the_role_takes_its_owner_privileges_along() {
        let mut live = LiveDatabaseGrants {
            exists: true,
            ..Default::default()
        };
        live.schemas.insert(
            "public".into(),
            LiveSchema {
                owner: "app_user".into(),
                acl: acl("app_user", &[Usage, Create]),
            },
        );
        let moves = BTreeMap::from([(
            "app".to_string(),
            (
                BTreeSet::from(["app_user".to_string()]),
                "migrator".to_string(),
            ),
        )]);
        let context = Context {
            reassigned: moves,
            ..context()
        };
        let change = scope_change(&grant(ObjectKind::Schema, &[Usage], None), &live, &context)
            .unwrap()
            .unwrap();
        assert_eq!(
            sql(&change),
            vec!["GRANT USAGE ON SCHEMA \"public\" TO \"app_user\""]
        );
        // The new owner inherits the old owner's entries: nothing to grant.
        let mut migrator = grant(ObjectKind::Schema, &[Usage, Create], None);
        migrator.scope.role = "migrator".into();
        assert_eq!(scope_change(&migrator, &live, &context).unwrap(), None);
    }

    /// The whole diff over several scopes, as a table: what the facts of the
    /// role and ownership domains change.
    #[test]
    fn the_grants_diff_table() {
        use crate::plan::outline;
        let exists = |acl: BTreeMap<String, BTreeSet<Privilege>>| LiveDatabaseGrants {
            exists: true,
            database_acl: acl,
            ..Default::default()
        };
        let live = |database: Option<LiveDatabaseGrants>| LiveGrants {
            databases: database
                .map(|d| BTreeMap::from([("app".to_string(), d)]))
                .unwrap_or_default(),
            statements: 1,
        };
        let desired = |list: &[Privilege]| DesiredGrants {
            grants: BTreeMap::from([{
                let g = grant(ObjectKind::Database, list, None);
                (g.scope.clone(), g)
            }]),
        };
        let created = Context {
            created_databases: BTreeSet::from(["app".to_string()]),
            ..context()
        };
        let owner_moves = Context {
            database_owner_changes: BTreeMap::from([(
                "app".to_string(),
                ("app_user".to_string(), "migrator".to_string()),
            )]),
            ..context()
        };
        let cases: Vec<(&str, DesiredGrants, LiveGrants, Context, Vec<&str>)> = vec![
            (
                "a missing privilege",
                desired(&[Connect, Temporary]),
                live(Some(exists(acl("app_user", &[Connect])))),
                context(),
                vec!["~ postgres.grant.app_user.app.database"],
            ),
            (
                "matching privileges",
                desired(&[Connect]),
                live(Some(exists(acl("app_user", &[Connect])))),
                context(),
                vec![],
            ),
            (
                "a database the role domain creates in this apply",
                desired(&[Connect]),
                live(None),
                created,
                vec!["+ postgres.grant.app_user.app.database"],
            ),
            (
                "an owner moving away loses what it held as owner",
                desired(&[Connect]),
                live(Some(exists(acl("app_user", &[Connect, Create, Temporary])))),
                owner_moves,
                vec!["+ postgres.grant.app_user.app.database"],
            ),
            (
                "an extra privilege is revoked",
                desired(&[Connect]),
                live(Some(exists(acl("app_user", &[Connect, Create])))),
                context(),
                vec!["~ postgres.grant.app_user.app.database"],
            ),
        ];
        for (name, desired, live, context, expected) in cases {
            let plan = diff(&desired, &live, &context).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(outline(&plan), expected, "{name}");
        }
        // A role or database that neither exists nor is declared is an error.
        let errors = diff(&desired(&[Connect]), &live(None), &context())
            .unwrap_err()
            .to_string();
        assert!(
            errors.contains("names database `app`, which neither exists nor is declared"),
            "{errors}"
        );
        let unknown = Context {
            known_roles: BTreeSet::new(),
            ..context()
        };
        let errors = diff(&desired(&[Connect]), &live(None), &unknown)
            .unwrap_err()
            .to_string();
        assert!(errors.contains("names role `app_user`"), "{errors}");
    }
}

//! Reading the posture (for `drift`): one statement on the admin session for the roles,
//! memberships, `password_encryption` and the HBA file's rules (falling
//! back to `pg_roles` without passwords, and without the HBA rules, for an
//! admin that may not read `pg_authid` or `pg_hba_file_rules`), and one per
//! managed database for its `public` schema's privileges.

use serde::Deserialize;
use tokio_postgres::error::SqlState;

use super::state::{DesiredSecurity, HbaLine, LiveSecurity, RolePosture};
use crate::error::{Error, Result};
use crate::pg::connect::server_error;
use crate::pg::databases::Databases;

const ROLES: &str = r#"
SELECT json_build_object(
  'roles', coalesce((SELECT json_agg(json_build_object(
      'name', a.rolname, 'bootstrap', a.oid = 10, 'superuser', a.rolsuper, 'bypass_rls', a.rolbypassrls,
      'createrole', a.rolcreaterole, 'replication', a.rolreplication, 'login', a.rolcanlogin,
      'password', __PASSWORD__))
    FROM __ROLES__ a WHERE a.rolname NOT LIKE 'pg\_%'), '[]'),
  'memberships', coalesce((SELECT json_agg(json_build_array(m.rolname, g.rolname))
    FROM pg_auth_members am JOIN __ROLES__ m ON m.oid = am.member JOIN __ROLES__ g ON g.oid = am.roleid), '[]'),
  'password_encryption', current_setting('password_encryption'),
  'hba', __HBA__
)::text
"#;

const PASSWORD: &str = "CASE WHEN a.rolpassword IS NULL THEN 'none' \
     WHEN a.rolpassword LIKE 'SCRAM-SHA-256$%' THEN 'scram' \
     WHEN a.rolpassword LIKE 'md5%' AND length(a.rolpassword) = 35 THEN 'md5' ELSE 'plain' END";

const HBA: &str = "(SELECT coalesce(json_agg(json_build_object('line', line_number, 'type', type, \
     'database', database, 'user_name', user_name, 'address', address, 'auth_method', auth_method) \
     ORDER BY line_number), '[]') FROM pg_hba_file_rules WHERE error IS NULL)";

const PUBLIC_CREATE: &str = "SELECT EXISTS (SELECT 1 FROM pg_namespace n, \
     aclexplode(coalesce(n.nspacl, acldefault('n', n.nspowner))) x \
     WHERE n.nspname = 'public' AND x.grantee = 0 AND x.privilege_type = 'CREATE')";

#[derive(Deserialize)]
struct Row {
    roles: Vec<RolePosture>,
    memberships: Vec<(String, String)>,
    password_encryption: String,
    hba: Option<Vec<HbaLine>>,
}

pub(crate) async fn observe(
    databases: &Databases<'_>,
    desired: &DesiredSecurity,
) -> Result<LiveSecurity> {
    let client = databases.client;
    let mut live = LiveSecurity::default();
    let full = ROLES
        .replace("__ROLES__", "pg_authid")
        .replace("__PASSWORD__", PASSWORD)
        .replace("__HBA__", HBA);
    let text: String = match client.query_one(full.as_str(), &[]).await {
        Ok(row) => row.get(0),
        Err(e) if e.code() == Some(&SqlState::INSUFFICIENT_PRIVILEGE) => {
            live.skipped.push(
                "stored passwords and the HBA file's rules (`pg_authid` and `pg_hba_file_rules` need a superuser admin)".into(),
            );
            let fallback = ROLES
                .replace("__ROLES__", "pg_roles")
                .replace("__PASSWORD__", "'unknown'")
                .replace("__HBA__", "NULL");
            client
                .query_one(fallback.as_str(), &[])
                .await
                .map_err(|e| server_error("cannot read the cluster's roles", &e))?
                .get(0)
        }
        Err(e) => return Err(server_error("cannot read the cluster's roles", &e)),
    };
    let row: Row = serde_json::from_str(&text)
        .map_err(|e| Error::internal(format!("unexpected security document: {e}")))?;
    live.roles = row.roles.into_iter().map(|r| (r.name.clone(), r)).collect();
    live.memberships = row.memberships.into_iter().collect();
    live.password_encryption = row.password_encryption;
    live.hba = row.hba;
    for database in &desired.databases {
        // Not there yet: created by apply, and PostgreSQL 15 creates `public`
        // without CREATE for PUBLIC.
        let Some(session) = databases.session(database).await? else {
            continue;
        };
        let open: bool = session
            .query_one(PUBLIC_CREATE, &[])
            .await
            .map_err(|e| {
                server_error(
                    format!("cannot read the `public` schema of `{database}`"),
                    &e,
                )
            })?
            .get(0);
        if open {
            live.public_create.insert(database.clone());
        }
    }
    Ok(live)
}

//! The standard deployment the tests converge: an app role (RLS) and a service
//! role (BYPASSRLS) from two DSNs, on a fresh server, with hostile passwords.

use super::{hostile_password, Dbops, PgServer};

pub(crate) const APP_USER: &str = "app_user";
pub(crate) const SERVICE_USER: &str = "app_service";
pub(crate) const DATABASE: &str = "app";

pub(crate) fn standard_config() -> String {
    r#"[postgres]
admin = { env = "DATABASE_ROOT_URL" }

[roles.app_user]
dsn = { env = "DATABASE_URL" }
bypass_rls = false
connection_limit = 50

[roles.app_service]
dsn = { env = "DATABASE_SERVICE_URL" }
bypass_rls = true
"#
    .to_string()
}

pub(crate) struct Deployment {
    pub(crate) server: PgServer,
    pub(crate) dbops: Dbops,
    pub(crate) app_password: String,
    pub(crate) service_password: String,
}

impl Deployment {
    pub(crate) fn new() -> Self {
        Self::with_config(&standard_config())
    }

    pub(crate) fn with_config(config: &str) -> Self {
        let server = PgServer::start();
        let app_password = hostile_password("app");
        let service_password = hostile_password("svc");
        let dbops = Dbops::new(config)
            .env("DATABASE_ROOT_URL", &server.admin_url())
            .env(
                "DATABASE_URL",
                &server.url(APP_USER, &app_password, DATABASE),
            )
            .env(
                "DATABASE_SERVICE_URL",
                &server.url(SERVICE_USER, &service_password, DATABASE),
            );
        Self {
            server,
            dbops,
            app_password,
            service_password,
        }
    }

    pub(crate) fn set_app_password(&mut self, password: &str) {
        self.app_password = password.to_string();
        let url = self.server.url(APP_USER, password, DATABASE);
        self.dbops.set_env("DATABASE_URL", &url);
    }

    /// `apply --auto-approve`, expected to succeed.
    pub(crate) fn apply(&self) -> super::Output {
        let out = self.dbops.run(&["apply", "--auto-approve"]);
        out.expect_code(0);
        out
    }

    /// `plan --detailed-exitcode`.
    pub(crate) fn plan(&self) -> super::Output {
        self.dbops.run(&["plan", "--detailed-exitcode"])
    }

    #[track_caller]
    pub(crate) fn assert_converged(&self) {
        let plan = self.plan();
        plan.expect_code(0);
        assert!(plan.stdout.contains("No changes."), "{}", plan.stdout);
        self.dbops.run(&["drift"]).expect_code(0);
    }
}

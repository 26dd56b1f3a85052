//! Command-line arguments (clap) and their conversion into checked settings.
//! Raw flags never travel past [`Arguments::into_settings`].

use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand};

use crate::events::LogFormat;
use crate::render::Format;

#[derive(Debug, Parser)]
#[command(
    name = "dbops",
    version,
    about = "Converge a self-hosted PostgreSQL deployment on the state declared in dbops.toml",
    after_help = "Exit codes: 0 success (no changes, no drift); 1 error; 2 changes present \
                  (`plan --detailed-exitcode`) or drift (`drift`); 64 command-line usage error."
)]
pub(crate) struct Arguments {
    /// The desired-state file.
    #[arg(
        short = 'f',
        long = "file",
        env = "DBOPS_FILE",
        default_value = "dbops.toml",
        global = true
    )]
    pub(crate) file: PathBuf,
    /// Output format for plans and reports on stdout.
    #[arg(long, value_enum, default_value = "text", global = true)]
    pub(crate) format: Format,
    /// Disable colors (also when `NO_COLOR` is set).
    #[arg(long, global = true)]
    pub(crate) no_color: bool,
    /// Format of the events written to stderr while applying.
    #[arg(long, value_enum, default_value = "text", global = true)]
    pub(crate) log_format: LogFormat,
    /// Give up connecting to a server after this long.
    #[arg(long, default_value = "10s", value_parser = parse_duration, global = true)]
    pub(crate) connect_timeout: Duration,
    /// How long one of dbops's statements waits for a lock another session
    /// holds (PostgreSQL's `lock_timeout`) before it fails naming that session.
    #[arg(long, default_value = "10s", value_parser = parse_duration, global = true)]
    pub(crate) statement_lock_timeout: Duration,
    /// Work on this environment of the file (`[environments.NAME]`).
    /// Default: `DBOPS_ENVIRONMENT`, unless `--all-environments` is given.
    #[arg(
        long,
        value_name = "NAME",
        global = true,
        conflicts_with = "all_environments"
    )]
    pub(crate) environment: Option<String>,
    /// Run on every environment of the file, each reported in its own
    /// section (`plan`, `drift`, `validate`, `dump`, `restore-test`; `apply`
    /// follows `[rollout] order`).
    #[arg(long, global = true)]
    pub(crate) all_environments: bool,
    /// With `--all-environments`: how many environments run at once.
    #[arg(long, value_name = "N", default_value = "2", global = true,
          value_parser = clap::value_parser!(u16).range(1..=64))]
    pub(crate) parallel: u16,
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Clone, Subcommand)]
pub(crate) enum Command {
    /// Parse the file, resolve references and lint; connects to nothing.
    Validate {
        /// List every environment variable and file the file references
        /// (each with the key that references it and whether it is there),
        /// without resolving anything else; exit 1 when one is missing.
        #[arg(long)]
        list_secrets: bool,
    },
    /// Observe live state and print what apply would change; changes nothing.
    Plan {
        /// Exit 0 when there are no changes, 2 when there are, 1 on error.
        #[arg(long)]
        detailed_exitcode: bool,
        /// Exit 2 also when declared settings are written but not in force
        /// (they wait for a restart): "merged but not in force" in a PR check.
        #[arg(long)]
        fail_on_pending: bool,
        /// Save the plan to apply later with `dbops apply FILE` (holds no secret).
        #[arg(long, value_name = "PLANFILE")]
        out: Option<PathBuf>,
        /// Plan only this domain (the first word of the addresses: `postgres`,
        /// `pooler`, `bucket`, `backup`, `dumps`); the others are not read.
        /// Repeatable. For a runner that cannot see the database host's files.
        #[arg(long = "target", value_name = "DOMAIN", value_parser = targets())]
        target: Vec<String>,
    },
    /// Converge live state on the file: observe, plan, then apply.
    Apply {
        /// Apply without asking; needed when stdin is not a terminal.
        #[arg(long)]
        auto_approve: bool,
        /// How long to wait for another apply's lock.
        #[arg(long, default_value = "60s", value_parser = parse_duration)]
        lock_timeout: Duration,
        /// Run `[server] restart_command` when settings wait for a PostgreSQL restart.
        #[arg(long)]
        allow_restart: bool,
        /// How long the restart command and the server's return may take.
        #[arg(long, default_value = "120s", value_parser = parse_duration)]
        restart_timeout: Duration,
        /// A setting changed by hand (not in the file) that waits for the same
        /// restart: accept that the restart puts it in force. Repeatable.
        #[arg(long, value_name = "NAME")]
        accept_pending_restart: Vec<String>,
        /// Apply only this domain (the first word of the addresses: `postgres`,
        /// `pooler`, `bucket`, `backup`, `dumps`); the others are not read.
        /// Repeatable. For a runner that cannot see the database host's files.
        #[arg(long = "target", value_name = "DOMAIN", value_parser = targets())]
        target: Vec<String>,
        /// Write the run's state as Prometheus metrics to this file (for
        /// node_exporter's textfile collector; replaced atomically).
        #[arg(long, value_name = "PATH")]
        metrics_file: Option<PathBuf>,
        /// With `--all-environments`: start at this stage of `[rollout]
        /// order` (1-based), the earlier ones being applied already.
        #[arg(long, value_name = "N", requires = "all_environments",
              value_parser = clap::value_parser!(u32).range(1..))]
        from_stage: Option<u32>,
        /// A plan saved by `dbops plan --out`; refused if live state or the file changed since.
        planfile: Option<PathBuf>,
    },
    /// Read-only check of live state against the file; exit 2 when it drifted.
    Drift {
        /// What exits 2: `drift` (configuration changes and pending
        /// restarts), `health` (health findings: backups, archiving, drills),
        /// `security` (security findings: row-level security) or `all`.
        /// Repeatable. The report always shows everything.
        #[arg(long, value_enum, default_value = "all")]
        fail_on: Vec<FailOn>,
        /// Check only this domain (the first word of the addresses: `postgres`,
        /// `pooler`, `bucket`, `backup`, `dumps`); the others are not read.
        /// Repeatable. For a runner that cannot see the database host's files.
        #[arg(long = "target", value_name = "DOMAIN", value_parser = targets())]
        target: Vec<String>,
        /// Also read back what is costly to check: the newest dump's SHA-256.
        #[arg(long)]
        deep: bool,
        /// Write the run's state as Prometheus metrics to this file (for
        /// node_exporter's textfile collector; replaced atomically).
        #[arg(long, value_name = "PATH")]
        metrics_file: Option<PathBuf>,
    },
    /// Write a starting dbops.toml from the live cluster (`DATABASE_ROOT_URL`);
    /// read-only, never reads a password.
    Import {
        /// Write here instead of standard output; refused if it exists.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// Replace an existing `--out` file.
        #[arg(long)]
        force: bool,
        /// Import only roles matching this pattern (`*`, `?`). Repeatable.
        #[arg(long = "roles", value_name = "GLOB")]
        roles: Vec<String>,
        /// Import only this database. Repeatable. Default: every database but
        /// `postgres` and the templates.
        #[arg(long = "database", value_name = "NAME")]
        databases: Vec<String>,
        /// Also import `postgresql.auto.conf` as `[server.settings]`.
        #[arg(long)]
        settings: bool,
    },
    /// Restore a backup into a throwaway server, run `[[restore_test.checks]]`
    /// and record evidence in the bucket; exit 1 when it fails.
    #[command(group(clap::ArgGroup::new("seeded").args(["pick", "target_time"]).multiple(true)))]
    RestoreTest {
        /// Recover to this point in time (RFC 3339 with an offset, e.g.
        /// `2026-11-23T10:41:00Z`), or `random`: a whole second drawn between
        /// the restored backup's end and the newest archived commit (the
        /// backup picked at random too unless `--pick` says). Default:
        /// replay everything archived.
        #[arg(long, value_name = "TIME")]
        target_time: Option<String>,
        /// `immediate`: stop as soon as the backup is consistent; `latest`:
        /// replay everything archived (the default).
        #[arg(long, value_name = "TARGET")]
        target: Option<String>,
        /// Restore this backup (a pgBackRest label or a WAL-G backup name)
        /// instead of the newest that ended before the target.
        #[arg(long, value_name = "NAME")]
        backup: Option<String>,
        /// Which retained full backup to restore: `newest` (the default),
        /// `oldest` (replays the whole window), `random`, or `age=7d` (the
        /// newest at least that old). Not with `--backup`.
        #[arg(long, value_name = "PICK", conflicts_with = "backup")]
        pick: Option<String>,
        /// The seed of `--pick random` and `--target-time random` (recorded
        /// in the evidence, so a drill can be repeated). Default: a fresh one.
        #[arg(long, value_name = "N", requires = "seeded")]
        seed: Option<u64>,
        /// Restore from pgBackRest repository N (`[[backup.repositories]]`
        /// are 2, 3...; 1 is `[backup]`'s bucket). Default: 1.
        #[arg(long, value_name = "N")]
        repository: Option<u32>,
        /// Leave the restored server running for a look (prints how to reach and delete it).
        #[arg(long)]
        keep: bool,
        /// What to restore: `physical` (the base backups and WAL of
        /// `[backup]`) or `dumps` (the newest set of each database of
        /// `[dumps]`). Default: `[restore_test] source`, else `physical`
        /// when `[backup]` is declared, else `dumps`.
        #[arg(long, value_name = "SOURCE")]
        source: Option<crate::drill::settings::Source>,
        /// Write the run's state as Prometheus metrics to this file (for
        /// node_exporter's textfile collector; replaced atomically).
        #[arg(long, value_name = "PATH")]
        metrics_file: Option<PathBuf>,
    },
    /// Take one dump set per database `[dumps]` declares, now (pg_dump,
    /// streamed through SHA-256; the manifest last); exit 1 when any failed.
    Dump {
        /// Dump only this database (one of `[dumps] databases`). Repeatable.
        #[arg(long = "database", value_name = "NAME")]
        databases: Vec<String>,
        /// Write the run's state as Prometheus metrics to this file (for
        /// node_exporter's textfile collector; replaced atomically).
        #[arg(long, value_name = "PATH")]
        metrics_file: Option<PathBuf>,
    },
    /// Render the scheduled jobs (drift nightly, dumps, restore tests) for
    /// a runner: Kubernetes CronJobs, systemd units or crontab lines. Reads
    /// the file alone; connects to nothing.
    Schedule(ScheduleArgs),
    /// Print the JSON Schema of dbops.toml.
    Schema,
    /// Print a shell completion script: `source <(dbops completions bash)`.
    Completions {
        /// The shell to complete for.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff): `dbops man | man -l -`.
    Man,
}

/// `dbops schedule`'s options: the runner, and what it needs beyond the file.
#[derive(Debug, Clone, clap::Args)]
#[command(group(clap::ArgGroup::new("runner").args(["kubernetes", "systemd", "cron"]).required(true)))]
pub(crate) struct ScheduleArgs {
    /// Kubernetes CronJob manifests (YAML).
    #[arg(long)]
    pub(crate) kubernetes: bool,
    /// systemd service and timer units.
    #[arg(long)]
    pub(crate) systemd: bool,
    /// Crontab lines.
    #[arg(long)]
    pub(crate) cron: bool,
    /// The image to run (`--kubernetes`): the one the Dockerfile builds.
    #[arg(long, value_name = "IMAGE")]
    pub(crate) image: Option<String>,
    /// The Kubernetes Secret holding each referenced variable (key = its
    /// name) and file.
    #[arg(long, value_name = "NAME", default_value = "dbops-secrets")]
    pub(crate) secret: String,
    /// The Kubernetes ConfigMap holding the file (key `dbops.toml`).
    #[arg(long, value_name = "NAME", default_value = "dbops-config")]
    pub(crate) config_map: String,
    /// The restore test's `emptyDir` size limit (`--kubernetes`), e.g. `50Gi`.
    #[arg(long, value_name = "SIZE")]
    pub(crate) restore_volume_size: Option<String>,
    /// dbops's absolute path (`--systemd`, `--cron`).
    #[arg(long, value_name = "PATH", default_value = "/usr/local/bin/dbops")]
    pub(crate) binary: String,
    /// The file of `NAME=value` lines the referenced variables are read
    /// from (`--systemd`, `--cron`).
    #[arg(long, value_name = "PATH", default_value = "/etc/dbops/dbops.env")]
    pub(crate) env_file: String,
    /// node_exporter's textfile directory: each job writes its metrics
    /// file there (`--systemd`, `--cron`).
    #[arg(long, value_name = "DIR")]
    pub(crate) metrics_dir: Option<String>,
    /// The user the systemd services run as.
    #[arg(long, value_name = "USER", default_value = "dbops")]
    pub(crate) user: String,
    /// Write the files into this directory instead of standard output.
    #[arg(long, value_name = "DIR")]
    pub(crate) out: Option<PathBuf>,
}

/// The runner `dbops schedule` writes for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Runner {
    Kubernetes,
    Systemd,
    Cron,
}

impl ScheduleArgs {
    /// The runner chosen (clap makes exactly one flag required).
    pub(crate) fn runner(&self) -> Runner {
        if self.kubernetes {
            Runner::Kubernetes
        } else if self.systemd {
            Runner::Systemd
        } else {
            Runner::Cron
        }
    }
}

/// Which of drift's answers make it exit 2: the classes, defined once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum FailOn {
    /// Configuration drift: changes and pending restarts.
    Drift,
    /// Health findings.
    Health,
    /// Security findings.
    Security,
    /// Any of them.
    All,
}

impl FailOn {
    /// Whether configuration drift makes drift exit 2.
    pub(crate) fn configuration(self) -> bool {
        matches!(self, FailOn::Drift | FailOn::All)
    }

    /// Whether a finding of `class` makes drift exit 2.
    pub(crate) fn finding(self, class: crate::plan::FindingClass) -> bool {
        use crate::plan::FindingClass;
        match self {
            FailOn::All => true,
            FailOn::Drift => false,
            FailOn::Health => class == FindingClass::Health,
            FailOn::Security => class == FindingClass::Security,
        }
    }
}

impl Command {
    /// `--metrics-file`, for the commands that take it.
    pub(crate) fn metrics_file(&self) -> Option<&PathBuf> {
        match self {
            Command::Apply { metrics_file, .. }
            | Command::Drift { metrics_file, .. }
            | Command::RestoreTest { metrics_file, .. }
            | Command::Dump { metrics_file, .. } => metrics_file.as_ref(),
            _ => None,
        }
    }

    /// The subcommand as typed, for machine-readable output.
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Command::Validate { .. } => "validate",
            Command::Plan { .. } => "plan",
            Command::Apply { .. } => "apply",
            Command::Drift { .. } => "drift",
            Command::Import { .. } => "import",
            Command::RestoreTest { .. } => "restore-test",
            Command::Dump { .. } => "dump",
            Command::Schedule(_) => "schedule",
            Command::Schema => "schema",
            Command::Completions { .. } => "completions",
            Command::Man => "man",
        }
    }
}

/// The `--target` values: every domain's word, from the registry.
fn targets() -> clap::builder::PossibleValuesParser {
    clap::builder::PossibleValuesParser::new(crate::engine::registry::targets())
}

fn parse_duration(text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text)
        .map_err(|e| format!("`{text}` is not a duration ({e}); write e.g. `30s` or `2m`"))
}

/// Checked, resolved settings shared by every command.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub(crate) file: PathBuf,
    pub(crate) format: Format,
    pub(crate) color: bool,
    pub(crate) log_format: LogFormat,
    pub(crate) connect_timeout: Duration,
    pub(crate) statement_lock_timeout: Duration,
    /// `--environment NAME` (or `DBOPS_ENVIRONMENT`).
    pub(crate) environment: Option<String>,
    pub(crate) all_environments: bool,
    pub(crate) parallel: usize,
    /// The file as a run over every environment read it, once: each
    /// environment's command resolves from it instead of reading the file
    /// again (one snapshot for every environment, and no parse per run).
    pub(crate) snapshot: Option<Snapshot>,
}

/// The desired-state file read once, shared by every environment of a run.
#[derive(Clone)]
pub(crate) struct Snapshot(pub(crate) std::sync::Arc<crate::config::File>);

impl std::fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the text: a line may hold a secret.
        write!(f, "Snapshot({})", self.0.source.name)
    }
}

impl Arguments {
    pub(crate) fn into_settings(self) -> (Settings, Command) {
        let Arguments {
            file,
            format,
            no_color,
            log_format,
            connect_timeout,
            statement_lock_timeout,
            environment,
            all_environments,
            parallel,
            command,
        } = self;
        let no_color_env = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let color = !no_color && !no_color_env && console::colors_enabled();
        (
            Settings {
                file,
                format,
                color,
                log_format,
                connect_timeout,
                statement_lock_timeout,
                // `DBOPS_ENVIRONMENT` (a CI job's) gives way to an explicit
                // `--all-environments`; two explicit flags are a usage error.
                environment: environment
                    .or_else(|| {
                        (!all_environments)
                            .then(|| std::env::var("DBOPS_ENVIRONMENT").ok())
                            .flatten()
                    })
                    .filter(|e| !e.is_empty()),
                all_environments,
                parallel: usize::from(parallel),
                snapshot: None,
            },
            command,
        )
    }
}
